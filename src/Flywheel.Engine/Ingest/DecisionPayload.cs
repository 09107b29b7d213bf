using Flywheel.Core;

namespace Flywheel.Engine;

/// <summary>
/// A decision's context and actions as one UTF-8 JSON array, held while its reward window is open. One byte array
/// instead of an object graph of features keeps hundreds of thousands of open windows cheap for the garbage collector;
/// the learner parses it back when the window closes.
/// </summary>
internal static class DecisionPayload
{
    /// <summary>Shared by the slim records of open windows; never mutated.</summary>
    public static readonly Features NoFeatures = new();

    public static byte[] Serialize(Features context, IReadOnlyList<ActionCandidate> actions) => FlywheelJson.ToUtf8(w =>
    {
        w.WriteStartArray();
        context.WriteTo(w);
        foreach (var action in actions)
        {
            action.Features.WriteTo(w);
        }
        w.WriteEndArray();
    });

    /// <summary>The record with its features restored from <paramref name="payload"/>.</summary>
    public static DecisionRecord Restore(DecisionRecord slim, byte[] payload)
    {
        var items = FlywheelJson.Read<Features[]>(payload);
        var actions = new ActionCandidate[slim.Actions.Count];
        for (var i = 0; i < actions.Length; i++)
        {
            actions[i] = new ActionCandidate(slim.Actions[i].Id, items[i + 1]);
        }
        return slim with { Context = items[0], Actions = actions };
    }

    /// <summary>The record without its features, sharing one empty feature set.</summary>
    public static DecisionRecord Slim(DecisionRecord record) => record with
    {
        Context = NoFeatures,
        Actions = record.Actions.Select(a => new ActionCandidate(a.Id, NoFeatures)).ToArray(),
    };
}

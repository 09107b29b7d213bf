using System.Text.Json;

namespace Flywheel.Core;

/// <summary>
/// The JSON of one <see cref="LoggedDecision"/> (docs/estimators.md), one object a line in <c>.jsonl</c> files:
/// <c>{"decisionId", "context", "actions":[{"id","features"}], "chosenActionId", "probability", "reward",
/// "targetProbabilities"?: {id: p}, "rewardEstimates"?: {id: q̂}}</c>. Features use the wire format of
/// <see cref="Features"/>. Reading checks types and then <see cref="LoggedDecision.Validate"/>; fields this format does
/// not define are ignored, so logs that carry more (a time, a user, a model version) can be read as they are.
/// </summary>
public static class LoggedDecisionJson
{
    /// <summary>
    /// Reads one logged decision. Throws a <see cref="FlywheelValidationException"/> naming the field for a missing
    /// field, a wrong type, a duplicate property or any rule of <see cref="LoggedDecision.Validate"/>.
    /// </summary>
    /// <param name="element">The JSON object.</param>
    /// <param name="limits">Limits on features and ids. <value>Default <see cref="FlywheelLimits.Unlimited"/>: logs are read as they were written.</value></param>
    public static LoggedDecision Read(JsonElement element, FlywheelLimits? limits = null)
        => Read(System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(element), limits);

    /// <summary>Reads one logged decision from UTF-8 JSON; see <see cref="Read(JsonElement, FlywheelLimits?)"/>.</summary>
    /// <param name="utf8">The JSON object.</param>
    /// <param name="limits">Limits on features and ids. <value>Default <see cref="FlywheelLimits.Unlimited"/>.</value></param>
    public static LoggedDecision Read(ReadOnlySpan<byte> utf8, FlywheelLimits? limits = null)
    {
        limits ??= FlywheelLimits.Unlimited;
        var decision = FlywheelJson.Read<LoggedDecision>(utf8);
        limits.CheckString("decisionId", decision.DecisionId);
        decision.Context.Validate("context", limits);
        if (decision.Actions is { } actions)
        {
            if (actions.Count > limits.MaxActionsPerDecision)
            {
                throw new FlywheelValidationException("actions", $"holds {actions.Count} actions; the limit is {limits.MaxActionsPerDecision}") { Kind = ValidationKind.TooLarge };
            }
            for (var i = 0; i < actions.Count; i++)
            {
                if (actions[i] is { } action)
                {
                    limits.CheckString($"actions[{i}].id", action.Id);
                    action.Features.Validate($"actions[{i}].features", limits);
                }
            }
        }
        decision.Validate();
        return decision;
    }

    /// <summary>Checks <paramref name="decision"/> (<see cref="LoggedDecision.Validate"/>) and writes it as one JSON object.</summary>
    public static void Write(Utf8JsonWriter writer, LoggedDecision decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        decision.Validate();
        FlywheelJson.Write(writer, decision);
    }

    /// <summary>One logged decision as compact JSON (no line end).</summary>
    public static string Serialize(LoggedDecision decision) => FlywheelJson.ToString(w => Write(w, decision));
}

/// <summary>
/// Writes logged decisions as JSON Lines (<see cref="LoggedDecisionJson"/>): one compact object and <c>\n</c> per
/// decision, UTF-8 without a byte-order mark. Wrap the stream in a <see cref="System.IO.Compression.GZipStream"/> for
/// <c>.jsonl.gz</c>. Not thread-safe.
/// </summary>
public sealed class LoggedDecisionWriter : IDisposable
{
    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly Utf8JsonWriter _json;

    /// <summary>Writes to <paramref name="stream"/>, which is disposed with the writer unless <paramref name="leaveOpen"/>.</summary>
    public LoggedDecisionWriter(Stream stream, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
        _leaveOpen = leaveOpen;
        _json = new Utf8JsonWriter(stream);
    }

    /// <summary>Decisions written so far.</summary>
    public long Count { get; private set; }

    /// <summary>Checks and writes one decision as one line.</summary>
    public void Write(LoggedDecision decision)
    {
        LoggedDecisionJson.Write(_json, decision);
        _json.Flush();
        _json.Reset();
        _stream.WriteByte((byte)'\n');
        Count++;
    }

    /// <summary>Flushes the underlying stream.</summary>
    public void Flush() => _stream.Flush();

    /// <inheritdoc />
    public void Dispose()
    {
        _json.Dispose();
        if (_leaveOpen)
        {
            _stream.Flush();
        }
        else
        {
            _stream.Dispose();
        }
    }
}

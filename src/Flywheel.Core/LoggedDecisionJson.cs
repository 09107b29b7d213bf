using System.Text.Json;

namespace Flywheel.Core;

/// <summary>
/// The JSON of one <see cref="LoggedDecision"/> (ALGORITHMS §0), one object a line in <c>.jsonl</c> files:
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
    {
        limits ??= FlywheelLimits.Unlimited;
        var o = new StrictJsonObject(element, "");
        var decisionId = o.String("decisionId", required: true)!;
        if (!o.TryGet("context", out var context))
        {
            throw new FlywheelValidationException("context", "is required: an object of namespaces, such as {} or { \"user\": { \"country\": \"fr\" } }");
        }
        var decision = new LoggedDecision
        {
            DecisionId = decisionId,
            Context = Features.FromJson(context, "context", limits),
            Actions = ReadActions(o, limits),
            ChosenActionId = o.String("chosenActionId", required: true)!,
            Probability = RequiredNumber(o, "probability"),
            Reward = RequiredNumber(o, "reward"),
            TargetProbabilities = ReadNumberMap(o, "targetProbabilities"),
            RewardEstimates = ReadNumberMap(o, "rewardEstimates"),
        };
        limits.CheckString("decisionId", decision.DecisionId);
        decision.Validate();
        return decision;
    }

    private static List<ActionCandidate> ReadActions(StrictJsonObject o, FlywheelLimits limits)
    {
        if (!o.TryGet("actions", out var array))
        {
            throw new FlywheelValidationException("actions", "is required: a list of { \"id\": …, \"features\": { … } }");
        }
        if (array.ValueKind != JsonValueKind.Array)
        {
            throw new FlywheelValidationException("actions", $"must be an array, not {StrictJsonObject.Describe(array)}");
        }
        var count = array.GetArrayLength();
        if (count > limits.MaxActionsPerDecision)
        {
            throw new FlywheelValidationException("actions", $"holds {count} actions; the limit is {limits.MaxActionsPerDecision}") { Kind = ValidationKind.TooLarge };
        }
        var actions = new List<ActionCandidate>(count);
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            var path = $"actions[{i}]";
            var a = new StrictJsonObject(item, path);
            var id = a.String("id") ?? throw new FlywheelValidationException($"{path}.id", "is required");
            limits.CheckString($"{path}.id", id);
            var features = a.TryGet("features", out var f) ? Features.FromJson(f, $"{path}.features", limits) : new Features();
            actions.Add(new ActionCandidate(id, features));
            i++;
        }
        return actions;
    }

    private static double RequiredNumber(StrictJsonObject o, string name)
        => o.Number(name) ?? throw new FlywheelValidationException(name, "is required");

    private static Dictionary<string, double>? ReadNumberMap(StrictJsonObject o, string name)
    {
        if (o.Object(name) is not { } map)
        {
            return null;
        }
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var p in map.Properties())
        {
            result[p.Name] = StrictJsonObject.ReadNumber(p.Value, map.PathOf(p.Name));
        }
        return result;
    }

    /// <summary>Checks <paramref name="decision"/> (<see cref="LoggedDecision.Validate"/>) and writes it as one JSON object.</summary>
    public static void Write(Utf8JsonWriter writer, LoggedDecision decision)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(decision);
        decision.Validate();
        writer.WriteStartObject();
        writer.WriteString("decisionId", decision.DecisionId);
        writer.WritePropertyName("context");
        decision.Context.WriteTo(writer);
        writer.WriteStartArray("actions");
        foreach (var a in decision.Actions)
        {
            writer.WriteStartObject();
            writer.WriteString("id", a.Id);
            writer.WritePropertyName("features");
            a.Features.WriteTo(writer);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteString("chosenActionId", decision.ChosenActionId);
        writer.WriteNumber("probability", decision.Probability);
        writer.WriteNumber("reward", decision.Reward);
        WriteNumberMap(writer, "targetProbabilities", decision.TargetProbabilities);
        WriteNumberMap(writer, "rewardEstimates", decision.RewardEstimates);
        writer.WriteEndObject();
    }

    private static void WriteNumberMap(Utf8JsonWriter writer, string name, IReadOnlyDictionary<string, double>? map)
    {
        if (map is null)
        {
            return;
        }
        writer.WriteStartObject(name);
        foreach (var (key, value) in map)
        {
            writer.WriteNumber(key, value);
        }
        writer.WriteEndObject();
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

using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Flywheel.Core;

/// <summary>
/// The wire format of DESIGN §5, shared by the HTTP server and the .NET client. Readers are strict: unknown fields,
/// wrong types and non-finite numbers are <see cref="FlywheelValidationException"/>s naming the field.
/// </summary>
public static partial class FlywheelJson
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 32 };

    /// <summary>Parses a JSON document, turning syntax errors into a validation error.</summary>
    public static JsonDocument ParseDocument(ReadOnlyMemory<byte> utf8)
    {
        try
        {
            return JsonDocument.Parse(utf8, DocumentOptions);
        }
        catch (JsonException ex)
        {
            throw new FlywheelValidationException("", $"is not valid JSON: {ex.Message}");
        }
    }

    /// <summary>Reads a decide request.</summary>
    public static DecideRequest ReadDecideRequest(JsonElement element, FlywheelLimits? limits = null)
    {
        limits ??= FlywheelLimits.Default;
        return Guard(() =>
        {
            var o = new StrictJsonObject(element, "");
            var request = new DecideRequest
            {
                DecisionId = o.String("decisionId"),
                UserId = o.String("userId"),
                Context = o.TryGet("context", out var ctx) ? Features.FromJson(ctx, "context", limits) : new Features(),
                Actions = ReadActions(o, limits),
                BaselineActionId = o.String("baselineActionId"),
            };
            o.RejectUnknown();
            return request;
        });
    }

    private static List<ActionCandidate> ReadActions(StrictJsonObject o, FlywheelLimits limits)
    {
        var (array, count) = RequireArray(o, "actions", limits.MaxActionsPerDecision, "a list of { \"id\": …, \"features\": { … } }");
        var actions = new List<ActionCandidate>(count);
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            var path = $"actions[{i}]";
            var a = new StrictJsonObject(item, path);
            var id = a.String("id") ?? throw new FlywheelValidationException($"{path}.id", "is required");
            var features = a.TryGet("features", out var f) ? Features.FromJson(f, $"{path}.features", limits) : new Features();
            a.RejectUnknown();
            actions.Add(new ActionCandidate(id, features));
            i++;
        }
        return actions;
    }

    private static (JsonElement Array, int Count) RequireArray(StrictJsonObject o, string name, int limit, string shape)
    {
        if (!o.TryGet(name, out var array))
        {
            throw new FlywheelValidationException(name, $"is required: {shape}");
        }
        if (array.ValueKind != JsonValueKind.Array)
        {
            throw new FlywheelValidationException(name, $"must be an array, not {StrictJsonObject.Describe(array)}");
        }
        var count = array.GetArrayLength();
        if (count > limit)
        {
            throw new FlywheelValidationException(name, $"holds {count} {name}; the limit is {limit}") { Kind = ValidationKind.TooLarge };
        }
        return (array, count);
    }

    private static void WriteActions(Utf8JsonWriter w, IReadOnlyList<ActionCandidate> actions)
    {
        w.WriteStartArray("actions");
        foreach (var a in actions)
        {
            w.WriteStartObject();
            w.WriteString("id", a.Id);
            w.WritePropertyName("features");
            a.Features.WriteTo(w);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    /// <summary>Writes a decide request (the client's side).</summary>
    public static void WriteDecideRequest(Utf8JsonWriter w, DecideRequest request)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(request);
        w.WriteStartObject();
        WriteIfNotNull(w, "decisionId", request.DecisionId);
        WriteIfNotNull(w, "userId", request.UserId);
        w.WritePropertyName("context");
        (request.Context ?? new Features()).WriteTo(w);
        WriteActions(w, request.Actions);
        WriteIfNotNull(w, "baselineActionId", request.BaselineActionId);
        w.WriteEndObject();
    }

    /// <summary>Writes the answer to a decide request.</summary>
    public static void WriteDecision(Utf8JsonWriter w, Decision decision)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(decision);
        w.WriteStartObject();
        w.WriteString("decisionId", decision.DecisionId);
        w.WriteString("loop", decision.Loop);
        w.WriteNumber("modelVersion", decision.ModelVersion);
        w.WriteString("chosenActionId", decision.ChosenActionId);
        w.WriteBoolean("explored", decision.Explored);
        WriteRanking(w, decision.Ranking);
        w.WriteEndObject();
    }

    private static void WriteRanking(Utf8JsonWriter w, IReadOnlyList<RankedAction> ranking)
    {
        w.WriteStartArray("ranking");
        foreach (var r in ranking)
        {
            w.WriteStartObject();
            w.WriteString("actionId", r.ActionId);
            w.WriteNumber("probability", r.Probability);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    /// <summary>Reads the answer to a decide request (the client's side). Unknown fields are ignored for forward compatibility.</summary>
    public static Decision ReadDecision(JsonElement e) => Guard(() => new Decision
    {
        DecisionId = e.GetProperty("decisionId").GetString()!,
        Loop = e.GetProperty("loop").GetString()!,
        ModelVersion = e.GetProperty("modelVersion").GetInt32(),
        ChosenActionId = e.GetProperty("chosenActionId").GetString()!,
        Explored = e.GetProperty("explored").GetBoolean(),
        Ranking = ReadRanking(e.GetProperty("ranking")),
    });

    private static List<RankedAction> ReadRanking(JsonElement array)
        => array.EnumerateArray().Select(r => new RankedAction(r.GetProperty("actionId").GetString()!, r.GetProperty("probability").GetDouble())).ToList();

    /// <summary>Reads a signal batch: <c>{ "signals": [ … ] }</c>.</summary>
    public static List<SignalInput> ReadSignalBatch(JsonElement element, FlywheelLimits? limits = null)
    {
        limits ??= FlywheelLimits.Default;
        return Guard(() =>
        {
            var o = new StrictJsonObject(element, "");
            var (array, count) = RequireArray(o, "signals", limits.MaxSignalsPerBatch, "a list of { \"decisionId\" or \"userId\", \"type\", \"value\"?, \"at\"? }");
            o.RejectUnknown();
            var signals = new List<SignalInput>(count);
            var i = 0;
            foreach (var item in array.EnumerateArray())
            {
                var path = $"signals[{i}]";
                var s = new StrictJsonObject(item, path);
                signals.Add(new SignalInput
                {
                    SignalId = s.String("signalId"),
                    DecisionId = s.String("decisionId"),
                    UserId = s.String("userId"),
                    Type = s.String("type") ?? throw new FlywheelValidationException($"{path}.type", "is required"),
                    Value = s.Number("value"),
                    At = ReadTime(s, "at"),
                });
                s.RejectUnknown();
                i++;
            }
            return signals;
        });
    }

    private static DateTimeOffset? ReadTime(StrictJsonObject o, string name)
    {
        var text = o.String(name);
        if (text is null)
        {
            return null;
        }
        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at))
        {
            throw new FlywheelValidationException(o.PathOf(name), $"must be an ISO 8601 time such as 2026-11-24T12:00:00Z; got '{text}'");
        }
        return at;
    }

    /// <summary>Writes a signal batch (the client's side).</summary>
    public static void WriteSignalBatch(Utf8JsonWriter w, IEnumerable<SignalInput> signals)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(signals);
        w.WriteStartObject();
        w.WriteStartArray("signals");
        foreach (var s in signals)
        {
            w.WriteStartObject();
            WriteIfNotNull(w, "signalId", s.SignalId);
            WriteIfNotNull(w, "decisionId", s.DecisionId);
            WriteIfNotNull(w, "userId", s.UserId);
            w.WriteString("type", s.Type);
            if (s.Value is { } v)
            {
                w.WriteNumber("value", v);
            }
            if (s.At is { } at)
            {
                w.WriteString("at", at.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>Writes the outcome of a signal batch.</summary>
    public static void WriteSignalBatchResult(Utf8JsonWriter w, SignalBatchResult result)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(result);
        w.WriteStartObject();
        w.WriteNumber("accepted", result.Accepted);
        w.WriteNumber("duplicates", result.Duplicates);
        w.WriteNumber("orphaned", result.Orphaned);
        w.WriteNumber("late", result.Late);
        w.WriteEndObject();
    }

    /// <summary>Reads the outcome of a signal batch (the client's side).</summary>
    public static SignalBatchResult ReadSignalBatchResult(JsonElement e) => Guard(() => new SignalBatchResult(
        e.GetProperty("accepted").GetInt32(),
        e.GetProperty("duplicates").GetInt32(),
        e.TryGetProperty("orphaned", out var o) ? o.GetInt32() : 0,
        e.TryGetProperty("late", out var l) ? l.GetInt32() : 0));

    /// <summary>Writes one decision with its signals and reward (the audit view).</summary>
    public static void WriteDecisionAudit(Utf8JsonWriter w, DecisionAudit audit)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(audit);
        var d = audit.Decision;
        w.WriteStartObject();
        w.WriteString("decisionId", d.DecisionId);
        w.WriteString("loop", d.Loop);
        w.WriteString("at", Time(d.At));
        WriteIfNotNull(w, "userId", d.UserId);
        w.WritePropertyName("context");
        d.Context.WriteTo(w);
        WriteActions(w, d.Actions);
        WriteIfNotNull(w, "baselineActionId", d.BaselineActionId);
        w.WriteNumber("modelVersion", d.ModelVersion);
        w.WriteString("chosenActionId", d.ChosenActionId);
        w.WriteBoolean("explored", d.Explored);
        WriteRanking(w, d.Ranking);
        if (d.Shadows.Count > 0)
        {
            w.WritePropertyName("shadows");
            WriteShadows(w, d.Shadows);
        }
        w.WriteStartArray("signals");
        foreach (var s in audit.Signals)
        {
            w.WriteStartObject();
            w.WriteString("signalId", s.SignalId);
            w.WriteString("type", s.Type);
            w.WriteNumber("value", s.Value);
            w.WriteString("at", Time(s.At));
            w.WriteString("receivedAt", Time(s.ReceivedAt));
            w.WriteBoolean("late", s.Late);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        if (audit.Reward is { } r)
        {
            w.WriteStartObject("reward");
            w.WriteNumber("value", r.Reward);
            w.WriteNumber("signalCount", r.SignalCount);
            w.WriteString("closedAt", Time(r.ClosedAt));
            w.WriteString("closedBy", r.ClosedBy == WindowClose.Signal ? "signal" : "window");
            w.WriteNumber("sequence", r.Sequence);
            w.WriteEndObject();
        }
        else
        {
            w.WriteNull("reward");
        }
        w.WriteEndObject();
    }

    /// <summary>
    /// Reads the audit view that <see cref="WriteDecisionAudit"/> writes (the client's side). Lenient with the server's
    /// own output: unknown fields are ignored and feature limits are not enforced again.
    /// </summary>
    public static DecisionAudit ReadDecisionAudit(JsonElement e) => Guard(() =>
    {
        var loop = RequiredString(e, "loop");
        var decisionId = RequiredString(e, "decisionId");
        var decision = new DecisionRecord
        {
            Loop = loop,
            DecisionId = decisionId,
            At = ReadTimeOf(e, "at"),
            UserId = OptionalString(e, "userId"),
            Context = e.TryGetProperty("context", out var context) ? Features.FromJson(context, "context", FlywheelLimits.Unlimited) : new Features(),
            Actions = e.GetProperty("actions").EnumerateArray()
                .Select((a, i) => new ActionCandidate(RequiredString(a, "id"), a.TryGetProperty("features", out var f) ? Features.FromJson(f, $"actions[{i}].features", FlywheelLimits.Unlimited) : null))
                .ToList(),
            BaselineActionId = OptionalString(e, "baselineActionId"),
            ModelVersion = e.GetProperty("modelVersion").GetInt32(),
            ChosenActionId = RequiredString(e, "chosenActionId"),
            Explored = e.GetProperty("explored").GetBoolean(),
            Ranking = e.GetProperty("ranking").EnumerateArray()
                .Select(r => new RankedAction(RequiredString(r, "actionId"), r.GetProperty("probability").GetDouble()))
                .ToList(),
            Shadows = e.TryGetProperty("shadows", out var shadows) ? ReadShadows(shadows) : [],
        };
        var signals = e.TryGetProperty("signals", out var array) && array.ValueKind == JsonValueKind.Array
            ? array.EnumerateArray().Select(s => new SignalRecord
            {
                Loop = loop,
                DecisionId = decisionId,
                SignalId = RequiredString(s, "signalId"),
                Type = RequiredString(s, "type"),
                Value = s.GetProperty("value").GetDouble(),
                At = ReadTimeOf(s, "at"),
                ReceivedAt = ReadTimeOf(s, "receivedAt"),
                Late = s.TryGetProperty("late", out var late) && late.ValueKind == JsonValueKind.True,
            }).ToList()
            : [];
        RewardRecord? reward = null;
        if (e.TryGetProperty("reward", out var r) && r.ValueKind == JsonValueKind.Object)
        {
            reward = new RewardRecord
            {
                Loop = loop,
                DecisionId = decisionId,
                Reward = r.GetProperty("value").GetDouble(),
                SignalCount = r.GetProperty("signalCount").GetInt32(),
                ClosedAt = ReadTimeOf(r, "closedAt"),
                ClosedBy = OptionalString(r, "closedBy") == "signal" ? WindowClose.Signal : WindowClose.Timeout,
                Sequence = r.GetProperty("sequence").GetInt64(),
            };
        }
        return new DecisionAudit { Decision = decision, Signals = signals, Reward = reward };
    });

    private static string RequiredString(JsonElement e, string name)
        => e.GetProperty(name).GetString() ?? throw new FormatException($"'{name}' is null");

    private static string? OptionalString(JsonElement e, string name)
        => e.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;

    private static DateTimeOffset ReadTimeOf(JsonElement e, string name)
        => DateTimeOffset.Parse(RequiredString(e, name), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    /// <summary>Serializes with <paramref name="write"/> into UTF-8 bytes.</summary>
    public static byte[] ToUtf8(Action<Utf8JsonWriter> write, bool indented = false)
    {
        ArgumentNullException.ThrowIfNull(write);
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = indented }))
        {
            write(w);
        }
        return buffer.ToArray();
    }

    /// <summary>Serializes with <paramref name="write"/> into a string.</summary>
    public static string ToString(Action<Utf8JsonWriter> write, bool indented = false) => Encoding.UTF8.GetString(ToUtf8(write, indented));

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

    private static void WriteIfNotNull(Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null)
        {
            w.WriteString(name, value);
        }
    }

    // JsonElement accessors throw InvalidOperationException (wrong kind) or KeyNotFoundException (missing); report them
    // as validation errors rather than crashes.
    private static T Guard<T>(Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception ex) when (ex is InvalidOperationException or KeyNotFoundException or FormatException)
        {
            throw new FlywheelValidationException("", $"is not in the expected shape: {ex.Message}");
        }
    }
}

using System.Globalization;
using System.Text.Json;
using Flywheel.Core;

namespace Flywheel.Client;

/// <summary>
/// Reads the audit view that <see cref="FlywheelJson.WriteDecisionAudit"/> writes. Lenient where the server's own
/// output is concerned: unknown fields are ignored and feature limits are not enforced (the server already did).
/// </summary>
internal static class DecisionAuditReader
{
    private static readonly FlywheelLimits NoLimits = new()
    {
        MaxActionsPerDecision = int.MaxValue,
        MaxNamespaces = int.MaxValue,
        MaxFeaturesPerNamespace = int.MaxValue,
        MaxStringLength = int.MaxValue,
        MaxSignalsPerBatch = int.MaxValue,
    };

    public static DecisionAudit Read(JsonElement e)
    {
        var loop = String(e, "loop");
        var decisionId = String(e, "decisionId");
        var decision = new DecisionRecord
        {
            Loop = loop,
            DecisionId = decisionId,
            At = Time(e, "at"),
            UserId = OptionalString(e, "userId"),
            Context = e.TryGetProperty("context", out var context) ? Features.FromJson(context, "context", NoLimits) : new Features(),
            Actions = e.GetProperty("actions").EnumerateArray()
                .Select((a, i) => new ActionCandidate(String(a, "id"), a.TryGetProperty("features", out var f) ? Features.FromJson(f, $"actions[{i}].features", NoLimits) : null))
                .ToList(),
            BaselineActionId = OptionalString(e, "baselineActionId"),
            ModelVersion = e.GetProperty("modelVersion").GetInt32(),
            ChosenActionId = String(e, "chosenActionId"),
            Explored = e.GetProperty("explored").GetBoolean(),
            Ranking = e.GetProperty("ranking").EnumerateArray()
                .Select(r => new RankedAction(String(r, "actionId"), r.GetProperty("probability").GetDouble()))
                .ToList(),
        };
        var signals = e.TryGetProperty("signals", out var array) && array.ValueKind == JsonValueKind.Array
            ? array.EnumerateArray().Select(s => new SignalRecord
            {
                Loop = loop,
                DecisionId = decisionId,
                SignalId = String(s, "signalId"),
                Type = String(s, "type"),
                Value = s.GetProperty("value").GetDouble(),
                At = Time(s, "at"),
                ReceivedAt = Time(s, "receivedAt"),
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
                ClosedAt = Time(r, "closedAt"),
                ClosedBy = OptionalString(r, "closedBy") == "signal" ? WindowClose.Signal : WindowClose.Timeout,
                Sequence = r.GetProperty("sequence").GetInt64(),
            };
        }
        return new DecisionAudit { Decision = decision, Signals = signals, Reward = reward };
    }

    private static string String(JsonElement e, string name)
        => e.GetProperty(name).GetString() ?? throw new FormatException($"'{name}' is null");

    private static string? OptionalString(JsonElement e, string name)
        => e.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;

    private static DateTimeOffset Time(JsonElement e, string name)
        => DateTimeOffset.Parse(String(e, name), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
}

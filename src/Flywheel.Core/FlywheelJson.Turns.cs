using System.Globalization;
using System.Text.Json;

namespace Flywheel.Core;

// The model registry, the turn ledger and off-policy estimates on the wire (and in the store).
public static partial class FlywheelJson
{
    /// <summary>Writes an estimate as <c>{ "value", "lower", "upper" }</c>; a non-finite number is written as null.</summary>
    public static void WriteEstimate(Utf8JsonWriter w, Estimate estimate)
    {
        ArgumentNullException.ThrowIfNull(w);
        w.WriteStartObject();
        WriteNumberOrNull(w, "value", estimate.Value);
        WriteNumberOrNull(w, "lower", estimate.Lower);
        WriteNumberOrNull(w, "upper", estimate.Upper);
        w.WriteEndObject();
    }

    /// <summary>
    /// Writes estimates in the shape of <c>flywheel evaluate --json</c>:
    /// <c>{ "n", "ess", "estimators": { "ips": {…}, "ips-cp": {…}, "snips": {…}, "dm": {…}, "dr": {…} } }</c>,
    /// limited to <paramref name="estimators"/> when given.
    /// </summary>
    public static void WriteEstimates(Utf8JsonWriter w, OffPolicyEstimates estimates, IReadOnlyCollection<OffPolicyEstimator>? estimators = null)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(estimates);
        w.WriteStartObject();
        WriteEstimatesBody(w, estimates, estimators);
        w.WriteEndObject();
    }

    /// <summary>Writes the members of <see cref="WriteEstimates"/> into the object being written.</summary>
    public static void WriteEstimatesBody(Utf8JsonWriter w, OffPolicyEstimates estimates, IReadOnlyCollection<OffPolicyEstimator>? estimators = null)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(estimates);
        w.WriteNumber("n", estimates.Count);
        WriteNumberOrNull(w, "ess", estimates.EffectiveSampleSize);
        w.WriteStartObject("estimators");
        foreach (var estimator in OffPolicyEstimatorNames.All)
        {
            if ((estimators is null || estimators.Contains(estimator)) && estimates.Get(estimator) is { } value)
            {
                w.WritePropertyName(OffPolicyEstimatorNames.Name(estimator));
                WriteEstimate(w, value);
            }
        }
        w.WriteEndObject();
        WriteNumberOrNull(w, "minReward", estimates.MinReward);
        WriteNumberOrNull(w, "maxReward", estimates.MaxReward);
        WriteNumberOrNull(w, "maxWeight", estimates.MaxWeight);
    }

    /// <summary>Reads what <see cref="WriteEstimates"/> wrote.</summary>
    public static OffPolicyEstimates ReadEstimates(JsonElement e) => Guard(() =>
    {
        var estimators = e.GetProperty("estimators");
        Estimate? Find(string name) => estimators.TryGetProperty(name, out var v) ? ReadEstimate(v) : null;
        var nan = new Estimate(double.NaN, double.NegativeInfinity, double.PositiveInfinity);
        return new OffPolicyEstimates
        {
            Count = e.GetProperty("n").GetInt64(),
            EffectiveSampleSize = NumberOrNull(e, "ess", double.NaN),
            Ips = Find("ips") ?? nan,
            IpsClopperPearson = Find("ips-cp"),
            Snips = Find("snips") ?? nan,
            Dm = Find("dm") ?? nan,
            Dr = Find("dr") ?? nan,
            MinReward = NumberOrNull(e, "minReward", double.NaN),
            MaxReward = NumberOrNull(e, "maxReward", double.NaN),
            MaxWeight = NumberOrNull(e, "maxWeight", double.NaN),
        };
    });

    /// <summary>Reads what <see cref="WriteEstimate"/> wrote.</summary>
    public static Estimate ReadEstimate(JsonElement e) => Guard(() => new Estimate(
        NumberOrNull(e, "value", double.NaN),
        NumberOrNull(e, "lower", double.NegativeInfinity),
        NumberOrNull(e, "upper", double.PositiveInfinity)));

    /// <summary>Writes a data window.</summary>
    public static void WriteDataWindow(Utf8JsonWriter w, DataWindow window)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(window);
        w.WriteStartObject();
        w.WriteNumber("afterSequence", window.AfterSequence);
        w.WriteNumber("throughSequence", window.ThroughSequence);
        WriteTimeIfNotNull(w, "from", window.From);
        WriteTimeIfNotNull(w, "to", window.To);
        w.WriteNumber("decisions", window.Decisions);
        w.WriteNumber("signals", window.Signals);
        w.WriteEndObject();
    }

    /// <summary>Reads a data window.</summary>
    public static DataWindow ReadDataWindow(JsonElement e) => Guard(() => new DataWindow
    {
        AfterSequence = e.GetProperty("afterSequence").GetInt64(),
        ThroughSequence = e.GetProperty("throughSequence").GetInt64(),
        From = OptionalTime(e, "from"),
        To = OptionalTime(e, "to"),
        Decisions = e.GetProperty("decisions").GetInt64(),
        Signals = e.GetProperty("signals").GetInt64(),
    });

    /// <summary>Writes a registered model.</summary>
    public static void WriteModel(Utf8JsonWriter w, ModelRecord model)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(model);
        w.WriteStartObject();
        w.WriteString("loop", model.Loop);
        w.WriteNumber("version", model.Version);
        if (model.ParentVersion is { } parent)
        {
            w.WriteNumber("parentVersion", parent);
        }
        w.WriteString("status", LoopConfigJson.Name(model.Status));
        w.WritePropertyName("learner");
        LoopConfigJson.WriteLearner(w, model.Learner);
        w.WritePropertyName("exploration");
        LoopConfigJson.WriteExploration(w, model.Exploration);
        if (model.Turn is { } turn)
        {
            w.WriteNumber("turn", turn);
        }
        if (model.Window is not null)
        {
            w.WritePropertyName("window");
            WriteDataWindow(w, model.Window);
        }
        if (model.TrainedThrough is { } trained)
        {
            w.WriteNumber("trainedThrough", trained);
        }
        if (model.Estimates is not null)
        {
            w.WritePropertyName("estimates");
            WriteEstimates(w, model.Estimates);
        }
        w.WriteString("createdAt", Time(model.CreatedAt));
        w.WriteString("statusChangedAt", Time(model.StatusChangedAt));
        WriteIfNotNull(w, "reason", model.Reason);
        w.WriteEndObject();
    }

    /// <summary>Reads a registered model.</summary>
    public static ModelRecord ReadModel(JsonElement e) => Guard(() => new ModelRecord
    {
        Loop = RequiredString(e, "loop"),
        Version = e.GetProperty("version").GetInt32(),
        ParentVersion = e.TryGetProperty("parentVersion", out var p) ? p.GetInt32() : null,
        Status = LoopConfigJson.ParseName<ModelStatus>(RequiredString(e, "status"), "status"),
        Learner = LoopConfigJson.ReadLearner(e.GetProperty("learner"), "learner"),
        Exploration = LoopConfigJson.ReadExploration(e.GetProperty("exploration"), "exploration"),
        Turn = e.TryGetProperty("turn", out var t) ? t.GetInt64() : null,
        Window = e.TryGetProperty("window", out var win) ? ReadDataWindow(win) : null,
        TrainedThrough = e.TryGetProperty("trainedThrough", out var tt) ? tt.GetInt64() : null,
        Estimates = e.TryGetProperty("estimates", out var est) ? ReadEstimates(est) : null,
        CreatedAt = ReadTimeOf(e, "createdAt"),
        StatusChangedAt = ReadTimeOf(e, "statusChangedAt"),
        Reason = e.TryGetProperty("reason", out var r) ? r.GetString() : null,
    });

    /// <summary>Writes a ledger entry.</summary>
    public static void WriteTurn(Utf8JsonWriter w, TurnRecord turn)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(turn);
        w.WriteStartObject();
        w.WriteString("loop", turn.Loop);
        w.WriteNumber("turn", turn.Number);
        w.WriteString("trigger", LoopConfigJson.Name(turn.Trigger));
        w.WriteString("startedAt", Time(turn.StartedAt));
        w.WriteString("finishedAt", Time(turn.FinishedAt));
        if (turn.Window is not null)
        {
            w.WritePropertyName("window");
            WriteDataWindow(w, turn.Window);
        }
        w.WriteNumber("championVersion", turn.ChampionVersion);
        w.WriteStartArray("candidates");
        foreach (var c in turn.Candidates)
        {
            w.WriteStartObject();
            w.WriteString("name", c.Name);
            if (c.Version is { } v)
            {
                w.WriteNumber("version", v);
            }
            if (c.Learner is not null)
            {
                w.WritePropertyName("learner");
                LoopConfigJson.WriteLearner(w, c.Learner);
            }
            if (c.Exploration is not null)
            {
                w.WritePropertyName("exploration");
                LoopConfigJson.WriteExploration(w, c.Exploration);
            }
            w.WritePropertyName("estimates");
            WriteEstimates(w, c.Estimates);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteString("verdict", LoopConfigJson.Name(turn.Verdict));
        w.WriteString("reason", turn.Reason);
        if (turn.DeployedVersion is { } deployed)
        {
            w.WriteNumber("deployedVersion", deployed);
        }
        WriteTimeIfNotNull(w, "deployedAt", turn.DeployedAt);
        if (turn.Lift is { } lift)
        {
            w.WriteStartObject("lift");
            w.WriteNumber("version", lift.Version);
            w.WriteNumber("predecessorVersion", lift.PredecessorVersion);
            w.WriteNumber("decisions", lift.Decisions);
            WriteNumberOrNull(w, "mean", lift.Mean);
            w.WriteNumber("predecessorDecisions", lift.PredecessorDecisions);
            WriteNumberOrNull(w, "predecessorMean", lift.PredecessorMean);
            w.WritePropertyName("difference");
            WriteEstimate(w, lift.Difference);
            WriteNumberOrNull(w, "relative", lift.Relative);
            w.WriteString("measuredAt", Time(lift.MeasuredAt));
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }

    /// <summary>Reads a ledger entry.</summary>
    public static TurnRecord ReadTurn(JsonElement e) => Guard(() => new TurnRecord
    {
        Loop = RequiredString(e, "loop"),
        Number = e.GetProperty("turn").GetInt64(),
        Trigger = LoopConfigJson.ParseName<TurnTrigger>(RequiredString(e, "trigger"), "trigger"),
        StartedAt = ReadTimeOf(e, "startedAt"),
        FinishedAt = ReadTimeOf(e, "finishedAt"),
        Window = e.TryGetProperty("window", out var win) ? ReadDataWindow(win) : null,
        ChampionVersion = e.GetProperty("championVersion").GetInt32(),
        Candidates = e.GetProperty("candidates").EnumerateArray().Select(c => new TurnCandidate
        {
            Name = RequiredString(c, "name"),
            Version = c.TryGetProperty("version", out var v) ? v.GetInt32() : null,
            Learner = c.TryGetProperty("learner", out var l) ? LoopConfigJson.ReadLearner(l, "learner") : null,
            Exploration = c.TryGetProperty("exploration", out var x) ? LoopConfigJson.ReadExploration(x, "exploration") : null,
            Estimates = ReadEstimates(c.GetProperty("estimates")),
        }).ToList(),
        Verdict = LoopConfigJson.ParseName<TurnVerdict>(RequiredString(e, "verdict"), "verdict"),
        Reason = RequiredString(e, "reason"),
        DeployedVersion = e.TryGetProperty("deployedVersion", out var d) ? d.GetInt32() : null,
        DeployedAt = OptionalTime(e, "deployedAt"),
        Lift = e.TryGetProperty("lift", out var lift) ? new OnlineLift
        {
            Version = lift.GetProperty("version").GetInt32(),
            PredecessorVersion = lift.GetProperty("predecessorVersion").GetInt32(),
            Decisions = lift.GetProperty("decisions").GetInt64(),
            Mean = NumberOrNull(lift, "mean", double.NaN),
            PredecessorDecisions = lift.GetProperty("predecessorDecisions").GetInt64(),
            PredecessorMean = NumberOrNull(lift, "predecessorMean", double.NaN),
            Difference = ReadEstimate(lift.GetProperty("difference")),
            Relative = NumberOrNull(lift, "relative", double.NaN),
            MeasuredAt = ReadTimeOf(lift, "measuredAt"),
        } : null,
    });

    /// <summary>Writes an evaluate request.</summary>
    public static void WriteEvaluateRequest(Utf8JsonWriter w, EvaluateRequest request)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(request);
        w.WriteStartObject();
        WriteTimeIfNotNull(w, "from", request.From);
        WriteTimeIfNotNull(w, "to", request.To);
        w.WriteStartArray("policies");
        foreach (var p in request.Policies)
        {
            w.WriteStringValue(p);
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>Reads an evaluate request strictly: unknown fields and wrong types name the field.</summary>
    public static EvaluateRequest ReadEvaluateRequest(JsonElement element)
    {
        var o = new StrictJsonObject(element, "");
        var request = new EvaluateRequest
        {
            From = StrictTime(o, "from"),
            To = StrictTime(o, "to"),
        };
        if (o.TryGet("policies", out var policies))
        {
            if (policies.ValueKind != JsonValueKind.Array)
            {
                throw new FlywheelValidationException("policies", $"must be an array of policy names, not {StrictJsonObject.Describe(policies)}");
            }
            var list = new List<string>();
            foreach (var p in policies.EnumerateArray())
            {
                list.Add(StrictJsonObject.ReadString(p, $"policies[{list.Count}]"));
            }
            request = request with { Policies = list };
        }
        o.RejectUnknown();
        return request;
    }

    /// <summary>Reads an optional ISO 8601 time (<c>2026-11-24T12:00:00Z</c>), naming <paramref name="field"/> when it is malformed.</summary>
    public static DateTimeOffset? ParseTime(string? text, string field)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t)
            ? t
            : throw new FlywheelValidationException(field, $"'{text}' is not an ISO 8601 time such as 2026-11-24T12:00:00Z");
    }

    private static DateTimeOffset? StrictTime(StrictJsonObject o, string name) => ParseTime(o.String(name), name);

    /// <summary>Writes an evaluation report.</summary>
    public static void WriteEvaluationReport(Utf8JsonWriter w, EvaluationReport report)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(report);
        w.WriteStartObject();
        w.WriteString("loop", report.Loop);
        WriteTimeIfNotNull(w, "from", report.From);
        WriteTimeIfNotNull(w, "to", report.To);
        w.WriteNumber("decisions", report.Decisions);
        w.WriteString("rewardEstimates", report.RewardEstimates);
        w.WriteStartArray("policies");
        foreach (var p in report.Policies)
        {
            w.WriteStartObject();
            w.WriteString("policy", p.Policy);
            if (p.Version is { } v)
            {
                w.WriteNumber("version", v);
            }
            if (p.Estimates is not null)
            {
                WriteEstimatesBody(w, p.Estimates);
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>Reads an evaluation report.</summary>
    public static EvaluationReport ReadEvaluationReport(JsonElement e) => Guard(() => new EvaluationReport
    {
        Loop = RequiredString(e, "loop"),
        From = OptionalTime(e, "from"),
        To = OptionalTime(e, "to"),
        Decisions = e.GetProperty("decisions").GetInt64(),
        RewardEstimates = RequiredString(e, "rewardEstimates"),
        Policies = e.GetProperty("policies").EnumerateArray().Select(p => new PolicyEvaluation
        {
            Policy = RequiredString(p, "policy"),
            Version = p.TryGetProperty("version", out var v) ? v.GetInt32() : null,
            Estimates = p.TryGetProperty("estimators", out _) ? ReadEstimates(p) : null,
        }).ToList(),
    });

    /// <summary>Writes shadow choices as <c>[{ "version", "actionId", "probability", "servedProbability" }]</c>.</summary>
    public static void WriteShadows(Utf8JsonWriter w, IReadOnlyList<ShadowChoice> shadows)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(shadows);
        w.WriteStartArray();
        foreach (var s in shadows)
        {
            w.WriteStartObject();
            w.WriteNumber("version", s.Version);
            w.WriteString("actionId", s.ActionId);
            w.WriteNumber("probability", s.Probability);
            w.WriteNumber("servedProbability", s.ServedProbability);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    /// <summary>Reads what <see cref="WriteShadows"/> wrote.</summary>
    public static IReadOnlyList<ShadowChoice> ReadShadows(JsonElement e) => Guard(() => e.EnumerateArray()
        .Select(s => new ShadowChoice(s.GetProperty("version").GetInt32(), RequiredString(s, "actionId"), s.GetProperty("probability").GetDouble(), s.GetProperty("servedProbability").GetDouble()))
        .ToArray());

    /// <summary>Writes a shadow report.</summary>
    public static void WriteShadowReport(Utf8JsonWriter w, ShadowReport report)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(report);
        w.WriteStartObject();
        w.WriteString("loop", report.Loop);
        w.WriteNumber("version", report.Version);
        w.WriteNumber("decisions", report.Decisions);
        w.WriteNumber("agreements", report.Agreements);
        WriteNumberOrNull(w, "agreementRate", report.AgreementRate);
        if (report.Estimates is not null)
        {
            w.WritePropertyName("estimates");
            WriteEstimates(w, report.Estimates, [OffPolicyEstimator.Ips, OffPolicyEstimator.IpsClopperPearson, OffPolicyEstimator.Snips]);
        }
        WriteNumberOrNull(w, "servedMean", report.ServedMean);
        w.WriteNumber("mismatches", report.Mismatches);
        w.WriteEndObject();
    }

    /// <summary>Reads a shadow report.</summary>
    public static ShadowReport ReadShadowReport(JsonElement e) => Guard(() => new ShadowReport
    {
        Loop = RequiredString(e, "loop"),
        Version = e.GetProperty("version").GetInt32(),
        Decisions = e.GetProperty("decisions").GetInt64(),
        Agreements = e.GetProperty("agreements").GetInt64(),
        AgreementRate = NumberOrNull(e, "agreementRate", double.NaN),
        Estimates = e.TryGetProperty("estimates", out var est) ? ReadEstimates(est) : null,
        ServedMean = NumberOrNull(e, "servedMean", double.NaN),
        Mismatches = e.GetProperty("mismatches").GetInt64(),
    });

    /// <summary>Writes a mismatch.</summary>
    public static void WriteMismatch(Utf8JsonWriter w, Mismatch mismatch)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(mismatch);
        w.WriteStartObject();
        w.WriteString("decisionId", mismatch.DecisionId);
        w.WriteString("at", Time(mismatch.At));
        w.WriteNumber("version", mismatch.Version);
        w.WriteString("servedActionId", mismatch.ServedActionId);
        w.WriteString("shadowActionId", mismatch.ShadowActionId);
        w.WriteNumber("reward", mismatch.Reward);
        w.WriteString("wrong", mismatch.Wrong == MismatchSide.Served ? "served" : "shadow");
        w.WriteEndObject();
    }

    /// <summary>Reads a mismatch.</summary>
    public static Mismatch ReadMismatch(JsonElement e) => Guard(() => new Mismatch
    {
        DecisionId = RequiredString(e, "decisionId"),
        At = ReadTimeOf(e, "at"),
        Version = e.GetProperty("version").GetInt32(),
        ServedActionId = RequiredString(e, "servedActionId"),
        ShadowActionId = RequiredString(e, "shadowActionId"),
        Reward = e.GetProperty("reward").GetDouble(),
        Wrong = RequiredString(e, "wrong") == "served" ? MismatchSide.Served : MismatchSide.Shadow,
    });

    private static void WriteNumberOrNull(Utf8JsonWriter w, string name, double value)
    {
        if (double.IsFinite(value))
        {
            w.WriteNumber(name, value);
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private static double NumberOrNull(JsonElement e, string name, double whenNull)
        => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : whenNull;

    private static void WriteTimeIfNotNull(Utf8JsonWriter w, string name, DateTimeOffset? value)
    {
        if (value is { } t)
        {
            w.WriteString(name, Time(t));
        }
    }

    private static DateTimeOffset? OptionalTime(JsonElement e, string name)
        => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? ReadTimeOf(e, name) : null;
}

using System.Text;
using System.Text.Json;

namespace Flywheel.Core;

/// <summary>Reads and writes <see cref="LoopConfig"/> in the JSON shape of DESIGN §4.</summary>
public static class LoopConfigJson
{
    private static readonly (string, LoopKind)[] Kinds = [("choose", LoopKind.Choose), ("rank", LoopKind.Rank), ("ability", LoopKind.Ability)];
    private static readonly (string, LoopMode)[] Modes = [("online", LoopMode.Online), ("apprentice", LoopMode.Apprentice), ("frozen", LoopMode.Frozen)];
    private static readonly (string, SignalKind)[] SignalKinds = [("implicit", SignalKind.Implicit), ("explicit", SignalKind.Explicit)];
    private static readonly (string, RewardAggregate)[] Aggregates = [("sum", RewardAggregate.Sum), ("max", RewardAggregate.Max), ("last", RewardAggregate.Last)];
    private static readonly (string, ExplorationAlgorithm)[] Algorithms =
    [
        ("epsilon-greedy", ExplorationAlgorithm.EpsilonGreedy), ("softmax", ExplorationAlgorithm.Softmax),
        ("squarecb", ExplorationAlgorithm.SquareCb), ("bag", ExplorationAlgorithm.Bag), ("none", ExplorationAlgorithm.None),
    ];
    private static readonly (string, Reduction)[] Reductions = [("dm", Reduction.Dm), ("mtr", Reduction.Mtr), ("ips", Reduction.Ips), ("dr", Reduction.Dr)];
    private static readonly (string, PromotionPolicy)[] Policies =
    [
        ("lower-bound-beats-champion", PromotionPolicy.LowerBoundBeatsChampion),
        ("estimate-beats-champion", PromotionPolicy.EstimateBeatsChampion),
        ("manual", PromotionPolicy.Manual),
    ];

    private static readonly (string, ModelStatus)[] Statuses =
        [("candidate", ModelStatus.Candidate), ("shadow", ModelStatus.Shadow), ("champion", ModelStatus.Champion), ("retired", ModelStatus.Retired)];

    private static readonly (string, TurnTrigger)[] Triggers =
        [("schedule", TurnTrigger.Schedule), ("manual", TurnTrigger.Manual), ("guardrail", TurnTrigger.Guardrail)];

    private static readonly (string, TurnVerdict)[] Verdicts =
    [
        ("promoted", TurnVerdict.Promoted), ("rejected", TurnVerdict.Rejected), ("insufficient-data", TurnVerdict.InsufficientData),
        ("awaiting-manual-promotion", TurnVerdict.AwaitingManualPromotion), ("manually-promoted", TurnVerdict.ManuallyPromoted),
        ("rolled-back", TurnVerdict.RolledBack), ("graduated", TurnVerdict.Graduated),
    ];

    /// <summary>The JSON name of an enum value.</summary>
    public static string Name<T>(T value) where T : struct, Enum => value switch
    {
        LoopKind k => Lookup(Kinds, k),
        LoopMode m => Lookup(Modes, m),
        SignalKind s => Lookup(SignalKinds, s),
        RewardAggregate a => Lookup(Aggregates, a),
        ExplorationAlgorithm e => Lookup(Algorithms, e),
        Reduction r => Lookup(Reductions, r),
        PromotionPolicy p => Lookup(Policies, p),
        ModelStatus s => Lookup(Statuses, s),
        TurnTrigger t => Lookup(Triggers, t),
        TurnVerdict v => Lookup(Verdicts, v),
        _ => value.ToString().ToLowerInvariant(),
    };

    private static string Lookup<T>((string Name, T Value)[] table, T value) where T : struct, Enum
        => table.FirstOrDefault(t => EqualityComparer<T>.Default.Equals(t.Value, value)).Name
           ?? Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Parses the JSON name of a registry or ledger enum value; an unknown name names <paramref name="field"/>.</summary>
    public static T ParseName<T>(string name, string field) where T : struct, Enum
    {
        foreach (var value in System.Enum.GetValues<T>())
        {
            if (Name(value) == name)
            {
                return value;
            }
        }
        throw new FlywheelValidationException(field, $"'{name}' is not a known value");
    }

    /// <summary>Parses and validates a loop config; errors name the field.</summary>
    /// <param name="json">The JSON text.</param>
    /// <param name="expectedId">When given (the id in a URL), the body's id must be absent or equal to it.</param>
    public static LoopConfig Parse(string json, string? expectedId = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException ex)
        {
            throw new FlywheelValidationException("", $"is not valid JSON: {ex.Message}");
        }
        catch (ArgumentException)
        {
            // A lone surrogate in the .NET string cannot be transcoded to UTF-8.
            throw new FlywheelValidationException("", "is not valid JSON: the text holds an unpaired UTF-16 surrogate");
        }
        using (doc)
        {
            return Parse(doc.RootElement, expectedId);
        }
    }

    /// <summary>Parses and validates a loop config from a JSON element.</summary>
    public static LoopConfig Parse(JsonElement element, string? expectedId = null)
    {
        var root = new StrictJsonObject(element, "");
        var id = root.String("id");
        if (id is null)
        {
            id = expectedId ?? throw new FlywheelValidationException("id", "is required");
        }
        else if (expectedId is not null && id != expectedId)
        {
            throw new FlywheelValidationException("id", $"'{id}' differs from the loop in the URL, '{expectedId}'");
        }

        var config = new LoopConfig
        {
            Id = id,
            Kind = root.Enum("kind", LoopKind.Choose, Kinds),
            Mode = root.Enum("mode", LoopMode.Online, Modes),
            Signals = ReadSignals(root),
            Reward = ReadReward(root.Object("reward")),
            Exploration = ReadExploration(root.Object("exploration")),
            Learner = ReadLearner(root.Object("learner")),
            Turns = ReadTurns(root.Object("turns")),
        };
        root.RejectUnknown();
        config.Validate();
        return config;
    }

    private static Dictionary<string, SignalTypeConfig> ReadSignals(StrictJsonObject root)
    {
        var signals = new Dictionary<string, SignalTypeConfig>(StringComparer.Ordinal);
        var obj = root.Object("signals") ?? throw new FlywheelValidationException("signals", "is required: declare each signal type with its kind and weight");
        foreach (var p in obj.Properties())
        {
            var s = new StrictJsonObject(p.Value, $"signals.{p.Name}");
            var weight = s.Number("weight") ?? throw new FlywheelValidationException($"signals.{p.Name}.weight", "is required");
            signals[p.Name] = new SignalTypeConfig
            {
                Kind = s.Enum("kind", SignalKind.Implicit, SignalKinds),
                Weight = weight,
                ClosesWindow = s.Boolean("closesWindow") ?? false,
            };
            s.RejectUnknown();
            obj.TryGet(p.Name, out _);
        }
        obj.RejectUnknown();
        return signals;
    }

    private static RewardConfig ReadReward(StrictJsonObject? o)
    {
        if (o is null)
        {
            return new RewardConfig();
        }
        var defaults = new RewardConfig();
        var r = new RewardConfig
        {
            WindowSeconds = o.Number("windowSeconds") ?? defaults.WindowSeconds,
            Default = o.Number("default") ?? defaults.Default,
            Aggregate = o.Enum("aggregate", RewardAggregate.Sum, Aggregates),
            Min = o.Number("min") ?? defaults.Min,
            Max = o.Number("max") ?? defaults.Max,
        };
        o.RejectUnknown();
        return r;
    }

    /// <summary>Reads an <c>exploration</c> object (strictly; errors name fields under <paramref name="path"/>).</summary>
    public static ExplorationConfig ReadExploration(JsonElement element, string path) => ReadExploration(new StrictJsonObject(element, path));

    /// <summary>Reads a <c>learner</c> object (strictly; errors name fields under <paramref name="path"/>).</summary>
    public static LearnerConfig ReadLearner(JsonElement element, string path) => ReadLearner(new StrictJsonObject(element, path));

    private static ExplorationConfig ReadExploration(StrictJsonObject? o)
    {
        if (o is null)
        {
            return new ExplorationConfig();
        }
        var d = new ExplorationConfig();
        var e = new ExplorationConfig
        {
            Algorithm = o.Enum("algorithm", d.Algorithm, Algorithms),
            Epsilon = o.Number("epsilon"),
            Lambda = o.Number("lambda") ?? d.Lambda,
            Gamma = o.Number("gamma") ?? d.Gamma,
            Bags = o.Integer("bags", d.Bags, 1, 64),
        };
        o.RejectUnknown();
        return e;
    }

    private static LearnerConfig ReadLearner(StrictJsonObject? o)
    {
        if (o is null)
        {
            return new LearnerConfig();
        }
        var d = new LearnerConfig();
        IReadOnlyList<string> interactions = d.Interactions;
        if (o.TryGet("interactions", out var arr))
        {
            if (arr.ValueKind != JsonValueKind.Array)
            {
                throw new FlywheelValidationException(o.PathOf("interactions"), $"must be an array of strings, not {StrictJsonObject.Describe(arr)}");
            }
            var list = new List<string>();
            var i = 0;
            foreach (var item in arr.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.String)
                {
                    throw new FlywheelValidationException($"{o.PathOf("interactions")}[{i}]", $"must be a string, not {StrictJsonObject.Describe(item)}");
                }
                list.Add(StrictJsonObject.ReadString(item, $"{o.PathOf("interactions")}[{i}]"));
                i++;
            }
            interactions = list;
        }
        var l = new LearnerConfig
        {
            Bits = o.Integer("bits", d.Bits, 16, 24),
            Interactions = interactions,
            LearningRate = o.Number("learningRate"),
            PowerT = o.Number("powerT"),
            L2 = o.Number("l2") ?? d.L2,
            Reduction = o.Enum("reduction", d.Reduction, Reductions),
        };
        o.RejectUnknown();
        return l;
    }

    private static TurnsConfig ReadTurns(StrictJsonObject? o)
    {
        if (o is null)
        {
            return new TurnsConfig();
        }
        var d = new TurnsConfig();
        var t = new TurnsConfig
        {
            EverySeconds = o.Number("everySeconds") ?? d.EverySeconds,
            MinDecisions = o.Integer("minDecisions", d.MinDecisions, 1, int.MaxValue),
            PromoteWhen = o.Enum("promoteWhen", d.PromoteWhen, Policies),
            Confidence = o.Number("confidence") ?? d.Confidence,
            MismatchWeight = o.Number("mismatchWeight") ?? d.MismatchWeight,
        };
        o.RejectUnknown();
        return t;
    }

    /// <summary>Writes the full config, defaults included, as indented or compact JSON.</summary>
    public static string Serialize(LoopConfig config, bool indented = false)
    {
        ArgumentNullException.ThrowIfNull(config);
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = indented }))
        {
            Write(w, config);
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>Writes the full config as a JSON object.</summary>
    public static void Write(Utf8JsonWriter w, LoopConfig config)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(config);
        w.WriteStartObject();
        w.WriteString("id", config.Id);
        w.WriteString("kind", Name(config.Kind));
        w.WriteStartObject("signals");
        foreach (var (name, s) in config.Signals)
        {
            w.WriteStartObject(name);
            w.WriteString("kind", Name(s.Kind));
            w.WriteNumber("weight", s.Weight);
            if (s.ClosesWindow)
            {
                w.WriteBoolean("closesWindow", true);
            }
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.WriteStartObject("reward");
        w.WriteNumber("windowSeconds", config.Reward.WindowSeconds);
        w.WriteNumber("default", config.Reward.Default);
        w.WriteString("aggregate", Name(config.Reward.Aggregate));
        w.WriteNumber("min", config.Reward.Min);
        w.WriteNumber("max", config.Reward.Max);
        w.WriteEndObject();
        w.WritePropertyName("exploration");
        WriteExploration(w, config.Exploration);
        w.WritePropertyName("learner");
        WriteLearner(w, config.Learner);
        w.WriteStartObject("turns");
        w.WriteNumber("everySeconds", config.Turns.EverySeconds);
        w.WriteNumber("minDecisions", config.Turns.MinDecisions);
        w.WriteString("promoteWhen", Name(config.Turns.PromoteWhen));
        w.WriteNumber("confidence", config.Turns.Confidence);
        w.WriteNumber("mismatchWeight", config.Turns.MismatchWeight);
        w.WriteEndObject();
        w.WriteString("mode", Name(config.Mode));
        w.WriteEndObject();
    }

    /// <summary>Writes an <c>exploration</c> object, defaults included.</summary>
    public static void WriteExploration(Utf8JsonWriter w, ExplorationConfig exploration)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(exploration);
        w.WriteStartObject();
        w.WriteString("algorithm", Name(exploration.Algorithm));
        w.WriteNumber("epsilon", exploration.EffectiveEpsilon);
        w.WriteNumber("lambda", exploration.Lambda);
        w.WriteNumber("gamma", exploration.Gamma);
        w.WriteNumber("bags", exploration.Bags);
        w.WriteEndObject();
    }

    /// <summary>Writes a <c>learner</c> object, defaults included.</summary>
    public static void WriteLearner(Utf8JsonWriter w, LearnerConfig learner)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(learner);
        w.WriteStartObject();
        w.WriteNumber("bits", learner.Bits);
        w.WriteStartArray("interactions");
        foreach (var term in learner.Interactions)
        {
            w.WriteStringValue(term);
        }
        w.WriteEndArray();
        w.WriteNumber("learningRate", learner.EffectiveLearningRate);
        w.WriteNumber("powerT", learner.EffectivePowerT);
        w.WriteNumber("l2", learner.L2);
        w.WriteString("reduction", Name(learner.Reduction));
        w.WriteEndObject();
    }
}

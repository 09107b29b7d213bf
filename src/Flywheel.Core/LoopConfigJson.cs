using System.Text.Json;
using Flywheel.Core.Json;

namespace Flywheel.Core;

/// <summary>Reads and writes <see cref="LoopConfig"/> in the JSON shape of docs/loop-config.md.</summary>
public static class LoopConfigJson
{
    // A config is shallow: anything deeper is not a config, and is refused as such before its fields are looked at.
    private static readonly JsonSerializerOptions ConfigOptions = new(FlywheelJson.Options) { MaxDepth = 16 };

    private static readonly System.Text.Json.Serialization.Metadata.JsonTypeInfo<LoopConfigWire> Wire =
        (System.Text.Json.Serialization.Metadata.JsonTypeInfo<LoopConfigWire>)ConfigOptions.GetTypeInfo(typeof(LoopConfigWire));

    /// <summary>The JSON name of an enum value of the wire format (<c>lower-bound-beats-champion</c>).</summary>
    public static string Name<T>(T value) where T : struct, Enum => WireEnumConverter<T>.Name(value);

    /// <summary>Parses the JSON name of an enum value; an unknown name names <paramref name="field"/>.</summary>
    public static T ParseName<T>(string name, string field) where T : struct, Enum
        => WireEnumConverter<T>.TryParse(name, out var value) ? value : throw new FlywheelValidationException(field, $"'{name}' is not a known value");

    /// <summary>Parses and validates a loop config; errors name the field.</summary>
    /// <param name="json">The JSON text.</param>
    /// <param name="expectedId">When given (the id in a URL), the body's id must be absent or equal to it.</param>
    public static LoopConfig Parse(string json, string? expectedId = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        return Parse(FlywheelJson.Utf8(json), expectedId);
    }

    /// <summary>Parses and validates a loop config from UTF-8 JSON; errors name the field.</summary>
    /// <param name="utf8">The JSON.</param>
    /// <param name="expectedId">When given (the id in a URL), the body's id must be absent or equal to it.</param>
    public static LoopConfig Parse(ReadOnlySpan<byte> utf8, string? expectedId = null)
    {
        var wire = FlywheelJson.Read(utf8, Wire);
        var id = wire.Id;
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
            Kind = wire.Kind ?? LoopKind.Choose,
            Mode = wire.Mode ?? LoopMode.Online,
            Signals = Signals(wire.Signals ?? throw new FlywheelValidationException("signals", "is required: declare each signal type with its kind and weight")),
            Reward = Reward(wire.Reward),
            Exploration = Exploration(wire.Exploration),
            Learner = Learner(wire.Learner),
            Turns = Turns(wire.Turns),
            MinimumFeltEffect = wire.MinimumFeltEffect ?? LoopConfig.DefaultMinimumFeltEffect,
            Rank = Rank(wire.Rank) ?? (wire.Kind == LoopKind.Rank ? new RankConfig() : null),
            Ability = Ability(wire.Ability) ?? (wire.Kind == LoopKind.Ability ? new AbilityConfig() : null),
            Generation = Generation(wire.Generation),
        };
        config.Validate();
        return config;
    }

    /// <summary>Writes the full config, defaults included, as indented or compact JSON.</summary>
    public static string Serialize(LoopConfig config, bool indented = false)
    {
        ArgumentNullException.ThrowIfNull(config);
        return FlywheelJson.Serialize(config, indented);
    }

    /// <summary>Writes the full config as a JSON object.</summary>
    public static void Write(Utf8JsonWriter w, LoopConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        FlywheelJson.Write(w, config);
    }

    private static Dictionary<string, SignalTypeConfig> Signals(Dictionary<string, SignalTypeWire?> wire)
    {
        var signals = new Dictionary<string, SignalTypeConfig>(wire.Count, StringComparer.Ordinal);
        foreach (var (name, s) in wire)
        {
            // A null entry is left for Validate, which names it after checking the names before it.
            signals[name] = s is null ? null! : new SignalTypeConfig
            {
                Kind = s.Kind ?? SignalKind.Implicit,
                Weight = s.Weight ?? throw new FlywheelValidationException($"signals.{name}.weight", "is required"),
                ClosesWindow = s.ClosesWindow ?? false,
            };
        }
        return signals;
    }

    private static RewardConfig Reward(RewardWire? r)
    {
        var d = new RewardConfig();
        return r is null ? d : new RewardConfig
        {
            WindowSeconds = r.WindowSeconds ?? d.WindowSeconds,
            Default = r.Default ?? d.Default,
            Aggregate = r.Aggregate ?? d.Aggregate,
            Min = r.Min ?? d.Min,
            Max = r.Max ?? d.Max,
        };
    }

    private static ExplorationConfig Exploration(ExplorationWire? e)
    {
        var d = new ExplorationConfig();
        return e is null ? d : new ExplorationConfig
        {
            Algorithm = e.Algorithm ?? d.Algorithm,
            Epsilon = e.Epsilon,
            Lambda = e.Lambda ?? d.Lambda,
            Gamma = e.Gamma ?? d.Gamma,
            Bags = e.Bags ?? d.Bags,
        };
    }

    private static LearnerConfig Learner(LearnerWire? l)
    {
        var d = new LearnerConfig();
        return l is null ? d : new LearnerConfig
        {
            Bits = l.Bits ?? d.Bits,
            // A null term is left for Validate, which names it.
            Interactions = l.Interactions is { } terms ? [.. terms.Select(t => t!)] : d.Interactions,
            LearningRate = l.LearningRate,
            PowerT = l.PowerT,
            L2 = l.L2 ?? d.L2,
            Forgetting = l.Forgetting ?? d.Forgetting,
            Reduction = l.Reduction ?? d.Reduction,
        };
    }

    private static RankConfig? Rank(RankWire? r)
    {
        var d = new RankConfig();
        return r is null ? null : new RankConfig
        {
            Slots = r.Slots ?? d.Slots,
            PositionBias = r.PositionBias ?? d.PositionBias,
            InterventionRate = r.InterventionRate ?? d.InterventionRate,
        };
    }

    private static AbilityConfig? Ability(AbilityWire? a)
    {
        var d = new AbilityConfig();
        return a is null ? null : new AbilityConfig
        {
            TargetSuccess = a.TargetSuccess ?? d.TargetSuccess,
            Model = a.Model ?? d.Model,
            Guess = a.Guess ?? d.Guess,
            Reviews = a.Reviews ?? d.Reviews,
            Retention = a.Retention ?? d.Retention,
            GraceDays = a.GraceDays ?? d.GraceDays,
            DayStartHour = a.DayStartHour ?? d.DayStartHour,
        };
    }

    private static GenerationConfig? Generation(GenerationWire? g)
    {
        var d = new GenerationConfig();
        return g is null ? null : new GenerationConfig
        {
            StoreText = g.StoreText ?? d.StoreText,
            MaxChars = g.MaxChars ?? d.MaxChars,
            MaxPromptChars = g.MaxPromptChars ?? d.MaxPromptChars,
        };
    }

    private static TurnsConfig Turns(TurnsWire? t)
    {
        var d = new TurnsConfig();
        return t is null ? d : new TurnsConfig
        {
            EverySeconds = t.EverySeconds ?? d.EverySeconds,
            MinDecisions = t.MinDecisions ?? d.MinDecisions,
            PromoteWhen = t.PromoteWhen ?? d.PromoteWhen,
            Confidence = t.Confidence ?? d.Confidence,
            MismatchWeight = t.MismatchWeight ?? d.MismatchWeight,
        };
    }
}

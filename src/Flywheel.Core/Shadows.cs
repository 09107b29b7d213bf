using System.Text.Json.Serialization;
using Flywheel.Core.Json;
namespace Flywheel.Core;

/// <summary>Which side of a mismatch the reward shows to be wrong.</summary>
[JsonConverter(typeof(WireEnumConverter<MismatchSide>))]
public enum MismatchSide
{
    /// <summary>The served action earned less than the loop's default reward (a negative signal): the shadow may have been right.</summary>
    Served,
    /// <summary>The served action earned a clearly good reward: the shadow, which disagreed, was wrong.</summary>
    Shadow,
}

/// <summary>
/// A decision where a shadow disagreed with what was served and the reward shows one of them was clearly wrong:
/// the hard examples worth keeping.
/// </summary>
public sealed record Mismatch
{
    /// <summary>The decision.</summary>
    public required string DecisionId { get; init; }

    /// <summary>When it was made.</summary>
    [JsonConverter(typeof(UtcTimeConverter))]
    public required DateTimeOffset At { get; init; }

    /// <summary>The shadow model.</summary>
    public required int Version { get; init; }

    /// <summary>What was served.</summary>
    public required string ServedActionId { get; init; }

    /// <summary>What the shadow would have served.</summary>
    public required string ShadowActionId { get; init; }

    /// <summary>The served action's reward.</summary>
    public required double Reward { get; init; }

    /// <summary>Which side the reward shows to be wrong.</summary>
    public required MismatchSide Wrong { get; init; }

    /// <summary>
    /// Which side a reward shows to be wrong, or null when it shows neither: below the loop's default reward the served
    /// action was wrong; at or above halfway from the default to the maximum it was right.
    /// </summary>
    public static MismatchSide? Judge(double reward, RewardConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (reward < config.Default)
        {
            return MismatchSide.Served;
        }
        return reward >= config.Default + (config.Max - config.Default) / 2 && reward > config.Default ? MismatchSide.Shadow : null;
    }
}

/// <summary>How a shadow model compares with what was served, on the rewarded decisions it scored.</summary>
public sealed record ShadowReport
{
    /// <summary>The loop.</summary>
    public required string Loop { get; init; }

    /// <summary>The shadow model.</summary>
    public required int Version { get; init; }

    /// <summary>Rewarded decisions it scored.</summary>
    public required long Decisions { get; init; }

    /// <summary>How many of them it would have served the same action.</summary>
    public required long Agreements { get; init; }

    /// <summary>Agreements ÷ decisions (NaN when there are none).</summary>
    [JsonConverter(typeof(FiniteOrNullConverter))]
    public required double AgreementRate { get; init; }

    /// <summary>
    /// IPS and SNIPS of the shadow on live traffic, w = its probability of the served action ÷ the served probability
    /// (null before it has scored a rewarded decision).
    /// </summary>
    [JsonConverter(typeof(ShadowEstimatesConverter))]
    public OffPolicyEstimates? Estimates { get; init; }

    /// <summary>The mean reward of what was served on the same decisions.</summary>
    [JsonConverter(typeof(FiniteOrNullConverter))]
    public required double ServedMean { get; init; }

    /// <summary>Mismatches kept as hard examples.</summary>
    public required long Mismatches { get; init; }
}

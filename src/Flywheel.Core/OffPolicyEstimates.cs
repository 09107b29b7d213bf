using System.Globalization;
using System.Text.Json.Serialization;
using Flywheel.Core.Json;
namespace Flywheel.Core;

/// <summary>The estimates of docs/estimators.md over n logged decisions, with their intervals (docs/estimators.md, "Intervals").</summary>
[JsonConverter(typeof(EstimatesConverter))]
public sealed record OffPolicyEstimates
{
    /// <summary>n, the number of logged decisions.</summary>
    public required long Count { get; init; }

    /// <summary>Kish's effective sample size (Σw)² / Σw²; 0 when every weight is 0.</summary>
    public required double EffectiveSampleSize { get; init; }

    /// <summary>IPS with its interval.</summary>
    public required Estimate Ips { get; init; }

    /// <summary>IPS with its Clopper–Pearson interval; null unless every reward lies in [0, 1] or the reward range was given.</summary>
    public Estimate? IpsClopperPearson { get; init; }

    /// <summary>SNIPS with its interval; NaN when Σw = 0.</summary>
    public required Estimate Snips { get; init; }

    /// <summary>The direct method with its interval (the hull of its own and DR's).</summary>
    public required Estimate Dm { get; init; }

    /// <summary>Doubly robust with its interval.</summary>
    public required Estimate Dr { get; init; }

    /// <summary>The smallest reward seen.</summary>
    public required double MinReward { get; init; }

    /// <summary>The largest reward seen.</summary>
    public required double MaxReward { get; init; }

    /// <summary>The largest importance weight w = π(a|x)/p seen.</summary>
    public required double MaxWeight { get; init; }

    /// <summary>
    /// The largest weight's share of Σw, max w / Σw: the part of IPS, SNIPS and DR's correction that rests on one
    /// decision. 0 when Σw ≤ 0.
    /// </summary>
    public double MaxWeightShare { get; init; }

    /// <summary>
    /// The share of Σw past which one decision's weight counts as extreme (<see cref="MaxWeightShare"/>): above it the
    /// estimates move with that decision alone, whatever the others say.
    /// </summary>
    public const double ExtremeWeightShare = 0.1;

    /// <summary>
    /// How many equal shares of Σw one decision must also carry to count as extreme: on a handful of decisions every one
    /// carries more than a tenth of the weight, and that is thin evidence (the effective sample size says so), not a
    /// decision that outweighs the rest.
    /// </summary>
    public const double ExtremeWeightMultiple = 5;

    /// <summary>
    /// True when one decision carries more than <see cref="ExtremeWeightShare"/> of the total weight and more than
    /// <see cref="ExtremeWeightMultiple"/> times an equal share (1/n).
    /// </summary>
    public bool HasExtremeWeights => IsExtreme(MaxWeightShare, Count);

    /// <summary>Whether one decision carrying <paramref name="share"/> of Σw over <paramref name="count"/> decisions is extreme.</summary>
    public static bool IsExtreme(double share, long count) => share > ExtremeWeightShare && share * count > ExtremeWeightMultiple;

    /// <summary>Warnings about these estimates, in words; empty when there is nothing to warn about.</summary>
    public IReadOnlyList<string> Warnings => HasExtremeWeights ? [ExtremeWeightWarning(MaxWeight, MaxWeightShare)] : [];

    /// <summary>The warning about one decision carrying <paramref name="share"/> of Σw with weight <paramref name="maxWeight"/>.</summary>
    public static string ExtremeWeightWarning(double maxWeight, double share) => string.Create(CultureInfo.InvariantCulture,
        $"extreme importance weight: one decision carries {share:P1} of the total weight (w = π/p = {maxWeight:G4}), so IPS, SNIPS and DR rest on it alone; look for a tiny logged probability");

    /// <summary>One estimator's estimate, or null when it is not available (<c>ips-cp</c> outside [0, 1]).</summary>
    public Estimate? Get(OffPolicyEstimator estimator) => estimator switch
    {
        OffPolicyEstimator.Ips => Ips,
        OffPolicyEstimator.IpsClopperPearson => IpsClopperPearson,
        OffPolicyEstimator.Snips => Snips,
        OffPolicyEstimator.Dm => Dm,
        OffPolicyEstimator.Dr => Dr,
        _ => throw new ArgumentOutOfRangeException(nameof(estimator), estimator, null),
    };
}

using Flywheel.Core;
namespace Flywheel.Evaluation;

/// <summary>
/// The Clopper–Pearson interval of IPS for rewards in [0, 1]. With W the largest importance weight each term w·r/W
/// lies in [0, 1], and a sum of n such terms is never more spread than a binomial count with the same mean, so the
/// exact binomial interval of s = S/W successes out of n trials (S = Σ w·r), times W, bounds IPS's expectation.
/// (VowpalWabbit/estimators, docs/estimators.md, counts n/W trials instead: that equals this where V/W is small but
/// claims too much where the value is large, e.g. 89.5% coverage at a 20% click rate; see docs/estimators.md.)
/// Thread-safe.
/// </summary>
public static class ClopperPearson
{
    /// <summary>
    /// The two-sided interval for <paramref name="successes"/> out of <paramref name="trials"/>:
    /// lower = BetaInv(α/2; s, m − s + 1) (0 when s = 0), upper = BetaInv(1 − α/2; s + 1, m − s) (1 when s = m).
    /// </summary>
    /// <param name="successes">s ≥ 0.</param>
    /// <param name="trials">m ≥ s.</param>
    /// <param name="alpha">One minus the confidence level. <value>Default 0.05.</value></param>
    public static (double Lower, double Upper) Interval(double successes, double trials, double alpha = 0.05)
    {
        if (!(successes >= 0) || !double.IsFinite(successes))
        {
            throw new ArgumentOutOfRangeException(nameof(successes), successes, "must be a finite number ≥ 0");
        }
        if (!(trials >= successes) || !double.IsFinite(trials))
        {
            throw new ArgumentOutOfRangeException(nameof(trials), trials, "must be a finite number ≥ successes");
        }
        if (!(alpha > 0 && alpha < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "must lie in (0, 1)");
        }
        var lower = successes > 0 ? IncompleteBeta.Inverse(alpha / 2, successes, trials - successes + 1) : 0;
        var upper = successes < trials ? IncompleteBeta.Inverse(1 - alpha / 2, successes + 1, trials - successes) : 1;
        return (lower, upper);
    }

    /// <summary>
    /// The interval of IPS from its sufficient statistics: n rows, S = Σ w·r and W = max w, rewards in [0, 1]:
    /// W·[Clopper–Pearson of S/W out of n], clipped to [0, 1]. W = 0 (the target policy never takes the logged
    /// actions) gives [0, 1]. The value is IPS, S/n.
    /// </summary>
    public static Estimate ForIps(long count, double weightedRewardSum, double maxWeight, double alpha = 0.05)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var value = weightedRewardSum / count;
        if (!(maxWeight > 0))
        {
            return new Estimate(value, 0, 1);
        }
        // Rounding can put S/W a hair above n when every row has the largest weight and reward 1.
        var successes = Math.Min(Math.Max(0, weightedRewardSum / maxWeight), count);
        var (lower, upper) = Interval(successes, count, alpha);
        return new Estimate(value, Math.Min(1, maxWeight * lower), Math.Min(1, maxWeight * upper));
    }

    /// <summary>
    /// The interval of IPS for rewards in a known range [<paramref name="rewardMin"/>, <paramref name="rewardMax"/>]:
    /// each reward is mapped to (r − min)/(max − min), the [0, 1] interval is computed as above (Σ w·r becomes
    /// (Σ w·r − min·Σ w)/(max − min)) and its ends are mapped back. The value is IPS, S/n.
    /// </summary>
    public static Estimate ForIps(long count, double weightedRewardSum, double sumOfWeights, double maxWeight,
        double rewardMin, double rewardMax, double alpha = 0.05)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        if (!double.IsFinite(rewardMin) || !double.IsFinite(rewardMax) || !(rewardMin < rewardMax))
        {
            throw new ArgumentOutOfRangeException(nameof(rewardMax), $"the reward range [{rewardMin}, {rewardMax}] must be finite with min < max");
        }
        var span = rewardMax - rewardMin;
        var mapped = ForIps(count, (weightedRewardSum - rewardMin * sumOfWeights) / span, maxWeight, alpha);
        return new Estimate(weightedRewardSum / count, rewardMin + span * mapped.Lower, rewardMin + span * mapped.Upper);
    }
}

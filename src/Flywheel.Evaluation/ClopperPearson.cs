using Flywheel.Core;
namespace Flywheel.Evaluation;

/// <summary>
/// The Clopper–Pearson interval of IPS (ALGORITHMS §1, as VowpalWabbit/estimators computes it) for rewards in [0, 1]:
/// with W the largest importance weight, the weighted sum S = Σ w·r counts s = S/W successes out of m = n/W trials,
/// and the interval is the exact binomial one for those (non-integer) counts. Thread-safe.
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
    /// The interval of IPS from its sufficient statistics: n rows, S = Σ w·r and W = max w, rewards in [0, 1].
    /// W = 0 (the target policy never takes the logged actions) gives [0, 1]. The value is IPS, S/n.
    /// </summary>
    public static Estimate ForIps(long count, double weightedRewardSum, double maxWeight, double alpha = 0.05)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var value = weightedRewardSum / count;
        if (!(maxWeight > 0))
        {
            return new Estimate(value, 0, 1);
        }
        var successes = Math.Max(0, weightedRewardSum / maxWeight);
        var trials = count / maxWeight;
        // Rounding can put S/W a hair above n/W when every row has the largest weight and reward 1.
        successes = Math.Min(successes, trials);
        var (lower, upper) = Interval(successes, trials, alpha);
        return new Estimate(value, lower, upper);
    }
}

using System.Globalization;
using Flywheel.Core;

namespace Flywheel.Evaluation.Slates;

/// <summary>The slate estimators of Open Bandit Pipeline's <c>obp.ope</c> (McInerney et al. 2020; Kiyohara et al. 2022).</summary>
public enum SlateEstimator
{
    /// <summary>Standard slate IPS: every slot's reward times the whole slate's weight. Assumes nothing about how slots interact.</summary>
    Sips,

    /// <summary>Independent IPS: each slot's reward times its own item-position weight. Assumes a slot's reward depends on its action only.</summary>
    Iips,

    /// <summary>Reward-interaction IPS: each slot's reward times the weight of the prefix down to it. Assumes the cascade model (a slot's reward depends on the slots above).</summary>
    Rips,

    /// <summary><see cref="Sips"/> divided by the mean weight over all slots.</summary>
    SelfNormalizedSips,

    /// <summary><see cref="Iips"/> with each slot's weight divided by the mean weight at that slot.</summary>
    SelfNormalizedIips,

    /// <summary><see cref="Rips"/> with each slot's weight divided by the mean weight at that slot.</summary>
    SelfNormalizedRips,

    /// <summary>
    /// Cascade doubly robust (Kiyohara et al., WSDM 2022): RIPS's weights applied to the reward model's error, plus the
    /// model's expected reward under the target; unbiased under the cascade model when either the weights or the model
    /// are right, with less variance than RIPS when the model is good.
    /// </summary>
    CascadeDoublyRobust,
}

/// <summary>
/// Off-policy estimates of a ranking policy's value, the expected sum of rewards over a slate's slots, from logged
/// slates (docs/estimators.md, "Rankings"). Each estimator sums per-slot terms ρ into a per-slate value v and answers
/// the mean of v over the slates, as Open Bandit Pipeline does; the interval is a seeded percentile bootstrap of that
/// mean (self-normalising means computed once on all the data, as there).
/// </summary>
public static class SlateOffPolicy
{
    /// <summary>Bootstrap resamples of the slates behind each interval.</summary>
    public const int DefaultBootstrapSamples = 1000;

    /// <summary>The estimate of <paramref name="estimator"/> with its 95% bootstrap interval.</summary>
    /// <param name="slates">The logged slates; none may be empty.</param>
    /// <param name="estimator">Which estimator.</param>
    /// <param name="bootstrapSamples">Resamples for the interval, ≥ 1. <value>Default 1,000.</value></param>
    /// <param name="seed">Seed of the resampling, so the interval is reproducible.</param>
    /// <exception cref="ArgumentException">A slate is empty, its lists differ in length, a probability is out of range
    /// or a prefix probability rises down the slate; the message names the slate and slot (1-based).</exception>
    public static Estimate Estimate(IReadOnlyList<LoggedSlate> slates, SlateEstimator estimator, int bootstrapSamples = DefaultBootstrapSamples, int seed = 1)
    {
        ArgumentNullException.ThrowIfNull(slates);
        ArgumentOutOfRangeException.ThrowIfLessThan(bootstrapSamples, 1);
        var values = SlateValues(slates, estimator);
        if (values.Length == 0)
        {
            return new Estimate(double.NaN, double.NegativeInfinity, double.PositiveInfinity);
        }
        var value = Mean(values);
        if (values.Length == 1 || !double.IsFinite(value))
        {
            return new Estimate(value, double.NegativeInfinity, double.PositiveInfinity);
        }
        var random = new Random(seed);
        var means = new double[bootstrapSamples];
        for (var b = 0; b < bootstrapSamples; b++)
        {
            double sum = 0;
            for (var i = 0; i < values.Length; i++)
            {
                sum += values[random.Next(values.Length)];
            }
            means[b] = sum / values.Length;
        }
        Array.Sort(means);
        return new Estimate(value, Percentile(means, 0.025), Percentile(means, 0.975));
    }

    /// <summary>
    /// Every estimator that applies to <paramref name="rankings"/>, by name, with its bootstrap interval: the
    /// independent ones need item-position marginals, which logged rankings do not carry, and the cascade doubly robust
    /// one needs the reward model's estimates.
    /// </summary>
    public static IReadOnlyDictionary<string, Estimate> Report(SlateAccumulator rankings)
    {
        ArgumentNullException.ThrowIfNull(rankings);
        var marginals = rankings.Slates.All(s => s.BehaviorMarginal is not null && s.TargetMarginal is not null);
        var estimates = new Dictionary<string, Estimate>(StringComparer.Ordinal);
        foreach (var estimator in SlateEstimators.Ordered)
        {
            if ((estimator is SlateEstimator.Iips or SlateEstimator.SelfNormalizedIips && !marginals)
                || (estimator == SlateEstimator.CascadeDoublyRobust && !rankings.Modelled))
            {
                continue;
            }
            estimates[SlateEstimators.Name(estimator)] = Estimate(rankings.Slates, estimator);
        }
        return estimates;
    }

    /// <summary>
    /// Each slate's value v_i = Σ_l ρ_{i,l} under <paramref name="estimator"/>; the estimate is their mean. NaN for every
    /// slate when a self-normalising mean weight is zero.
    /// </summary>
    public static double[] SlateValues(IReadOnlyList<LoggedSlate> slates, SlateEstimator estimator)
    {
        ArgumentNullException.ThrowIfNull(slates);
        var independent = estimator is SlateEstimator.Iips or SlateEstimator.SelfNormalizedIips;
        var modelled = estimator == SlateEstimator.CascadeDoublyRobust;
        var slots = 0;
        for (var i = 0; i < slates.Count; i++)
        {
            Check(slates[i], i, independent, modelled);
            slots = Math.Max(slots, slates[i].Slots);
        }
        // The self-normalising divisors: the mean weight over every slot (SIPS), or over the slots at each position.
        var divisors = new double[slots];
        Array.Fill(divisors, 1.0);
        if (estimator is SlateEstimator.SelfNormalizedSips or SlateEstimator.SelfNormalizedIips or SlateEstimator.SelfNormalizedRips)
        {
            var sums = new double[slots];
            var counts = new long[slots];
            foreach (var slate in slates)
            {
                for (var l = 0; l < slate.Slots; l++)
                {
                    sums[l] += Weight(slate, l, estimator);
                    counts[l]++;
                }
            }
            if (estimator == SlateEstimator.SelfNormalizedSips)
            {
                Array.Fill(divisors, sums.Sum() / counts.Sum());
            }
            else
            {
                for (var l = 0; l < slots; l++)
                {
                    divisors[l] = sums[l] / counts[l];
                }
            }
        }
        var values = new double[slates.Count];
        for (var i = 0; i < slates.Count; i++)
        {
            var slate = slates[i];
            double v = 0;
            for (var l = 0; l < slate.Slots; l++)
            {
                v += estimator == SlateEstimator.CascadeDoublyRobust
                    ? CascadeTerm(slate, l)
                    : slate.Rewards[l] * Weight(slate, l, estimator) / divisors[l];
            }
            values[i] = v;
        }
        return values;
    }

    // w(1..l)·(r_l − Q̂_l(a(1..l))) + w(1..l−1)·E_{a∼π_e}[Q̂_l(a(1..l−1), a)], with w(1..0) = 1.
    private static double CascadeTerm(LoggedSlate slate, int slot)
    {
        var weight = slate.TargetPrefix[slot] / slate.BehaviorPrefix[slot];
        var above = slot == 0 ? 1 : slate.TargetPrefix[slot - 1] / slate.BehaviorPrefix[slot - 1];
        return (weight * (slate.Rewards[slot] - slate.ModelReward![slot])) + (above * slate.ModelRewardUnderTarget![slot]);
    }

    private static double Weight(LoggedSlate slate, int slot, SlateEstimator estimator) => estimator switch
    {
        SlateEstimator.Sips or SlateEstimator.SelfNormalizedSips => slate.TargetPrefix[^1] / slate.BehaviorPrefix[^1],
        SlateEstimator.Iips or SlateEstimator.SelfNormalizedIips => slate.TargetMarginal![slot] / slate.BehaviorMarginal![slot],
        _ => slate.TargetPrefix[slot] / slate.BehaviorPrefix[slot],
    };

    private static void Check(LoggedSlate slate, int index, bool independent, bool modelled)
    {
        ArgumentNullException.ThrowIfNull(slate);
        var n = slate.Slots;
        string Where(int slot) => string.Create(CultureInfo.InvariantCulture, $"slate {index + 1}, slot {slot + 1}");
        if (n == 0)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"slate {index + 1} has no slots"), nameof(slate));
        }
        if (slate.BehaviorPrefix.Count != n || slate.TargetPrefix.Count != n
            || (independent && (slate.BehaviorMarginal?.Count != n || slate.TargetMarginal?.Count != n))
            || (modelled && (slate.ModelReward?.Count != n || slate.ModelRewardUnderTarget?.Count != n)))
        {
            var which = independent ? ", the item-position marginals included" : modelled ? ", the reward model's estimates included" : "";
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"slate {index + 1}: every list needs one entry per slot ({n}){which}"), nameof(slate));
        }
        for (var l = 0; l < n; l++)
        {
            if (!double.IsFinite(slate.Rewards[l]))
            {
                throw new ArgumentException($"{Where(l)}: the reward is not a finite number", nameof(slate));
            }
            Probability(slate.BehaviorPrefix[l], behaviour: true, $"{Where(l)}: behaviour prefix probability");
            Probability(slate.TargetPrefix[l], behaviour: false, $"{Where(l)}: target prefix probability");
            if (l > 0 && (slate.BehaviorPrefix[l] > slate.BehaviorPrefix[l - 1] || slate.TargetPrefix[l] > slate.TargetPrefix[l - 1]))
            {
                throw new ArgumentException($"{Where(l)}: a prefix probability rises down the slate (a longer prefix cannot be likelier)", nameof(slate));
            }
            if (modelled && !(double.IsFinite(slate.ModelReward![l]) && double.IsFinite(slate.ModelRewardUnderTarget![l])))
            {
                throw new ArgumentException($"{Where(l)}: a reward model's estimate is not a finite number", nameof(slate));
            }
            if (independent)
            {
                Probability(slate.BehaviorMarginal![l], behaviour: true, $"{Where(l)}: behaviour item-position probability");
                Probability(slate.TargetMarginal![l], behaviour: false, $"{Where(l)}: target item-position probability");
            }
        }
    }

    private static void Probability(double p, bool behaviour, string what)
    {
        if (behaviour ? !(p > 0 && p <= 1) : !(p >= 0 && p <= 1))
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{what} {p} lies outside {(behaviour ? "(0, 1]" : "[0, 1]")}"));
        }
    }

    private static double Mean(double[] values)
    {
        double sum = 0;
        foreach (var v in values)
        {
            sum += v;
        }
        return sum / values.Length;
    }

    // numpy's default percentile: linear interpolation between the order statistics around q·(n − 1).
    private static double Percentile(double[] sorted, double q)
    {
        var position = q * (sorted.Length - 1);
        var below = (int)Math.Floor(position);
        var above = Math.Min(below + 1, sorted.Length - 1);
        return sorted[below] + ((position - below) * (sorted[above] - sorted[below]));
    }
}

/// <summary>The slate estimators' names, as Open Bandit Pipeline abbreviates them (<c>sips</c>, <c>snrips</c>, <c>cascade-dr</c>).</summary>
public static class SlateEstimators
{
    /// <summary>Every estimator, in the order reports list them.</summary>
    public static IReadOnlyList<SlateEstimator> Ordered { get; } =
    [
        SlateEstimator.Sips, SlateEstimator.Iips, SlateEstimator.Rips,
        SlateEstimator.SelfNormalizedSips, SlateEstimator.SelfNormalizedIips, SlateEstimator.SelfNormalizedRips,
        SlateEstimator.CascadeDoublyRobust,
    ];

    /// <summary>The estimator's name.</summary>
    public static string Name(SlateEstimator estimator) => estimator switch
    {
        SlateEstimator.Sips => "sips",
        SlateEstimator.Iips => "iips",
        SlateEstimator.Rips => "rips",
        SlateEstimator.SelfNormalizedSips => "snsips",
        SlateEstimator.SelfNormalizedIips => "sniips",
        SlateEstimator.SelfNormalizedRips => "snrips",
        SlateEstimator.CascadeDoublyRobust => "cascade-dr",
        _ => throw new ArgumentOutOfRangeException(nameof(estimator), estimator, "Unknown slate estimator."),
    };
}

using Flywheel.Core;

namespace Flywheel.Evaluation.Slates;

/// <summary>
/// Collects logged rankings scored under one target policy and answers the estimates a turn judges a ranker by
/// (docs/turns.md, "Rank loops"), in the shape of <see cref="OffPolicyEstimates"/> so that rankers are judged under the
/// same promotion rules as choosers: <see cref="OffPolicyEstimates.Ips"/> is RIPS (reward-interaction IPS, the cascade
/// model's estimator), <see cref="OffPolicyEstimates.Snips"/> its self-normalised form, <see cref="OffPolicyEstimates.Dm"/>
/// the reward model's expected slate reward under the target along the logged prefixes, and
/// <see cref="OffPolicyEstimates.Dr"/> the cascade doubly robust estimate. Values are expected rewards per ranking (the
/// sum over its slots). Intervals are normal: v ± z·s/√n over the per-ranking values (for SNRIPS, over the terms
/// Σ_l w_l·(r_l − V_l)/mean_l(w), the delta method). The weight figures (effective sample size, largest weight and its
/// share) are of each ranking's mean prefix weight (1/K)·Σ_l w(1..l). Without the reward model's estimates on every
/// slate, DM and DR are not computed (NaN). Not thread-safe.
/// </summary>
public sealed class SlateAccumulator
{
    private readonly List<LoggedSlate> _slates = [];

    /// <summary>Rankings added.</summary>
    public int Count => _slates.Count;

    /// <summary>The rankings added, in order.</summary>
    public IReadOnlyList<LoggedSlate> Slates => _slates;

    /// <summary>Whether every ranking carries the reward model's estimates (DM and DR need them).</summary>
    public bool Modelled => _slates.TrueForAll(s => s.ModelReward is not null && s.ModelRewardUnderTarget is not null);

    /// <summary>Adds one logged ranking with its probabilities under the target and the reward model's estimates.</summary>
    public void Add(LoggedSlate slate)
    {
        ArgumentNullException.ThrowIfNull(slate);
        _slates.Add(slate);
    }

    /// <summary>The estimates at normal quantile <paramref name="z"/>, with rewards per slot in [<paramref name="rewardMin"/>, <paramref name="rewardMax"/>].</summary>
    public OffPolicyEstimates Estimates(double z, double rewardMin, double rewardMax)
    {
        var n = _slates.Count;
        if (n == 0)
        {
            throw new InvalidOperationException("No logged rankings were added: there is nothing to estimate.");
        }
        var rips = SlateOffPolicy.SlateValues(_slates, SlateEstimator.Rips);
        var modelled = Modelled;
        var dr = modelled ? SlateOffPolicy.SlateValues(_slates, SlateEstimator.CascadeDoublyRobust) : [];
        var dm = new double[n];
        var observed = new double[n];
        var weights = new double[n];
        var slots = 0;
        for (var i = 0; i < n; i++)
        {
            var slate = _slates[i];
            slots = Math.Max(slots, slate.Slots);
            double w = 0;
            for (var l = 0; l < slate.Slots; l++)
            {
                dm[i] += modelled ? slate.ModelRewardUnderTarget![l] : 0;
                observed[i] += slate.Rewards[l];
                w += slate.TargetPrefix[l] / slate.BehaviorPrefix[l];
            }
            weights[i] = w / slate.Slots;
        }
        double sumW = 0, sumW2 = 0, maxW = 0;
        foreach (var w in weights)
        {
            sumW += w;
            sumW2 += w * w;
            maxW = Math.Max(maxW, w);
        }
        var low = slots * rewardMin;
        var high = slots * rewardMax;
        return new OffPolicyEstimates
        {
            Count = n,
            EffectiveSampleSize = sumW2 > 0 ? sumW * sumW / sumW2 : 0,
            Ips = Normal(rips, z, low, high),
            Snips = SelfNormalized(z, slots, low, high),
            Dm = modelled ? Normal(dm, z, low, high) : Unknown,
            Dr = modelled ? Normal(dr, z, low, high) : Unknown,
            MinReward = observed.Min(),
            MaxReward = observed.Max(),
            MaxWeight = maxW,
            MaxWeightShare = sumW > 0 ? maxW / sumW : 0,
        };
    }

    /// <summary>SNRIPS: Σ_l Σ_i w_il·r_il / Σ_i w_il, with the delta method's per-ranking terms.</summary>
    private Estimate SelfNormalized(double z, int slots, double low, double high)
    {
        var sumW = new double[slots];
        var sumWR = new double[slots];
        var counts = new long[slots];
        foreach (var slate in _slates)
        {
            for (var l = 0; l < slate.Slots; l++)
            {
                var w = slate.TargetPrefix[l] / slate.BehaviorPrefix[l];
                sumW[l] += w;
                sumWR[l] += w * slate.Rewards[l];
                counts[l]++;
            }
        }
        if (sumW.Any(s => s <= 0))
        {
            return new Estimate(double.NaN, double.NegativeInfinity, double.PositiveInfinity);
        }
        var value = 0.0;
        var mean = new double[slots];
        var perSlot = new double[slots];
        for (var l = 0; l < slots; l++)
        {
            perSlot[l] = sumWR[l] / sumW[l];
            mean[l] = sumW[l] / counts[l];
            value += perSlot[l];
        }
        var terms = new double[_slates.Count];
        for (var i = 0; i < terms.Length; i++)
        {
            var slate = _slates[i];
            for (var l = 0; l < slate.Slots; l++)
            {
                terms[i] += slate.TargetPrefix[l] / slate.BehaviorPrefix[l] * (slate.Rewards[l] - perSlot[l]) / mean[l];
            }
        }
        var spread = z * StandardDeviation(terms, 0) / Math.Sqrt(terms.Length);
        return Bounded(value, spread, low, high);
    }

    private static readonly Estimate Unknown = new(double.NaN, double.NegativeInfinity, double.PositiveInfinity);

    private static Estimate Normal(double[] values, double z, double low, double high)
    {
        var mean = values.Average();
        return Bounded(mean, z * StandardDeviation(values, mean) / Math.Sqrt(values.Length), low, high);
    }

    /// <summary>value ± spread, the ends kept within what a ranking can earn; unbounded with a single ranking.</summary>
    private static Estimate Bounded(double value, double spread, double low, double high)
        => double.IsFinite(spread)
            ? new Estimate(value, Math.Max(low, value - spread), Math.Min(high, value + spread))
            : new Estimate(value, double.NegativeInfinity, double.PositiveInfinity);

    private static double StandardDeviation(double[] values, double mean)
    {
        if (values.Length < 2)
        {
            return double.PositiveInfinity;
        }
        double squares = 0;
        foreach (var v in values)
        {
            squares += (v - mean) * (v - mean);
        }
        return Math.Sqrt(squares / (values.Length - 1));
    }
}

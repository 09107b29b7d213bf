using System.Runtime.CompilerServices;
using Flywheel.Core;

namespace Flywheel.Evaluation;

/// <summary>
/// Streams logged decisions into every estimate of docs/estimators.md in one pass and constant memory, allocating nothing.
/// Each row gives w = π(a|x)/p, the reward r, q̂(x, π) = Σ_a π(a|x)·q̂(x, a) and q̂(x, a) of the logged action.
/// Values come from compensated (Neumaier) sums; the spreads of the per-row terms t_i from Welford's updates of
/// the mean and the sum of squared deviations, which stay accurate where Σt² − (Σt)²/n cancels. For SNIPS, whose
/// terms t_i = w_i·(r_i − V)/mean(w) depend on the final V, Σ w²(r − V)² is kept as the w²-weighted spread of r
/// around its w²-weighted mean m plus Σw²·(m − V)²: two non-negative parts, so no cancellation either.
/// Accumulators over parts of the data can be merged (<see cref="Merge"/>). A mutable struct: pass it by reference.
/// </summary>
public struct OffPolicyAccumulator
{
    private long _count;
    private NeumaierSum _sumW;
    private NeumaierSum _sumWR;
    private NeumaierSum _sumDm;
    private NeumaierSum _sumDr;
    private Moments _ips;
    private Moments _dm;
    private Moments _dr;
    private double _sumW2;
    private double _meanR2;   // Σ w²·r / Σ w²
    private double _spreadR2; // Σ w²·(r − meanR2)²
    private double _maxW;
    private double _minR;
    private double _maxR;
    private double _minQp;
    private double _maxQp;

    /// <summary>Rows added.</summary>
    public readonly long Count => _count;

    /// <summary>Σ w.</summary>
    public readonly double SumOfWeights => _sumW.Value;

    /// <summary>Σ w·r.</summary>
    public readonly double SumOfWeightedRewards => _sumWR.Value;

    /// <summary>Adds one logged decision.</summary>
    /// <param name="weight">
    /// w = π(a|x)/p, finite; normally ≥ 0, but a target probability of −1e-6 (rounding noise that
    /// <see cref="Flywheel.Core.LoggedDecision.Validate"/> tolerates) gives a slightly negative one, used as given.
    /// </param>
    /// <param name="reward">r.</param>
    /// <param name="policyEstimate">q̂(x, π), the target policy's expected estimated reward (0 when DM/DR are not wanted).</param>
    /// <param name="chosenEstimate">q̂(x, a) of the logged action (0 when DM/DR are not wanted).</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(double weight, double reward, double policyEstimate, double chosenEstimate)
    {
        if (!double.IsFinite(weight) || !double.IsFinite(reward)
            || !double.IsFinite(policyEstimate) || !double.IsFinite(chosenEstimate))
        {
            ThrowBadRow(weight, reward, policyEstimate, chosenEstimate);
        }
        var n = ++_count;
        var wr = weight * reward;
        var dr = policyEstimate + weight * (reward - chosenEstimate);
        _sumW.Add(weight);
        _sumWR.Add(wr);
        _sumDm.Add(policyEstimate);
        _sumDr.Add(dr);
        _ips.Add(wr, n);
        _dm.Add(policyEstimate, n);
        _dr.Add(dr, n);
        var u = weight * weight;
        if (u > 0)
        {
            // West's weighted update of the mean and spread of r under weights w².
            _sumW2 += u;
            var delta = reward - _meanR2;
            _meanR2 += delta * (u / _sumW2);
            _spreadR2 += u * delta * (reward - _meanR2);
        }
        if (n == 1)
        {
            _maxW = weight;
            _minR = reward;
            _maxR = reward;
            _minQp = policyEstimate;
            _maxQp = policyEstimate;
        }
        else
        {
            _maxW = Math.Max(_maxW, weight);
            _minR = Math.Min(_minR, reward);
            _maxR = Math.Max(_maxR, reward);
            _minQp = Math.Min(_minQp, policyEstimate);
            _maxQp = Math.Max(_maxQp, policyEstimate);
        }
    }

    /// <summary>Adds the rows of another accumulator (Chan et al.'s pairwise combination), as if added one by one.</summary>
    public void Merge(in OffPolicyAccumulator other)
    {
        if (other._count == 0)
        {
            return;
        }
        if (_count == 0)
        {
            this = other;
            return;
        }
        var n1 = _count;
        var n2 = other._count;
        _count = n1 + n2;
        _sumW.Add(other._sumW);
        _sumWR.Add(other._sumWR);
        _sumDm.Add(other._sumDm);
        _sumDr.Add(other._sumDr);
        _ips.Merge(other._ips, n1, n2);
        _dm.Merge(other._dm, n1, n2);
        _dr.Merge(other._dr, n1, n2);
        if (other._sumW2 > 0)
        {
            var u1 = _sumW2;
            var u2 = other._sumW2;
            var total = u1 + u2;
            var delta = other._meanR2 - _meanR2;
            _meanR2 += delta * (u2 / total);
            _spreadR2 += other._spreadR2 + delta * delta * (u1 * u2 / total);
            _sumW2 = total;
        }
        _maxW = Math.Max(_maxW, other._maxW);
        _minR = Math.Min(_minR, other._minR);
        _maxR = Math.Max(_maxR, other._maxR);
        _minQp = Math.Min(_minQp, other._minQp);
        _maxQp = Math.Max(_maxQp, other._maxQp);
    }

    /// <summary>
    /// The estimates so far with 95% intervals (docs/estimators.md, "Intervals"), assuming rewards in the hull of [0, 1]
    /// and the observed rewards. Throws <see cref="InvalidOperationException"/> when no row was added.
    /// </summary>
    public readonly OffPolicyEstimates GetEstimates() => GetEstimates(Estimate.Z95);

    /// <summary>The estimates so far, with intervals at the normal quantile <paramref name="z"/> (see <see cref="Estimate.ZFor"/>).</summary>
    public readonly OffPolicyEstimates GetEstimates(double z) => Build(z, null, null);

    /// <summary>
    /// The estimates so far, with intervals at <paramref name="z"/> for rewards known to lie in
    /// [<paramref name="rewardMin"/>, <paramref name="rewardMax"/>] (tighter than the observed hull when the range is
    /// narrower than [0, 1]; <c>ips-cp</c> is then always given). Throws <see cref="ArgumentOutOfRangeException"/>
    /// when the range is empty or a reward added lies outside it.
    /// </summary>
    public readonly OffPolicyEstimates GetEstimates(double z, double rewardMin, double rewardMax)
    {
        OffPolicyIntervals.CheckRange(rewardMin, rewardMax);
        return Build(z, rewardMin, rewardMax);
    }

    /// <summary>
    /// The estimates with intervals for rewards in [<paramref name="rewardMin"/>, <paramref name="rewardMax"/>], widened
    /// to any reward added outside it rather than refused: a loop's stored rewards keep the range they were clamped to
    /// when its config said otherwise.
    /// </summary>
    public readonly OffPolicyEstimates GetEstimatesWithin(double z, double rewardMin, double rewardMax)
        => GetEstimates(z, _count > 0 ? Math.Min(rewardMin, _minR) : rewardMin, _count > 0 ? Math.Max(rewardMax, _maxR) : rewardMax);

    private readonly OffPolicyEstimates Build(double z, double? rewardMin, double? rewardMax)
    {
        var n = _count;
        if (n == 0)
        {
            throw new InvalidOperationException("No logged decisions were added: there is nothing to estimate.");
        }
        var sumW = _sumW.Value;
        var sumWR = _sumWR.Value;
        var snips = sumW > 0 ? sumWR / sumW : 0;
        var gap = _meanR2 - snips;
        var statistics = new OffPolicyStatistics
        {
            Count = n,
            SumW = sumW,
            SumWR = sumWR,
            SumW2 = _sumW2,
            Ips = sumWR / n,
            IpsDeviations = _ips.SquaredDeviations,
            SnipsCross = _sumW2 * gap,
            SnipsSquares = _spreadR2 + _sumW2 * gap * gap,
            Dm = _sumDm.Value / n,
            DmDeviations = _dm.SquaredDeviations,
            Dr = _sumDr.Value / n,
            DrDeviations = _dr.SquaredDeviations,
            MaxW = _maxW,
            MinR = _minR,
            MaxR = _maxR,
            MinPolicyEstimate = _minQp,
            MaxPolicyEstimate = _maxQp,
        };
        return OffPolicyIntervals.Build(statistics, z, rewardMin, rewardMax);
    }

    private static void ThrowBadRow(double weight, double reward, double policyEstimate, double chosenEstimate)
    {
        if (!double.IsFinite(weight))
        {
            throw new ArgumentOutOfRangeException(nameof(weight), weight, "must be finite");
        }
        if (!double.IsFinite(reward))
        {
            throw new ArgumentOutOfRangeException(nameof(reward), reward, "must be finite");
        }
        if (!double.IsFinite(policyEstimate))
        {
            throw new ArgumentOutOfRangeException(nameof(policyEstimate), policyEstimate, "must be finite");
        }
        throw new ArgumentOutOfRangeException(nameof(chosenEstimate), chosenEstimate, "must be finite");
    }

    /// <summary>Welford's running mean and sum of squared deviations.</summary>
    private struct Moments
    {
        private double _mean;

        public double SquaredDeviations { readonly get; private set; }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Add(double x, long n)
        {
            var delta = x - _mean;
            _mean += delta / n;
            SquaredDeviations += delta * (x - _mean);
        }

        public void Merge(in Moments other, long n1, long n2)
        {
            var n = (double)(n1 + n2);
            var delta = other._mean - _mean;
            _mean += delta * (n2 / n);
            SquaredDeviations += other.SquaredDeviations + delta * delta * (n1 / n * n2);
        }
    }
}

/// <summary>Neumaier's compensated sum: the rounding error of each addition is kept and added back at the end.</summary>
internal struct NeumaierSum
{
    private double _sum;
    private double _compensation;

    public readonly double Value => _sum + _compensation;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(double x)
    {
        var t = _sum + x;
        _compensation += Math.Abs(_sum) >= Math.Abs(x) ? (_sum - t) + x : (x - t) + _sum;
        _sum = t;
    }

    public void Add(in NeumaierSum other)
    {
        Add(other._sum);
        _compensation += other._compensation;
    }
}

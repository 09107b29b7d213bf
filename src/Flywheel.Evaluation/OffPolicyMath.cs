using System.Numerics;
using System.Runtime.InteropServices;
using Flywheel.Core;

namespace Flywheel.Evaluation;

/// <summary>IPS and SNIPS with their intervals (docs/estimators.md, "Intervals") and the effective sample size (the fast path's result).</summary>
/// <param name="Count">n.</param>
/// <param name="Ips">IPS with its interval.</param>
/// <param name="Snips">SNIPS with its interval (NaN when Σw = 0).</param>
/// <param name="EffectiveSampleSize">(Σw)² / Σw², 0 when every weight is 0.</param>
public readonly record struct IpsSnipsEstimates(long Count, Estimate Ips, Estimate Snips, double EffectiveSampleSize);

/// <summary>
/// The estimators of docs/estimators.md over columns held in memory, by two passes: sums first, then the squared
/// deviations of the per-row terms from their mean, corrected by (Σ deviation)²/n (the corrected two-pass
/// algorithm). <see cref="IpsSnips(ReadOnlySpan{double}, ReadOnlySpan{double})"/> is the vectorized fast path for
/// IPS and SNIPS alone. Nothing is allocated. Thread-safe (pure functions).
/// </summary>
public static class OffPolicyMath
{
    /// <summary>Every estimate of docs/estimators.md from per-row columns of equal length.</summary>
    /// <param name="weights">w_i = π(a_i|x_i)/p_i (see <see cref="OffPolicyAccumulator.Add"/> on slightly negative weights).</param>
    /// <param name="rewards">r_i.</param>
    /// <param name="policyEstimates">q̂(x_i, π).</param>
    /// <param name="chosenEstimates">q̂(x_i, a_i).</param>
    /// <remarks>95% intervals for rewards in the hull of [0, 1] and the observed ones, as <see cref="OffPolicyAccumulator.GetEstimates()"/>.</remarks>
    public static OffPolicyEstimates Evaluate(ReadOnlySpan<double> weights, ReadOnlySpan<double> rewards,
        ReadOnlySpan<double> policyEstimates, ReadOnlySpan<double> chosenEstimates)
        => Evaluate(weights, rewards, policyEstimates, chosenEstimates, Estimate.Z95, null, null);

    /// <summary>
    /// Every estimate of docs/estimators.md with intervals at <paramref name="z"/> for rewards known to lie in
    /// [<paramref name="rewardMin"/>, <paramref name="rewardMax"/>], as <see cref="OffPolicyAccumulator.GetEstimates(double, double, double)"/>.
    /// </summary>
    public static OffPolicyEstimates Evaluate(ReadOnlySpan<double> weights, ReadOnlySpan<double> rewards,
        ReadOnlySpan<double> policyEstimates, ReadOnlySpan<double> chosenEstimates, double z, double rewardMin, double rewardMax)
    {
        OffPolicyIntervals.CheckRange(rewardMin, rewardMax);
        return Evaluate(weights, rewards, policyEstimates, chosenEstimates, z, (double?)rewardMin, rewardMax);
    }

    private static OffPolicyEstimates Evaluate(ReadOnlySpan<double> weights, ReadOnlySpan<double> rewards,
        ReadOnlySpan<double> policyEstimates, ReadOnlySpan<double> chosenEstimates, double z, double? rewardMin, double? rewardMax)
    {
        var n = weights.Length;
        if (rewards.Length != n || policyEstimates.Length != n || chosenEstimates.Length != n)
        {
            throw new ArgumentException("weights, rewards, policyEstimates and chosenEstimates must have the same length");
        }
        if (n == 0)
        {
            throw new ArgumentException("there are no rows to estimate from", nameof(weights));
        }
        NeumaierSum sumW = default, sumWR = default, sumDm = default, sumDr = default;
        double sumW2 = 0, maxW = weights[0], minR = rewards[0], maxR = rewards[0];
        double minQp = policyEstimates[0], maxQp = policyEstimates[0];
        for (var i = 0; i < n; i++)
        {
            var w = weights[i];
            var r = rewards[i];
            if (!double.IsFinite(w) || !double.IsFinite(r) || !double.IsFinite(policyEstimates[i]) || !double.IsFinite(chosenEstimates[i]))
            {
                throw new ArgumentOutOfRangeException(nameof(weights), $"row {i}: weights, rewards and estimates must be finite");
            }
            sumW.Add(w);
            sumWR.Add(w * r);
            sumDm.Add(policyEstimates[i]);
            sumDr.Add(policyEstimates[i] + w * (r - chosenEstimates[i]));
            sumW2 += w * w;
            maxW = Math.Max(maxW, w);
            minR = Math.Min(minR, r);
            maxR = Math.Max(maxR, r);
            minQp = Math.Min(minQp, policyEstimates[i]);
            maxQp = Math.Max(maxQp, policyEstimates[i]);
        }
        var ips = sumWR.Value / n;
        var dm = sumDm.Value / n;
        var dr = sumDr.Value / n;
        var sumWValue = sumW.Value;
        var snips = sumWValue > 0 ? sumWR.Value / sumWValue : double.NaN;
        var meanW = sumWValue / n;
        Deviations ipsDev = default, snipsDev = default, dmDev = default, drDev = default;
        var snipsCross = 0.0;
        for (var i = 0; i < n; i++)
        {
            var w = weights[i];
            var r = rewards[i];
            ipsDev.Add(w * r - ips);
            dmDev.Add(policyEstimates[i] - dm);
            drDev.Add(policyEstimates[i] + w * (r - chosenEstimates[i]) - dr);
            if (sumWValue > 0)
            {
                // w_i·(r_i − V), whose sum is 0 up to rounding; the SNIPS term is this over mean(w).
                var e = w * (r - snips);
                snipsDev.Add(e);
                snipsCross += w * e;
            }
        }
        var statistics = new OffPolicyStatistics
        {
            Count = n,
            SumW = sumWValue,
            SumWR = sumWR.Value,
            SumW2 = sumW2,
            Ips = ips,
            IpsDeviations = ipsDev.Corrected(n),
            SnipsCross = snipsCross,
            SnipsSquares = snipsDev.Corrected(n),
            Dm = dm,
            DmDeviations = dmDev.Corrected(n),
            Dr = dr,
            DrDeviations = drDev.Corrected(n),
            MaxW = maxW,
            MinR = minR,
            MaxR = maxR,
            MinPolicyEstimate = minQp,
            MaxPolicyEstimate = maxQp,
        };
        return OffPolicyIntervals.Build(statistics, z, rewardMin, rewardMax);
    }

    /// <summary>
    /// IPS and SNIPS with their intervals (as <see cref="Evaluate(ReadOnlySpan{double}, ReadOnlySpan{double}, ReadOnlySpan{double}, ReadOnlySpan{double})"/>) and the ESS, from importance weights and rewards: two vectorized
    /// passes over the arrays. The inputs are not checked beyond their lengths.
    /// </summary>
    public static IpsSnipsEstimates IpsSnips(ReadOnlySpan<double> weights, ReadOnlySpan<double> rewards)
    {
        if (rewards.Length != weights.Length)
        {
            throw new ArgumentException("weights and rewards must have the same length");
        }
        return IpsSnips(weights, default, rewards, divide: false);
    }

    /// <summary>
    /// IPS and SNIPS as <see cref="IpsSnips(ReadOnlySpan{double}, ReadOnlySpan{double})"/>, with the weights
    /// computed on the fly as w = targetProbabilities[i] / loggedProbabilities[i].
    /// </summary>
    public static IpsSnipsEstimates IpsSnips(ReadOnlySpan<double> loggedProbabilities, ReadOnlySpan<double> targetProbabilities, ReadOnlySpan<double> rewards)
    {
        if (targetProbabilities.Length != loggedProbabilities.Length || rewards.Length != loggedProbabilities.Length)
        {
            throw new ArgumentException("loggedProbabilities, targetProbabilities and rewards must have the same length");
        }
        return IpsSnips(targetProbabilities, loggedProbabilities, rewards, divide: true);
    }

    // Weights are numerators[i] / denominators[i] when divide is set, else numerators[i].
    private static IpsSnipsEstimates IpsSnips(ReadOnlySpan<double> numerators, ReadOnlySpan<double> denominators, ReadOnlySpan<double> rewards, bool divide)
    {
        var n = numerators.Length;
        if (n == 0)
        {
            throw new ArgumentException("there are no rows to estimate from", nameof(rewards));
        }
        var width = Vector<double>.Count;
        var vectors = Vector.IsHardwareAccelerated ? n / width : 0;
        var tail = vectors * width;
        var vn = MemoryMarshal.Cast<double, Vector<double>>(numerators)[..vectors];
        var vd = divide ? MemoryMarshal.Cast<double, Vector<double>>(denominators)[..vectors] : default;
        var vr = MemoryMarshal.Cast<double, Vector<double>>(rewards)[..vectors];

        // Pass 1: Σw, Σw·r, Σw², max w and the reward range.
        var sw = Vector<double>.Zero;
        var swr = Vector<double>.Zero;
        var sww = Vector<double>.Zero;
        var firstW = divide ? numerators[0] / denominators[0] : numerators[0];
        var mw = new Vector<double>(firstW);
        var lr = new Vector<double>(rewards[0]);
        var hr = lr;
        for (var i = 0; i < vn.Length; i++)
        {
            var w = divide ? vn[i] / vd[i] : vn[i];
            var r = vr[i];
            sw += w;
            swr += w * r;
            sww += w * w;
            mw = Vector.Max(mw, w);
            lr = Vector.Min(lr, r);
            hr = Vector.Max(hr, r);
        }
        double sumW = Vector.Sum(sw), sumWR = Vector.Sum(swr), sumW2 = Vector.Sum(sww);
        double maxW = firstW, minR = rewards[0], maxR = rewards[0];
        for (var j = 0; j < width && vectors > 0; j++)
        {
            maxW = Math.Max(maxW, mw[j]);
            minR = Math.Min(minR, lr[j]);
            maxR = Math.Max(maxR, hr[j]);
        }
        for (var i = tail; i < n; i++)
        {
            var w = divide ? numerators[i] / denominators[i] : numerators[i];
            sumW += w;
            sumWR += w * rewards[i];
            sumW2 += w * w;
            maxW = Math.Max(maxW, w);
            minR = Math.Min(minR, rewards[i]);
            maxR = Math.Max(maxR, rewards[i]);
        }
        var ips = sumWR / n;
        var snips = sumW > 0 ? sumWR / sumW : double.NaN;

        // Pass 2: deviations of w·r from IPS and of w·(r − V) from 0, their sums and sums of squares.
        var ipsValue = new Vector<double>(ips);
        var snipsValue = new Vector<double>(sumW > 0 ? snips : 0);
        var sd = Vector<double>.Zero;
        var sdd = Vector<double>.Zero;
        var se = Vector<double>.Zero;
        var see = Vector<double>.Zero;
        var swe = Vector<double>.Zero;
        for (var i = 0; i < vn.Length; i++)
        {
            var w = divide ? vn[i] / vd[i] : vn[i];
            var r = vr[i];
            var d = w * r - ipsValue;
            var e = w * (r - snipsValue);
            sd += d;
            sdd += d * d;
            se += e;
            see += e * e;
            swe += w * e;
        }
        Deviations ipsDev = new(Vector.Sum(sd), Vector.Sum(sdd));
        Deviations snipsDev = new(Vector.Sum(se), Vector.Sum(see));
        var snipsCross = Vector.Sum(swe);
        for (var i = tail; i < n; i++)
        {
            var w = divide ? numerators[i] / denominators[i] : numerators[i];
            var r = rewards[i];
            ipsDev.Add(w * r - ips);
            var e = w * (r - (sumW > 0 ? snips : 0));
            snipsDev.Add(e);
            snipsCross += w * e;
        }
        var statistics = new OffPolicyStatistics
        {
            Count = n,
            SumW = sumW,
            SumWR = sumWR,
            SumW2 = sumW2,
            Ips = ips,
            IpsDeviations = ipsDev.Corrected(n),
            SnipsCross = snipsCross,
            SnipsSquares = sumW > 0 ? snipsDev.Corrected(n) : 0,
            MaxW = maxW,
            MinR = minR,
            MaxR = maxR,
        };
        var (rMin, rMax) = OffPolicyIntervals.Range(minR, maxR, null, null);
        var (ipsEstimate, snipsEstimate) = OffPolicyIntervals.IpsSnips(statistics, rMin, rMax, Estimate.Z95);
        return new IpsSnipsEstimates(n, ipsEstimate, snipsEstimate, Ess(sumW, sumW2));
    }

    /// <summary>Σ d and Σ d² of deviations from a mean computed in a first pass.</summary>
    private struct Deviations(double sum, double squares)
    {
        private double _sum = sum;
        private double _squares = squares;

        public void Add(double d)
        {
            _sum += d;
            _squares += d * d;
        }

        /// <summary>Σ d² − (Σ d)²/n: removes the first pass's rounding error in the mean.</summary>
        public readonly double Corrected(long n) => Math.Max(0, _squares - _sum * _sum / n);
    }

    /// <summary>Kish's effective sample size (Σw)² / Σw²; 0 when every weight is 0.</summary>
    internal static double Ess(double sumW, double sumW2) => sumW2 > 0 ? sumW * sumW / sumW2 : 0;

    /// <summary>max w / Σw, or 0 when Σw ≤ 0.</summary>
    internal static double WeightShare(double maxWeight, double sumOfWeights) => sumOfWeights > 0 ? Math.Max(0, maxWeight) / sumOfWeights : 0;
}

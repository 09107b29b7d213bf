using Flywheel.Core;
using Flywheel.Evaluation.Health;

namespace Flywheel.Evaluation;

/// <summary>
/// The sufficient statistics of the estimates of docs/estimators.md, gathered by <see cref="OffPolicyAccumulator"/> in one
/// pass or by <see cref="OffPolicyMath.Evaluate(ReadOnlySpan{double}, ReadOnlySpan{double}, ReadOnlySpan{double}, ReadOnlySpan{double})"/>
/// in two, so that both give the same intervals from the same code.
/// </summary>
internal struct OffPolicyStatistics
{
    public long Count;
    public double SumW;
    public double SumWR;
    public double SumW2;
    public double Ips;
    public double IpsDeviations;   // Σ (w·r − IPS)²
    public double SnipsCross;      // Σ w²·(r − SNIPS)
    public double SnipsSquares;    // Σ w²·(r − SNIPS)²
    public double Dm;
    public double DmDeviations;
    public double Dr;
    public double DrDeviations;
    public double MaxW;
    public double MinR;
    public double MaxR;
    public double MinPolicyEstimate;
    public double MaxPolicyEstimate;
}

/// <summary>
/// The intervals of docs/estimators.md "Intervals": each Gaussian interval is widened, on each side, to the Gaussian
/// interval the estimator would give with one more row at that side's extreme (the largest weight seen with the
/// reward at that end of the range), then clipped to the reward range. On sparse rewards the sample
/// variance misses the rare large terms that carry the estimate; the extra row puts one of them back, so a slice
/// with no reward still gets a positive upper bound. DM's interval is the hull of its own and DR's: DR − DM is the
/// importance-weighted estimate of the reward model's bias, which DM cannot see in its own predictions.
/// </summary>
internal static class OffPolicyIntervals
{
    /// <summary>
    /// The reward range the intervals assume: the caller's when given (every observed reward must lie in it), else the
    /// hull of [0, 1] and the observed rewards.
    /// </summary>
    public static (double Min, double Max) Range(double observedMin, double observedMax, double? knownMin, double? knownMax)
    {
        if (knownMin is not { } min || knownMax is not { } max)
        {
            return (Math.Min(0, observedMin), Math.Max(1, observedMax));
        }
        if (observedMin < min || observedMax > max)
        {
            throw new ArgumentOutOfRangeException("rewardMin",
                $"a logged reward lies outside the given reward range [{min}, {max}] (observed [{observedMin}, {observedMax}])");
        }
        return (min, max);
    }

    /// <summary>Checks a caller's reward range.</summary>
    public static void CheckRange(double rewardMin, double rewardMax)
    {
        if (!double.IsFinite(rewardMin) || !double.IsFinite(rewardMax) || !(rewardMin < rewardMax))
        {
            throw new ArgumentOutOfRangeException(nameof(rewardMax), $"the reward range [{rewardMin}, {rewardMax}] must be finite with min < max");
        }
    }

    /// <summary>α of the two-sided interval whose normal quantile is <paramref name="z"/>; exactly 0.05 at <see cref="Estimate.Z95"/>.</summary>
    public static double Alpha(double z) => z == Estimate.Z95 ? 0.05 : 2 * Normal.UpperTail(z);

    public static OffPolicyEstimates Build(in OffPolicyStatistics s, double z, double? knownMin, double? knownMax)
    {
        var n = s.Count;
        var (rMin, rMax) = Range(s.MinR, s.MaxR, knownMin, knownMax);
        // π ≤ 1 bounds w by 1/p, but the accumulator sees w only: the largest weight observed stands for the largest possible.
        var wMax = Math.Max(0, s.MaxW);
        var (ips, snips) = IpsSnips(s, rMin, rMax, z);
        // DR's extra row: a typical prediction q̂ = DM at the largest weight, where the logged action is the one π
        // favours so q̂(x, a) ≈ q̂(x, π), and an extreme reward: q̂ + w·(r − q̂). The model's own extremes would pad
        // with a term no row can produce when the model is good.
        var dr = Padded(s.Dr, s.DrDeviations, n,
            Math.Min(s.Dm, s.Dm + wMax * (rMin - s.Dm)), Math.Max(s.Dm, s.Dm + wMax * (rMax - s.Dm)), z);
        var dmOwn = Padded(s.Dm, s.DmDeviations, n, s.MinPolicyEstimate, s.MaxPolicyEstimate, z);
        var dm = new Estimate(s.Dm, Math.Min(dmOwn.Lower, dr.Lower), Math.Max(dmOwn.Upper, dr.Upper));
        Estimate? cp = null;
        if (knownMin is { } min && knownMax is { } max)
        {
            cp = ClopperPearson.ForIps(n, s.SumWR, s.SumW, s.MaxW, min, max, Alpha(z));
        }
        else if (s.MinR >= 0 && s.MaxR <= 1)
        {
            cp = ClopperPearson.ForIps(n, s.SumWR, s.MaxW, Alpha(z));
        }
        return new OffPolicyEstimates
        {
            Count = n,
            EffectiveSampleSize = OffPolicyMath.Ess(s.SumW, s.SumW2),
            Ips = ips,
            IpsClopperPearson = cp,
            Snips = snips,
            Dm = Clip(dm, rMin, rMax),
            Dr = Clip(dr, rMin, rMax),
            MinReward = s.MinR,
            MaxReward = s.MaxR,
            MaxWeight = s.MaxW,
            MaxWeightShare = OffPolicyMath.WeightShare(s.MaxW, s.SumW),
        };
    }

    /// <summary>IPS and SNIPS with their intervals for rewards in [<paramref name="rMin"/>, <paramref name="rMax"/>] (uses the weight and reward sums only).</summary>
    public static (Estimate Ips, Estimate Snips) IpsSnips(in OffPolicyStatistics s, double rMin, double rMax, double z)
    {
        var wMax = Math.Max(0, s.MaxW);
        var ips = Padded(s.Ips, s.IpsDeviations, s.Count, Math.Min(0, wMax * rMin), Math.Max(0, wMax * rMax), z);
        return (Clip(ips, rMin, rMax), Clip(Snips(s, wMax, rMin, rMax, z), rMin, rMax));
    }

    /// <summary>
    /// The Gaussian interval of a mean of n terms, widened on each side to the Gaussian interval of the n + 1 terms
    /// that add one at <paramref name="termMin"/> (lower side) or <paramref name="termMax"/> (upper side).
    /// </summary>
    public static Estimate Padded(double value, double deviations, long n, double termMin, double termMax, double z)
    {
        var gaussian = Estimate.Gaussian(value, deviations, n, z);
        if (!gaussian.IsBounded)
        {
            return gaussian;
        }
        var lower = Math.Min(gaussian.Lower, PaddedEnd(value, deviations, n, termMin, -z));
        var upper = Math.Max(gaussian.Upper, PaddedEnd(value, deviations, n, termMax, z));
        return new Estimate(value, lower, upper);
    }

    // The mean of n + 1 terms ± z·s/√(n + 1), the extra term x joined by Welford's update.
    private static double PaddedEnd(double mean, double deviations, long n, double x, double signedZ)
    {
        var count = (double)n;
        var padded = mean + (x - mean) / (count + 1);
        var spread = Math.Max(0, deviations) + (x - mean) * (x - padded);
        return padded + signedZ * Math.Sqrt(Math.Max(0, spread) / (count * (count + 1)));
    }

    private static Estimate Snips(in OffPolicyStatistics s, double wMax, double rMin, double rMax, double z)
    {
        var n = s.Count;
        if (!(s.SumW > 0))
        {
            return Estimate.Gaussian(double.NaN, 0, n, z);
        }
        var value = s.SumWR / s.SumW;
        var meanW = s.SumW / n;
        var gaussian = Estimate.Gaussian(value, s.SnipsSquares / (meanW * meanW), n, z);
        if (!gaussian.IsBounded || !(wMax > 0))
        {
            return gaussian;
        }
        var lower = Math.Min(gaussian.Lower, SnipsEnd(s, value, wMax, rMin, -z));
        var upper = Math.Max(gaussian.Upper, SnipsEnd(s, value, wMax, rMax, z));
        return new Estimate(value, lower, upper);
    }

    // SNIPS with one more row (w = wMax, r = reward) and its Gaussian end: with d = V − V', the n rows' Σ w²(r − V')²
    // is Σ w²(r − V)² + 2d·Σ w²(r − V) + d²·Σ w².
    private static double SnipsEnd(in OffPolicyStatistics s, double value, double wMax, double reward, double signedZ)
    {
        var count = (double)s.Count;
        var sumW = s.SumW + wMax;
        var padded = (s.SumWR + wMax * reward) / sumW;
        var d = value - padded;
        var extra = reward - padded;
        var squares = Math.Max(0, s.SnipsSquares + 2 * d * s.SnipsCross + d * d * s.SumW2) + wMax * wMax * extra * extra;
        var meanW = sumW / (count + 1);
        return padded + signedZ * Math.Sqrt(squares / (meanW * meanW) / (count * (count + 1)));
    }

    private static Estimate Clip(Estimate e, double min, double max)
        => e.IsBounded ? new Estimate(e.Value, Math.Clamp(e.Lower, min, max), Math.Clamp(e.Upper, min, max)) : e;
}

using System.Runtime.CompilerServices;
using System.IO.Hashing;
using System.Text;
using Flywheel.Core;

namespace Flywheel.Learning;

/// <summary>Exploration distributions over predicted costs (docs/loop-config.md), and reproducible sampling.</summary>
public static class Exploration
{
    /// <summary>
    /// Fills <paramref name="pmf"/> for the predicted <paramref name="costs"/> (lower is better) by the configured
    /// algorithm, then applies the minimum-probability floor (ε for every algorithm but ε-greedy, where ε is the mixing).
    /// </summary>
    /// <param name="config">The algorithm and its parameters.</param>
    /// <param name="costs">Predicted cost of each action (the mean over bags for <c>bag</c>).</param>
    /// <param name="examplesSeen">Examples the model has learned from (SquareCB's t).</param>
    /// <param name="pmf">Receives the distribution.</param>
    /// <param name="bagCosts">For <c>bag</c>: each bag's costs, bag-major (bag b, action a at b·K + a).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Distribution(ExplorationConfig config, ReadOnlySpan<float> costs, long examplesSeen, Span<double> pmf, ReadOnlySpan<float> bagCosts = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        switch (config.Algorithm)
        {
            case ExplorationAlgorithm.EpsilonGreedy:
                EpsilonGreedy(config.EffectiveEpsilon, costs, pmf);
                return;
            case ExplorationAlgorithm.None:
                EpsilonGreedy(0, costs, pmf);
                return;
            case ExplorationAlgorithm.Softmax:
                Softmax(config.Lambda, costs, pmf);
                break;
            case ExplorationAlgorithm.SquareCb:
                SquareCb(config.Gamma * Math.Sqrt(examplesSeen), costs, pmf);
                break;
            case ExplorationAlgorithm.Bag:
                Bag(bagCosts.IsEmpty ? costs : bagCosts, costs.Length, pmf);
                break;
            default:
                throw new NotSupportedException($"Exploration '{config.Algorithm}' is not supported.");
        }
        EnforceMinimum(config.EffectiveEpsilon, pmf);
    }

    /// <summary>Backwards-compatible overload for ε-greedy and none.</summary>
    public static void Distribution(ExplorationConfig config, ReadOnlySpan<float> costs, Span<double> pmf) => Distribution(config, costs, 0, pmf);

    /// <summary>ε-greedy: ε/K each, and 1 − ε shared equally by the actions tied at the lowest cost.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void EpsilonGreedy(double epsilon, ReadOnlySpan<float> costs, Span<double> pmf)
    {
        var k = costs.Length;
        if (k == 0)
        {
            return;
        }
        var best = Min(costs);
        var ties = 0;
        for (var i = 0; i < k; i++)
        {
            if (costs[i] == best)
            {
                ties++;
            }
        }
        var floor = epsilon / k;
        var bonus = (1 - epsilon) / ties;
        for (var i = 0; i < k; i++)
        {
            pmf[i] = costs[i] == best ? floor + bonus : floor;
        }
    }

    /// <summary>Softmax: p(a) ∝ exp(−λ·(ŝ_a − min ŝ)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Softmax(double lambda, ReadOnlySpan<float> costs, Span<double> pmf)
    {
        var k = costs.Length;
        if (k == 0)
        {
            return;
        }
        lambda = Math.Abs(lambda);
        var best = Min(costs);
        var total = 0.0;
        for (var i = 0; i < k; i++)
        {
            pmf[i] = Math.Exp(-lambda * (costs[i] - best));
            total += pmf[i];
        }
        for (var i = 0; i < k; i++)
        {
            pmf[i] /= total;
        }
    }

    /// <summary>SquareCB with exploitation strength γ: p(a) = 1/(K + γ(ŝ_a − ŝ_best)) for a ≠ best, the rest on the best.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SquareCb(double gamma, ReadOnlySpan<float> costs, Span<double> pmf)
    {
        var k = costs.Length;
        if (k == 0)
        {
            return;
        }
        var bestIndex = 0;
        for (var i = 1; i < k; i++)
        {
            if (costs[i] < costs[bestIndex])
            {
                bestIndex = i;
            }
        }
        var others = 0.0;
        for (var i = 0; i < k; i++)
        {
            if (i != bestIndex)
            {
                pmf[i] = 1.0 / (k + gamma * (costs[i] - costs[bestIndex]));
                others += pmf[i];
            }
        }
        pmf[bestIndex] = 1.0 - others;
    }

    /// <summary>Bagging: each bag votes for its lowest-cost actions (ties split the vote); p is the share of votes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Bag(ReadOnlySpan<float> bagCosts, int k, Span<double> pmf)
    {
        if (k == 0)
        {
            return;
        }
        var bags = bagCosts.Length / k;
        pmf[..k].Clear();
        for (var b = 0; b < bags; b++)
        {
            var costs = bagCosts.Slice(b * k, k);
            var best = Min(costs);
            var ties = 0;
            for (var i = 0; i < k; i++)
            {
                if (costs[i] == best)
                {
                    ties++;
                }
            }
            for (var i = 0; i < k; i++)
            {
                if (costs[i] == best)
                {
                    pmf[i] += 1.0 / (ties * bags);
                }
            }
        }
    }

    /// <summary>
    /// The minimum-probability floor: the closest distribution (Euclidean) in which every action has at least ε/K.
    /// ε = 0 leaves the distribution as it is; ε above 0.999 makes it uniform.
    /// </summary>
    public static void EnforceMinimum(double epsilon, Span<double> pmf)
    {
        var k = pmf.Length;
        if (epsilon <= 0 || k == 0)
        {
            return;
        }
        if (epsilon > 0.999)
        {
            pmf.Fill(1.0 / k);
            return;
        }
        var floor = epsilon / k;
        var needs = false;
        foreach (var p in pmf)
        {
            if (p < floor)
            {
                needs = true;
                break;
            }
        }
        if (!needs)
        {
            return;
        }
        // Project y = p − floor onto the simplex of mass 1 − ε: q = max(y − τ, 0) + floor, τ by the sorted-prefix rule.
        Span<double> sorted = k <= 256 ? stackalloc double[k] : new double[k];
        pmf.CopyTo(sorted);
        sorted.Sort();
        sorted.Reverse();
        var mass = 1.0 - epsilon;
        double prefix = 0, tau = 0;
        for (var j = 0; j < k; j++)
        {
            prefix += sorted[j] - floor;
            var candidate = (prefix - mass) / (j + 1);
            if (j == k - 1 || sorted[j + 1] - floor <= candidate)
            {
                tau = candidate;
                break;
            }
        }
        for (var i = 0; i < k; i++)
        {
            pmf[i] = Math.Max(pmf[i] - floor - tau, 0) + floor;
        }
    }

    private static float Min(ReadOnlySpan<float> costs)
    {
        var best = costs[0];
        for (var i = 1; i < costs.Length; i++)
        {
            if (costs[i] < best)
            {
                best = costs[i];
            }
        }
        return best;
    }

    /// <summary>Index of the action drawn from <paramref name="pmf"/> by the uniform number <paramref name="u"/> in [0, 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Sample(ReadOnlySpan<double> pmf, double u)
    {
        var total = 0.0;
        foreach (var p in pmf)
        {
            total += p;
        }
        var target = u * total;
        var acc = 0.0;
        for (var i = 0; i < pmf.Length; i++)
        {
            acc += pmf[i];
            if (target < acc && pmf[i] > 0)
            {
                return i;
            }
        }
        for (var i = pmf.Length - 1; i >= 0; i--)
        {
            if (pmf[i] > 0)
            {
                return i;
            }
        }
        return pmf.Length - 1;
    }

    /// <summary>A uniform number in [0, 1) derived from a decision's loop and id, so every draw can be reproduced.</summary>
    public static double UniformFor(string loop, string decisionId, ulong seed = 0)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(decisionId);
        var length = Encoding.UTF8.GetMaxByteCount(loop.Length + 1 + decisionId.Length);
        Span<byte> bytes = length <= 1024 ? stackalloc byte[length] : new byte[length];
        var n = Encoding.UTF8.GetBytes(loop, bytes);
        bytes[n++] = (byte)'\n';
        n += Encoding.UTF8.GetBytes(decisionId, bytes[n..]);
        return ToUnit(XxHash3.HashToUInt64(bytes[..n], (long)seed));
    }

    /// <summary>A uniform number in [0, 1) for example <paramref name="index"/> of a seeded stream.</summary>
    public static double UniformFor(ulong seed, long index)
    {
        Span<byte> bytes = stackalloc byte[8];
        BitConverter.TryWriteBytes(bytes, index);
        return ToUnit(XxHash3.HashToUInt64(bytes, (long)seed));
    }

    private static double ToUnit(ulong hash) => (hash >> 11) * (1.0 / (1UL << 53));
}

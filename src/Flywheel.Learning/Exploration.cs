using System.IO.Hashing;
using System.Text;
using Flywheel.Core;

namespace Flywheel.Learning;

/// <summary>Exploration distributions over predicted costs (ALGORITHMS §2), and reproducible sampling.</summary>
public static class Exploration
{
    /// <summary>
    /// Fills <paramref name="pmf"/> for <paramref name="costs"/> (lower is better): ε-greedy gives each action ε/K and
    /// shares 1 − ε equally among the actions tied at the lowest cost; <see cref="ExplorationAlgorithm.None"/> is ε = 0.
    /// </summary>
    public static void Distribution(ExplorationConfig config, ReadOnlySpan<float> costs, Span<double> pmf)
    {
        ArgumentNullException.ThrowIfNull(config);
        switch (config.Algorithm)
        {
            case ExplorationAlgorithm.EpsilonGreedy:
                EpsilonGreedy(config.Epsilon, costs, pmf);
                break;
            case ExplorationAlgorithm.None:
                EpsilonGreedy(0, costs, pmf);
                break;
            default:
                throw new NotSupportedException($"Exploration '{LoopConfigJson.Name(config.Algorithm)}' is not supported yet.");
        }
    }

    /// <summary>ε-greedy with ties sharing the greedy mass.</summary>
    public static void EpsilonGreedy(double epsilon, ReadOnlySpan<float> costs, Span<double> pmf)
    {
        var k = costs.Length;
        if (k == 0)
        {
            return;
        }
        var best = costs[0];
        var ties = 0;
        for (var i = 0; i < k; i++)
        {
            if (costs[i] < best)
            {
                best = costs[i];
                ties = 1;
            }
            else if (costs[i] == best)
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

    /// <summary>Index of the action drawn from <paramref name="pmf"/> by the uniform number <paramref name="u"/> in [0, 1).</summary>
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
        var bytes = Encoding.UTF8.GetBytes(loop + "\n" + decisionId);
        return ToUnit(XxHash3.HashToUInt64(bytes, (long)seed));
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

using Flywheel.Core;

namespace Flywheel.Learning;

/// <summary>A served ranking: the actions' indices in slot order and each slot's logged probability.</summary>
/// <param name="Order">Indices into the candidates, top slot first.</param>
/// <param name="Probabilities">For each slot, the probability that its action was put there given the actions above.</param>
/// <param name="Intervened">True when the top slots were served in a uniformly shuffled order.</param>
/// <param name="Explored">True when the order differs from the model's best order.</param>
public sealed record SampledRanking(int[] Order, double[] Probabilities, bool Intervened, bool Explored);

/// <summary>
/// How a <c>rank</c> loop fills its slots (docs/loop-config.md, "Rankings"). With probability 1 − r the model ranks:
/// slot by slot from the top, the loop's exploration over the predicted costs of the actions not yet placed. With
/// probability r (the intervention rate) the model's best K are served in a uniformly shuffled order, which is what
/// measures each slot's examination. Each slot's logged probability is exact under this mixture: the probability
/// that the mixture put that action in that slot given the actions above it.
/// </summary>
public static class RankSampler
{
    /// <summary>Ranks <paramref name="costs"/> (lower is better) into <paramref name="slots"/> slots.</summary>
    /// <param name="costs">Predicted cost of each candidate.</param>
    /// <param name="exploration">The loop's exploration (any algorithm but <c>bag</c>).</param>
    /// <param name="examples">Examples the model has learned (SquareCB's t).</param>
    /// <param name="slots">The loop's slots; fewer candidates serve them all.</param>
    /// <param name="interventionRate">The share of shuffled decisions.</param>
    /// <param name="uniform">The decision's reproducible uniform draws in [0, 1), by index.</param>
    public static SampledRanking Rank(ReadOnlySpan<float> costs, ExplorationConfig exploration, long examples, int slots, double interventionRate, Func<int, double> uniform)
    {
        ArgumentNullException.ThrowIfNull(exploration);
        ArgumentNullException.ThrowIfNull(uniform);
        var n = costs.Length;
        var k = Math.Min(slots, n);
        var best = BestOrder(costs);
        var intervened = interventionRate > 0 && uniform(0) < interventionRate;
        var order = new int[k];
        var placed = new bool[n];
        var pmf = new double[n];
        var subset = new float[n];
        var members = new int[n];
        if (intervened)
        {
            Array.Copy(best, order, k);
            for (var i = k - 1; i > 0; i--)
            {
                var j = (int)(uniform(1 + i) * (i + 1));
                (order[i], order[j]) = (order[j], order[i]);
            }
        }

        // The mixture's weights on the model (a) and on the shuffle (b) given the prefix so far, renormalised each slot.
        double a = 1 - interventionRate, b = interventionRate;
        var probabilities = new double[k];
        var inTop = new bool[n];
        for (var i = 0; i < k; i++)
        {
            inTop[best[i]] = true;
        }
        for (var slot = 0; slot < k; slot++)
        {
            var m = ModelDistribution(costs, placed, exploration, examples, subset, members, pmf);
            if (!intervened)
            {
                order[slot] = members[Exploration.Sample(pmf.AsSpan(0, m), uniform(1 + slot))];
            }
            var chosen = order[slot];
            var model = 0.0;
            for (var i = 0; i < m; i++)
            {
                if (members[i] == chosen)
                {
                    model = pmf[i];
                    break;
                }
            }
            var shuffle = inTop[chosen] ? 1.0 / (k - slot) : 0;
            var p = a * model + b * shuffle;
            probabilities[slot] = p;
            if (p > 0)
            {
                (a, b) = (a * model / p, b * shuffle / p);
            }
            placed[chosen] = true;
        }
        var explored = false;
        for (var i = 0; i < k; i++)
        {
            explored |= order[i] != best[i] && costs[order[i]] != costs[best[i]];
        }
        return new SampledRanking(order, probabilities, intervened, explored);
    }

    /// <summary>The candidates from lowest to highest cost, ties by position.</summary>
    public static int[] BestOrder(ReadOnlySpan<float> costs)
    {
        var order = new int[costs.Length];
        var keys = costs.ToArray();
        for (var i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }
        Array.Sort(keys, order);
        // Array.Sort is not stable: restore position order among equal costs.
        var start = 0;
        for (var i = 1; i <= order.Length; i++)
        {
            if (i == order.Length || keys[i] != keys[start])
            {
                Array.Sort(order, start, i - start);
                start = i;
            }
        }
        return order;
    }

    /// <summary>The exploration over the candidates not yet placed: their indices into <paramref name="members"/>, their probabilities into <paramref name="pmf"/>; returns how many.</summary>
    private static int ModelDistribution(ReadOnlySpan<float> costs, bool[] placed, ExplorationConfig exploration, long examples, float[] subset, int[] members, double[] pmf)
    {
        var m = 0;
        for (var i = 0; i < costs.Length; i++)
        {
            if (!placed[i])
            {
                subset[m] = costs[i];
                members[m++] = i;
            }
        }
        Exploration.Distribution(exploration, subset.AsSpan(0, m), examples, pmf.AsSpan(0, m));
        return m;
    }
}

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
        if (intervened)
        {
            Array.Copy(best, order, k);
            for (var i = k - 1; i > 0; i--)
            {
                var j = (int)(uniform(1 + i) * (i + 1));
                (order[i], order[j]) = (order[j], order[i]);
            }
        }

        var probabilities = new double[k];
        Walk(costs, exploration, examples, k, interventionRate, order, probabilities, default, default, intervened ? null : uniform);

        var explored = false;
        for (var i = 0; i < k; i++)
        {
            explored |= order[i] != best[i] && costs[order[i]] != costs[best[i]];
        }
        return new SampledRanking(order, probabilities, intervened, explored);
    }

    /// <summary>
    /// Each slot's probability of the given <paramref name="order"/> (the action in that slot given those above) under
    /// the ranking policy of <paramref name="costs"/>; with <paramref name="values"/>, also each slot's expected value
    /// Σ_a π(a | the actions above)·values[a] into <paramref name="expected"/> (what a doubly robust estimate needs).
    /// </summary>
    public static void Probabilities(ReadOnlySpan<float> costs, ExplorationConfig exploration, long examples, int slots, double interventionRate,
        ReadOnlySpan<int> order, Span<double> probabilities, ReadOnlySpan<double> values = default, Span<double> expected = default)
    {
        ArgumentNullException.ThrowIfNull(exploration);
        var k = Math.Min(slots, costs.Length);
        var copy = order[..Math.Min(k, order.Length)].ToArray();
        Walk(costs, exploration, examples, k, interventionRate, copy, probabilities, values, expected, null);
    }

    /// <summary>
    /// Goes down the slots: the mixture's distribution over the actions not yet placed, the action placed (drawn when
    /// <paramref name="draw"/> is given, else read from <paramref name="order"/>) and its probability. The mixture's
    /// weights on the model (a) and on the shuffle (b) are those given the prefix so far, renormalised each slot. The
    /// shuffle serves the best <paramref name="k"/>; the walk covers the slots of <paramref name="order"/>.
    /// </summary>
    private static void Walk(ReadOnlySpan<float> costs, ExplorationConfig exploration, long examples, int k, double interventionRate,
        int[] order, Span<double> probabilities, ReadOnlySpan<double> values, Span<double> expected, Func<int, double>? draw)
    {
        var n = costs.Length;
        var best = BestOrder(costs);
        var inTop = new bool[n];
        for (var i = 0; i < k; i++)
        {
            inTop[best[i]] = true;
        }
        var placed = new bool[n];
        var pmf = new double[n];
        var subset = new float[n];
        var members = new int[n];
        double a = 1 - interventionRate, b = interventionRate;
        for (var slot = 0; slot < order.Length; slot++)
        {
            var m = ModelDistribution(costs, placed, exploration, examples, subset, members, pmf);
            if (draw is not null)
            {
                order[slot] = members[Exploration.Sample(pmf.AsSpan(0, m), draw(1 + slot))];
            }
            var shuffle = 1.0 / (k - slot);
            if (!values.IsEmpty)
            {
                var sum = 0.0;
                for (var i = 0; i < m; i++)
                {
                    var action = members[i];
                    sum += (a * pmf[i] + (inTop[action] ? b * shuffle : 0)) * values[action];
                }
                expected[slot] = sum;
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
            var shuffled = inTop[chosen] && !placed[chosen] ? shuffle : 0;
            var p = a * model + b * shuffled;
            probabilities[slot] = p;
            if (p > 0)
            {
                (a, b) = (a * model / p, b * shuffled / p);
            }
            placed[chosen] = true;
        }
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

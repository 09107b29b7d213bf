using Flywheel.Core;

namespace Flywheel.Learning;

public sealed partial class Featurizer
{
    /// <summary>
    /// How many (index, value) pairs scoring these actions in this context produces, counted without hashing or crossing
    /// anything: the cost of a decision, known before it is paid. A term such as <c>context*context*action</c> over
    /// thousands of context features would produce billions, so callers compare this with a limit first. Saturates at
    /// <see cref="long.MaxValue"/>.
    /// </summary>
    public long CountFeatures(Features context, IReadOnlyList<ActionCandidate> actions)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(actions);
        // Per term: the size of its context side (computed once) and which selectors fall on the action side.
        var contextCounts = new double[_terms.Length];
        var actionSides = new Selector[_terms.Length][];
        for (var t = 0; t < _terms.Length; t++)
        {
            var term = _terms[t];
            var contextSide = term.Where(s => s.Kind == SelectorKind.Context || (s.Kind == SelectorKind.Named && Find(context, s.Name!) is not null)).ToArray();
            actionSides[t] = term.Where(s => !contextSide.Contains(s)).ToArray();
            contextCounts[t] = contextSide.Length == 0 ? 0 : Combinations(contextSide, context, null);
        }
        double total = 0;
        foreach (var action in actions)
        {
            ArgumentNullException.ThrowIfNull(action);
            total += (_sharedConstant ? 1 : 0) + Count(action.Features) + 1; // + the action's id feature
            for (var t = 0; t < _terms.Length; t++)
            {
                var side = actionSides[t];
                if (side.Length == 0)
                {
                    total += contextCounts[t];
                    continue;
                }
                var actionCount = Combinations(side, action.Features, action);
                total += contextCounts[t] == 0 && side.Length == _terms[t].Length ? actionCount : contextCounts[t] * actionCount;
            }
            if (total >= long.MaxValue)
            {
                return long.MaxValue;
            }
        }
        return (long)total;
    }

    // The features a run of positions yields: consecutive equal positions take each unordered combination once (as
    // Recurse does), so a run of k over n features gives C(n, k); runs multiply.
    private static double Combinations(Selector[] positions, Features set, ActionCandidate? action)
    {
        double product = 1;
        var p = 0;
        while (p < positions.Length)
        {
            var run = 1;
            while (p + run < positions.Length && positions[p + run] == positions[p])
            {
                run++;
            }
            var n = positions[p].Kind != SelectorKind.Named ? Count(set) + (action is not null ? 1 : 0)
                : Find(set, positions[p].Name!) is { } ns ? Count(ns)
                : positions[p].Name == FeatureHashing.ActionIdNamespace && action is not null ? 1 : 0;
            product *= Choose(n, run);
            p += run;
        }
        return product;
    }

    private static double Choose(long n, int k)
    {
        double c = 1;
        for (var i = 0; i < k; i++)
        {
            c = c * (n - i) / (i + 1);
        }
        return Math.Max(0, c);
    }

    private static long Count(Features set)
    {
        long n = 0;
        foreach (var (_, ns) in set)
        {
            n += Count(ns);
        }
        return n;
    }

    // Features' indexer creates a missing namespace; counting must not change the request.
    private static FeatureNamespace? Find(Features set, string name)
    {
        foreach (var (key, ns) in set)
        {
            if (key == name)
            {
                return ns;
            }
        }
        return null;
    }

    // As HashedNamespace.Add: a zero number adds nothing, a string array adds one per element.
    private static long Count(FeatureNamespace ns)
    {
        long n = 0;
        foreach (var (_, value) in ns)
        {
            n += value.Kind switch
            {
                FeatureValueKind.Number or FeatureValueKind.Boolean => value.Number == 0 ? 0 : 1,
                FeatureValueKind.String => 1,
                _ => value.Strings.Count,
            };
        }
        return n;
    }
}

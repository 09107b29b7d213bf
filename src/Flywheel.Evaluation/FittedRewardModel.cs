using System.IO.Hashing;
using System.Runtime.InteropServices;
using Flywheel.Core;
using Flywheel.Learning;

namespace Flywheel.Evaluation;

/// <summary>
/// The reward model q̂ fitted when rows carry no reward estimates, cross-fitted so that it depends on the rows and not
/// on their order. Each row goes to one of <see cref="Folds"/> folds by a hash of its decision id and content; for each fold,
/// Flywheel's own learner (<see cref="BanditLearner"/> with the <c>dm</c> reduction: squared-loss updates of f(x, a)
/// towards the observed cost −r, importance 1) learns from the other folds' rows, <see cref="Passes"/> passes in the
/// order of the rows' hashes, and then scores the fold's rows, none of which it has seen. A row's estimates therefore
/// never saw its own reward (what keeps DR's per-row terms honest, as in double/debiased machine learning), and
/// shuffling the file changes nothing but floating-point rounding in the sums of streamed rows.
/// <para>
/// Rows are buffered until <see cref="Fit"/>, keeping only what training and scoring need. Per row: a 64-byte entry
/// (two hashes, chosen index, logged probability, reward, three references; the list grows by doubling); its target
/// probabilities, 24 + 8·K bytes unless equal to the previous row's (as under the uniform policy); and its hashed
/// context, about 120 bytes, 8 more per namespace and 16 per feature, stored once however often it repeats. Each
/// distinct action is stored once, and an action list equal to the previous row's is shared. Measured: about 190
/// bytes a row on ope-skewed (8 actions, per-row target probabilities, 24 distinct contexts), about 390 with a
/// distinct context on every row. Not thread-safe.
/// </para>
/// </summary>
internal sealed class FittedRewardModel
{
    /// <summary>The number of folds K.</summary>
    public const int Folds = 5;

    /// <summary>Passes each fold's model makes over its training rows, in the order of their hashes.</summary>
    public const int Passes = 16;

    /// <summary>
    /// The learning rate when the configuration sets none. The policy learner's larger default (0.6) suits serving,
    /// but a final model trained on sparse rewards keeps the imprint of the last few clicks (0.6 over four passes
    /// missed the truth of the simulated sparse-click logs of FittedRewardModelTests by 0.0122 on average, 0.05 over
    /// sixteen by 0.0050). Smaller rates did better there still (0.02 over eight: 0.0048) but fitted the dense
    /// rewards of ope-small and ope-skewed worse; 0.05 over sixteen passes did well enough on both.
    /// </summary>
    public const double DefaultLearningRate = 0.05;

    private const long DecisionIdSeed = 0x666C7977_666F6C64; // "flywfold"

    private readonly LearnerConfig _config;
    private readonly List<Row> _rows = [];
    private readonly List<HashedNamespace> _hashers = [];
    private readonly List<ulong> _scratch = [];
    private readonly Dictionary<string, int> _nameIds = new(StringComparer.Ordinal);
    private readonly Dictionary<PackedContext, PackedContext> _contexts = new(PackedContext.Comparer);
    private readonly Dictionary<HashedFeatureSet, HashedFeatureSet> _actionSets = new(ActionSetComparer.Instance);
    private readonly Dictionary<HashedFeatureSet, ulong> _actionHashes = new(ReferenceEqualityComparer.Instance);
    private HashedFeatureSet[]? _lastActions;
    private double[]? _lastPolicy;
    private OffPolicyAccumulator _fitted;
    private int _fittedRows = -1;

    public FittedRewardModel(LearnerConfig config)
    {
        // An estimate of value, not a decision: plain squared loss, never clipped (PredictionClip.Floor would let the
        // best action's predicted cost run below every cost seen).
        _config = config with { Reduction = Reduction.Dm, LearningRate = config.LearningRate ?? DefaultLearningRate };
    }

    /// <summary>Rows buffered.</summary>
    public int Count => _rows.Count;

    /// <summary>Buffers one validated row whose target-policy probabilities are <paramref name="policy"/>.</summary>
    public void Add(LoggedDecision decision, ReadOnlySpan<double> policy)
    {
        var context = Intern(Pack(decision.Context));
        var actions = InternActions(decision.Actions);
        var policyArray = _lastPolicy is { } last && policy.SequenceEqual(last) ? last : policy.ToArray();
        _lastPolicy = policyArray;

        var chosen = decision.ChosenIndex;
        var content = Mix(context.Hash, (ulong)chosen);
        foreach (var action in actions)
        {
            content = Mix(content, _actionHashes[action]);
        }
        content = Mix(content, (ulong)BitConverter.DoubleToInt64Bits(decision.Probability));
        content = Mix(content, (ulong)BitConverter.DoubleToInt64Bits(decision.Reward));
        // The id and the content together: a repeated row (same id, same content) stays in one fold, and a log whose
        // rows share ids (or one id) still spreads over every fold.
        var key = Finish(Mix(FeatureHashing.Hash(decision.DecisionId, DecisionIdSeed), content));
        _rows.Add(new Row(key, content, context, actions, policyArray, chosen, decision.Probability, decision.Reward));
    }

    /// <summary>
    /// Trains the <see cref="Folds"/> models, scores every row with the model that never saw it and returns the rows'
    /// accumulated terms, added in hash order; cached until more rows arrive.
    /// </summary>
    public OffPolicyAccumulator Fit(CancellationToken cancellationToken = default)
    {
        if (_fittedRows == _rows.Count)
        {
            return _fitted;
        }
        var order = new int[_rows.Count];
        for (var i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }
        // By hash, then content: rows that tie on both are identical for training, so their order cannot matter.
        Array.Sort(order, (x, y) =>
        {
            var c = _rows[x].Key.CompareTo(_rows[y].Key);
            return c != 0 ? c : _rows[x].Content.CompareTo(_rows[y].Content);
        });

        var featurizer = new Featurizer(_config);
        var features = new FeatureVector();
        var unpacker = new Unpacker(_hashers);
        var costs = new float[16];
        var accumulator = new OffPolicyAccumulator();
        var scored = new (double PolicyEstimate, double ChosenEstimate)[_rows.Count];
        // The K models learn side by side, each from the rows outside its fold in the same hash order as if trained
        // alone, so each row's chosen action is featurized once a pass rather than once per model.
        var learners = new BanditLearner[Folds];
        for (var fold = 0; fold < Folds; fold++)
        {
            learners[fold] = new BanditLearner(_config, clip: PredictionClip.None);
        }
        var steps = 0;
        for (var pass = 0; pass < Passes; pass++)
        {
            foreach (var i in order)
            {
                if ((++steps & 1023) == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }
                var row = _rows[i];
                // The dm reduction updates the chosen action alone: featurize only that one.
                featurizer.SetContext(unpacker.Unpack(row.Context));
                features.Clear();
                featurizer.AddAction(row.Actions[row.Chosen], features);
                var own = FoldOf(row.Key);
                for (var fold = 0; fold < Folds; fold++)
                {
                    if (fold != own)
                    {
                        learners[fold].Learn(features.Indices(0), features.Values(0), (float)-row.Reward, row.Probability, row.Actions.Length);
                    }
                }
            }
        }
        for (var fold = 0; fold < Folds; fold++)
        {
            var learner = learners[fold];
            learners[fold] = null!; // scored with: let it go
            foreach (var i in order)
            {
                var row = _rows[i];
                if (FoldOf(row.Key) != fold)
                {
                    continue;
                }
                var k = row.Actions.Length;
                featurizer.SetContext(unpacker.Unpack(row.Context));
                features.Clear();
                foreach (var action in row.Actions)
                {
                    featurizer.AddAction(action, features);
                }
                if (costs.Length < k)
                {
                    costs = new float[Math.Max(k, costs.Length * 2)];
                }
                learner.Predict(features, costs);
                var policyEstimate = 0.0;
                for (var a = 0; a < k; a++)
                {
                    policyEstimate += row.Policy[a] * -(double)costs[a];
                }
                scored[i] = (policyEstimate, -(double)costs[row.Chosen]);
            }
        }
        foreach (var i in order)
        {
            var row = _rows[i];
            accumulator.Add(row.Policy[row.Chosen] / row.Probability, row.Reward, scored[i].PolicyEstimate, scored[i].ChosenEstimate);
        }
        _fitted = accumulator;
        _fittedRows = _rows.Count;
        return accumulator;
    }

    private static int FoldOf(ulong key) => (int)(key % Folds);

    private static ulong Mix(ulong hash, ulong value) => Finish(hash ^ (value + 0x9E3779B97F4A7C15UL + (hash << 6) + (hash >> 2)));

    // SplitMix64's finaliser: every input bit reaches every output bit, so the fold (key mod K) is well spread.
    private static ulong Finish(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private PackedContext Pack(Features context)
    {
        var layout = new int[context.Count * 2];
        var n = 0;
        var hash = (ulong)context.Count;
        _scratch.Clear();
        foreach (var (name, ns) in context)
        {
            if (!_nameIds.TryGetValue(name, out var id))
            {
                id = _hashers.Count;
                _hashers.Add(new HashedNamespace(name));
                _nameIds.Add(name, id);
            }
            // Hashed as HashedFeatureSet.FromContext does, under the namespace's own seed.
            var hashed = _hashers[id];
            hashed.Clear();
            foreach (var (feature, value) in ns)
            {
                hashed.Add(feature, value);
            }
            for (var f = 0; f < hashed.Count; f++)
            {
                _scratch.Add(hashed.Hashes[f]);
                _scratch.Add(BitConverter.SingleToUInt32Bits(hashed.Values[f]));
            }
            layout[n++] = id;
            layout[n++] = _scratch.Count / 2;
            // Ids follow the file's order of first appearance; the content hash uses the names' own hashes instead.
            hash = Mix(Mix(hash, hashed.Hash), (ulong)(_scratch.Count / 2));
        }
        var features = _scratch.ToArray();
        hash = XxHash3.HashToUInt64(MemoryMarshal.AsBytes(features.AsSpan()), (long)hash);
        return new PackedContext(layout, features, hash);
    }

    private PackedContext Intern(PackedContext context)
    {
        if (_contexts.TryGetValue(context, out var existing))
        {
            return existing;
        }
        _contexts.Add(context, context);
        return context;
    }

    private HashedFeatureSet[] InternActions(IReadOnlyList<ActionCandidate> candidates)
    {
        var actions = new HashedFeatureSet[candidates.Count];
        for (var a = 0; a < actions.Length; a++)
        {
            var set = HashedFeatureSet.FromAction(candidates[a]);
            if (!_actionSets.TryGetValue(set, out var existing))
            {
                _actionSets.Add(set, set);
                _actionHashes.Add(set, ActionSetComparer.Instance.GetHashCode64(set));
                existing = set;
            }
            actions[a] = existing;
        }
        if (_lastActions is { } last && last.AsSpan().SequenceEqual(actions, ReferenceEqualityComparer.Instance))
        {
            return last;
        }
        _lastActions = actions;
        return actions;
    }

    private readonly record struct Row(
        ulong Key, ulong Content, PackedContext Context, HashedFeatureSet[] Actions, double[] Policy, int Chosen, double Probability, double Reward);

    /// <summary>
    /// A hashed context in two arrays: <see cref="Layout"/> holds (name id, end of its features) per namespace,
    /// <see cref="Features"/> (hash, value bits) per feature.
    /// </summary>
    private sealed class PackedContext(int[] layout, ulong[] features, ulong hash)
    {
        public static readonly IEqualityComparer<PackedContext> Comparer = new ContentComparer();

        public int[] Layout { get; } = layout;

        public ulong[] Features { get; } = features;

        public ulong Hash { get; } = hash;

        private sealed class ContentComparer : IEqualityComparer<PackedContext>
        {
            public bool Equals(PackedContext? x, PackedContext? y)
                => ReferenceEquals(x, y) || (x is not null && y is not null && x.Hash == y.Hash
                    && x.Layout.AsSpan().SequenceEqual(y.Layout) && x.Features.AsSpan().SequenceEqual(y.Features));

            public int GetHashCode(PackedContext obj) => (int)obj.Hash;
        }
    }

    /// <summary>Rebuilds a <see cref="HashedFeatureSet"/> from a packed context, reusing one namespace per name.</summary>
    private sealed class Unpacker(List<HashedNamespace> names)
    {
        private readonly Dictionary<int, HashedNamespace> _namespaces = [];

        public HashedFeatureSet Unpack(PackedContext context)
        {
            var set = new HashedFeatureSet();
            var layout = context.Layout;
            var features = context.Features;
            var start = 0;
            for (var n = 0; n < layout.Length; n += 2)
            {
                if (!_namespaces.TryGetValue(layout[n], out var ns))
                {
                    ns = new HashedNamespace(names[layout[n]].Name);
                    _namespaces.Add(layout[n], ns);
                }
                ns.Clear();
                var end = layout[n + 1];
                for (var f = start; f < end; f++)
                {
                    ns.Add(features[2 * f], BitConverter.UInt32BitsToSingle((uint)features[2 * f + 1]));
                }
                start = end;
                set.Add(ns);
            }
            return set;
        }
    }

    /// <summary>Equality of hashed action sets by namespace names, feature hashes and values.</summary>
    private sealed class ActionSetComparer : IEqualityComparer<HashedFeatureSet>
    {
        public static readonly ActionSetComparer Instance = new();

        public bool Equals(HashedFeatureSet? x, HashedFeatureSet? y)
        {
            if (ReferenceEquals(x, y))
            {
                return true;
            }
            if (x is null || y is null || x.Count != y.Count)
            {
                return false;
            }
            for (var n = 0; n < x.Count; n++)
            {
                if (x[n].Name != y[n].Name || !x[n].Hashes.SequenceEqual(y[n].Hashes) || !x[n].Values.SequenceEqual(y[n].Values))
                {
                    return false;
                }
            }
            return true;
        }

        public int GetHashCode(HashedFeatureSet obj) => (int)GetHashCode64(obj);

        public ulong GetHashCode64(HashedFeatureSet set)
        {
            var hash = (ulong)set.Count;
            for (var n = 0; n < set.Count; n++)
            {
                var ns = set[n];
                hash = Mix(hash, ns.Hash);
                for (var f = 0; f < ns.Count; f++)
                {
                    hash = Mix(Mix(hash, ns.Hashes[f]), BitConverter.SingleToUInt32Bits(ns.Values[f]));
                }
            }
            return hash;
        }
    }
}

using System.Runtime.CompilerServices;
using Flywheel.Core;

namespace Flywheel.Learning;

/// <summary>A reusable buffer of (weight index, value) pairs for one or more actions.</summary>
public sealed class FeatureVector
{
    private int[] _indices = new int[256];
    private float[] _values = new float[256];
    private int[] _offsets = new int[17];

    /// <summary>Total number of features.</summary>
    public int Count { get; private set; }

    /// <summary>Number of actions whose features are in the buffer.</summary>
    public int Actions { get; private set; }

    /// <summary>Empties the buffer.</summary>
    public void Clear()
    {
        Count = 0;
        Actions = 0;
        _offsets[0] = 0;
    }

    /// <summary>Adds one feature to the current action.</summary>
    public void Add(int index, float value)
    {
        if (Count == _indices.Length)
        {
            Array.Resize(ref _indices, Count * 2);
            Array.Resize(ref _values, Count * 2);
        }
        _indices[Count] = index;
        _values[Count] = value;
        Count++;
    }

    /// <summary>Appends <paramref name="count"/> features to the current action and returns them to be filled in.</summary>
    internal Span<int> Append(int count, out Span<float> values)
    {
        if (Count + count > _indices.Length)
        {
            var size = Math.Max(_indices.Length * 2, Count + count);
            Array.Resize(ref _indices, size);
            Array.Resize(ref _values, size);
        }
        var start = Count;
        Count += count;
        values = _values.AsSpan(start, count);
        return _indices.AsSpan(start, count);
    }

    /// <summary>Closes the current action.</summary>
    public void EndAction()
    {
        if (Actions + 2 > _offsets.Length)
        {
            Array.Resize(ref _offsets, _offsets.Length * 2);
        }
        Actions++;
        _offsets[Actions] = Count;
    }

    /// <summary>The weight indices of action <paramref name="action"/>.</summary>
    public ReadOnlySpan<int> Indices(int action) => _indices.AsSpan(_offsets[action], _offsets[action + 1] - _offsets[action]);

    /// <summary>The values of action <paramref name="action"/>.</summary>
    public ReadOnlySpan<float> Values(int action) => _values.AsSpan(_offsets[action], _offsets[action + 1] - _offsets[action]);
}

/// <summary>
/// Turns hashed context and action features into weight indices: every interaction term of the learner config
/// (docs/loop-config.md), each action namespace alone, and a constant shared by every action (except with <c>mtr</c>, see
/// <see cref="SharedConstant"/>). Context-side crosses are computed once per decision and reused for every action.
/// Allocation-free in steady state. Not thread-safe: use one per thread.
/// </summary>
public sealed partial class Featurizer
{
    private enum SelectorKind { Context, Action, Named }

    private readonly record struct Selector(SelectorKind Kind, string? Name);

    /// <summary>A growable list of (hash, value) pairs kept as two arrays.</summary>
    private sealed class Partials
    {
        public ulong[] Hashes = new ulong[64];
        public float[] Values = new float[64];
        public ulong[] Mixed = new ulong[64]; // CrossLeft of each hash, for context sides crossed with every action
        public int Count;

        public void Mix()
        {
            if (Mixed.Length < Count)
            {
                Mixed = new ulong[Hashes.Length];
            }
            for (var i = 0; i < Count; i++)
            {
                Mixed[i] = FeatureHashing.CrossLeft(Hashes[i]);
            }
        }

        public void Add(ulong hash, float value)
        {
            if (Count == Hashes.Length)
            {
                Array.Resize(ref Hashes, Count * 2);
                Array.Resize(ref Values, Count * 2);
            }
            Hashes[Count] = hash;
            Values[Count] = value;
            Count++;
        }
    }

    private readonly Selector[][] _terms;
    private readonly bool[] _hasNamed;
    private readonly int _mask;
    private readonly int _constantIndex;
    private readonly bool _sharedConstant;
    private readonly Partials[] _contextPartials;
    private readonly Selector[][] _contextSide;
    private readonly Selector[][] _actionSide;
    private readonly Partials[] _positions = [new(), new(), new()];
    private readonly Partials _actionPartials = new();
    private HashedFeatureSet? _context;

    /// <summary>
    /// True when every action carries the shared constant feature. <c>mtr</c> leaves it out, as VW's cb_adf does: its
    /// importance weights reach 1/(p·K) for a rarely explored action, and one such update on a weight every action
    /// shares would move every action's estimate. Each action keeps its own bias through its id feature.
    /// </summary>
    public bool SharedConstant => _sharedConstant;

    /// <summary>Compiles the interaction terms of a learner config.</summary>
    public Featurizer(LearnerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        _mask = (1 << config.Bits) - 1;
        _constantIndex = FeatureHashing.Index(FeatureHashing.Constant, _mask);
        _sharedConstant = config.Reduction != Reduction.Mtr;
        _terms = config.Interactions.Select(Compile).ToArray();
        _contextPartials = _terms.Select(_ => new Partials()).ToArray();
        _contextSide = new Selector[_terms.Length][];
        _actionSide = new Selector[_terms.Length][];
        _hasNamed = new bool[_terms.Length];
        for (var t = 0; t < _terms.Length; t++)
        {
            _hasNamed[t] = _terms[t].Any(s => s.Kind == SelectorKind.Named);
            _contextSide[t] = _terms[t].Where(s => s.Kind == SelectorKind.Context).ToArray();
            _actionSide[t] = _terms[t].Where(s => s.Kind == SelectorKind.Action).ToArray();
        }
    }

    /// <summary>The index mask, 2^bits − 1.</summary>
    public int Mask => _mask;

    private static Selector[] Compile(string term) => term.Split('*').Select(p => p switch
    {
        "context" => new Selector(SelectorKind.Context, null),
        "action" => new Selector(SelectorKind.Action, null),
        _ => new Selector(SelectorKind.Named, p),
    }).ToArray();

    /// <summary>Sets the context of the next actions and computes its side of every cross.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void SetContext(HashedFeatureSet context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _context = context;
        for (var t = 0; t < _terms.Length; t++)
        {
            if (_hasNamed[t])
            {
                SplitNamedTerm(t, context);
            }
            var partials = _contextPartials[t];
            partials.Count = 0;
            Cross(_contextSide[t], context, partials);
            if (_actionSide[t].Length > 0)
            {
                partials.Mix();
            }
        }
    }

    // A named namespace belongs to whichever side holds it in this decision; context positions go first, so a cross
    // hashes the same whichever order the term names them in. Kept apart so the common path captures nothing.
    private void SplitNamedTerm(int t, HashedFeatureSet context)
    {
        var term = _terms[t];
        var contextCount = 0;
        foreach (var s in term)
        {
            if (IsContext(s, context))
            {
                contextCount++;
            }
        }
        if (_contextSide[t].Length != contextCount || _actionSide[t].Length != term.Length - contextCount)
        {
            _contextSide[t] = new Selector[contextCount];
            _actionSide[t] = new Selector[term.Length - contextCount];
        }
        int c = 0, a = 0;
        foreach (var s in term)
        {
            if (IsContext(s, context))
            {
                _contextSide[t][c++] = s;
            }
            else
            {
                _actionSide[t][a++] = s;
            }
        }
    }

    private static bool IsContext(Selector s, HashedFeatureSet context) => s.Kind switch
    {
        SelectorKind.Context => true,
        SelectorKind.Action => false,
        _ => context.Find(s.Name!) is not null,
    };

    /// <summary>Appends one action's features to <paramref name="output"/> and closes the action.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void AddAction(HashedFeatureSet action, FeatureVector output)
    {
        ArgumentNullException.ThrowIfNull(action);
        ArgumentNullException.ThrowIfNull(output);
        if (_context is null)
        {
            throw new InvalidOperationException("Call SetContext first.");
        }
        var mask = _mask;
        if (_sharedConstant)
        {
            output.Add(_constantIndex, 1f);
        }
        for (var n = 0; n < action.Count; n++)
        {
            var ns = action[n];
            var hashes = ns.Hashes;
            var values = ns.Values;
            for (var i = 0; i < hashes.Length; i++)
            {
                output.Add(FeatureHashing.Index(hashes[i], mask), values[i]);
            }
        }
        for (var t = 0; t < _terms.Length; t++)
        {
            var left = _contextPartials[t];
            if (_actionSide[t].Length == 0)
            {
                for (var i = 0; i < left.Count; i++)
                {
                    output.Add(FeatureHashing.Index(left.Hashes[i], mask), left.Values[i]);
                }
                continue;
            }
            var right = _actionPartials;
            right.Count = 0;
            Cross(_actionSide[t], action, right);
            if (_contextSide[t].Length == 0)
            {
                for (var i = 0; i < right.Count; i++)
                {
                    output.Add(FeatureHashing.Index(right.Hashes[i], mask), right.Values[i]);
                }
                continue;
            }
            var leftCount = left.Count;
            var leftMixed = left.Mixed.AsSpan(0, leftCount);
            var leftValues = left.Values.AsSpan(0, leftCount);
            for (var r = 0; r < right.Count; r++)
            {
                var rh = right.Hashes[r];
                var rv = right.Values[r];
                var indices = output.Append(leftCount, out var values);
                FeatureHashing.CrossIndices(leftMixed, rh, mask, indices);
                if (rv == 1f)
                {
                    leftValues.CopyTo(values);
                }
                else
                {
                    for (var l = 0; l < leftValues.Length; l++)
                    {
                        values[l] = leftValues[l] * rv;
                    }
                }
            }
        }
        output.EndAction();
    }

    // Cartesian product of the positions' features; a position repeating the previous one takes only later features,
    // so context*context yields each unordered pair once.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Cross(Selector[] positions, HashedFeatureSet set, Partials output)
    {
        if (positions.Length == 0)
        {
            return;
        }
        for (var p = 0; p < positions.Length; p++)
        {
            var list = _positions[p];
            list.Count = 0;
            for (var n = 0; n < set.Count; n++)
            {
                var ns = set[n];
                if (positions[p].Kind == SelectorKind.Named && ns.Name != positions[p].Name)
                {
                    continue;
                }
                var hashes = ns.Hashes;
                var values = ns.Values;
                for (var i = 0; i < hashes.Length; i++)
                {
                    list.Add(hashes[i], values[i]);
                }
            }
        }
        Recurse(positions, 0, -1, 0, 1f, output);
    }

    private void Recurse(Selector[] positions, int level, int previousIndex, ulong hash, float value, Partials output)
    {
        var list = _positions[level];
        var start = level > 0 && positions[level] == positions[level - 1] ? previousIndex + 1 : 0;
        var last = level == positions.Length - 1;
        for (var i = start; i < list.Count; i++)
        {
            var combined = level == 0 ? list.Hashes[i] : FeatureHashing.Cross(hash, list.Hashes[i]);
            if (last)
            {
                output.Add(combined, value * list.Values[i]);
            }
            else
            {
                Recurse(positions, level + 1, i, combined, value * list.Values[i], output);
            }
        }
    }
}

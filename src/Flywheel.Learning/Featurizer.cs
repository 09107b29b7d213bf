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
/// (DESIGN §4), each action namespace alone, and a constant. Context-side crosses are computed once per decision and
/// reused for every action. Not thread-safe: use one per thread.
/// </summary>
public sealed class Featurizer
{
    private enum SelectorKind { Context, Action, Named }

    private readonly record struct Selector(SelectorKind Kind, string? Name);

    private readonly Selector[][] _terms;
    private readonly int _mask;

    // Per term: context-side partial crosses for the current decision.
    private readonly List<(ulong Hash, float Value)>[] _contextPartials;
    private readonly Selector[][] _contextSide;
    private readonly Selector[][] _actionSide;
    private readonly List<(ulong Hash, float Value)>[] _scratchLists = [new(), new(), new()];
    private readonly List<(ulong Hash, float Value)> _actionPartials = [];
    private HashedFeatureSet? _context;

    /// <summary>Compiles the interaction terms of a learner config.</summary>
    public Featurizer(LearnerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        _mask = (1 << config.Bits) - 1;
        _terms = config.Interactions.Select(Compile).ToArray();
        _contextPartials = _terms.Select(_ => new List<(ulong, float)>()).ToArray();
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

    private readonly bool[] _hasNamed;

    /// <summary>The index mask, 2^bits − 1.</summary>
    public int Mask => _mask;

    private static Selector[] Compile(string term) => term.Split('*').Select(p => p switch
    {
        "context" => new Selector(SelectorKind.Context, null),
        "action" => new Selector(SelectorKind.Action, null),
        _ => new Selector(SelectorKind.Named, p),
    }).ToArray();

    /// <summary>Sets the context of the next actions and computes its side of every cross.</summary>
    public void SetContext(HashedFeatureSet context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _context = context;
        for (var t = 0; t < _terms.Length; t++)
        {
            // Context positions first, so a cross hashes the same whichever order the term names them in.
            if (_hasNamed[t])
            {
                // Named namespaces belong to whichever side holds them in this decision.
                var term = _terms[t];
                _contextSide[t] = term.Where(s => IsContext(s, context)).ToArray();
                _actionSide[t] = term.Where(s => !IsContext(s, context)).ToArray();
            }
            var partials = _contextPartials[t];
            partials.Clear();
            Cross(_contextSide[t], context, partials);
        }
    }

    private static bool IsContext(Selector s, HashedFeatureSet context) => s.Kind switch
    {
        SelectorKind.Context => true,
        SelectorKind.Action => false,
        _ => context.Find(s.Name!) is not null,
    };

    /// <summary>Appends one action's features to <paramref name="output"/> and closes the action.</summary>
    public void AddAction(HashedFeatureSet action, FeatureVector output)
    {
        ArgumentNullException.ThrowIfNull(action);
        ArgumentNullException.ThrowIfNull(output);
        if (_context is null)
        {
            throw new InvalidOperationException("Call SetContext first.");
        }
        output.Add(FeatureHashing.Index(FeatureHashing.Constant, _mask), 1f);
        foreach (var ns in action.Namespaces)
        {
            var hashes = ns.Hashes;
            var values = ns.Values;
            for (var i = 0; i < hashes.Length; i++)
            {
                output.Add(FeatureHashing.Index(hashes[i], _mask), values[i]);
            }
        }
        for (var t = 0; t < _terms.Length; t++)
        {
            var left = _contextPartials[t];
            if (_actionSide[t].Length == 0)
            {
                foreach (var (h, v) in left)
                {
                    output.Add(FeatureHashing.Index(h, _mask), v);
                }
                continue;
            }
            _actionPartials.Clear();
            Cross(_actionSide[t], action, _actionPartials);
            if (_contextSide[t].Length == 0)
            {
                foreach (var (h, v) in _actionPartials)
                {
                    output.Add(FeatureHashing.Index(h, _mask), v);
                }
                continue;
            }
            foreach (var (lh, lv) in left)
            {
                foreach (var (rh, rv) in _actionPartials)
                {
                    output.Add(FeatureHashing.Index(FeatureHashing.Cross(lh, rh), _mask), lv * rv);
                }
            }
        }
        output.EndAction();
    }

    // Cartesian product of the positions' features; a position repeating the previous one takes only later features,
    // so context*context yields each unordered pair once.
    private void Cross(Selector[] positions, HashedFeatureSet set, List<(ulong, float)> output)
    {
        if (positions.Length == 0)
        {
            return;
        }
        for (var p = 0; p < positions.Length; p++)
        {
            var list = _scratchLists[p];
            list.Clear();
            foreach (var ns in set.Namespaces)
            {
                var include = positions[p].Kind switch
                {
                    SelectorKind.Named => ns.Name == positions[p].Name,
                    _ => true,
                };
                if (!include)
                {
                    continue;
                }
                var hashes = ns.Hashes;
                var values = ns.Values;
                for (var i = 0; i < hashes.Length; i++)
                {
                    list.Add((hashes[i], values[i]));
                }
            }
        }
        Recurse(positions, 0, -1, 0, 1f, output);
    }

    private void Recurse(Selector[] positions, int level, int previousIndex, ulong hash, float value, List<(ulong, float)> output)
    {
        var list = _scratchLists[level];
        var start = level > 0 && positions[level] == positions[level - 1] ? previousIndex + 1 : 0;
        for (var i = start; i < list.Count; i++)
        {
            var (h, v) = list[i];
            var combined = level == 0 ? h : FeatureHashing.Cross(hash, h);
            if (level == positions.Length - 1)
            {
                output.Add((combined, value * v));
            }
            else
            {
                Recurse(positions, level + 1, i, combined, value * v, output);
            }
        }
    }
}

using System.Runtime.CompilerServices;
using Flywheel.Core;

namespace Flywheel.Learning;

/// <summary>The hashed features of one namespace; reusable to avoid allocation on hot paths.</summary>
public sealed class HashedNamespace
{
    private ulong[] _hashes;
    private float[] _values;

    /// <summary>Creates an empty namespace.</summary>
    public HashedNamespace(string name, int capacity = 8)
    {
        Name = name;
        Hash = FeatureHashing.NamespaceHash(name);
        _hashes = new ulong[Math.Max(1, capacity)];
        _values = new float[Math.Max(1, capacity)];
    }

    /// <summary>The namespace's name.</summary>
    public string Name { get; }

    /// <summary>The namespace's hash, the seed of its features' hashes.</summary>
    public ulong Hash { get; }

    /// <summary>Number of features.</summary>
    public int Count { get; private set; }

    /// <summary>Feature hashes.</summary>
    public ReadOnlySpan<ulong> Hashes => _hashes.AsSpan(0, Count);

    /// <summary>Feature values.</summary>
    public ReadOnlySpan<float> Values => _values.AsSpan(0, Count);

    /// <summary>Removes every feature.</summary>
    public void Clear() => Count = 0;

    /// <summary>Adds a hashed feature; zero values are skipped (they contribute nothing to a linear model).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Add(ulong hash, float value)
    {
        if (value == 0)
        {
            return;
        }
        if (Count == _hashes.Length)
        {
            Array.Resize(ref _hashes, Count * 2);
            Array.Resize(ref _values, Count * 2);
        }
        _hashes[Count] = hash;
        _values[Count] = value;
        Count++;
    }

    /// <summary>Replaces the value of feature <paramref name="i"/> (used by streaming readers that reuse namespaces).</summary>
    public void SetValue(int i, float value) => _values[i] = value;

    /// <summary>Hashes one feature by the rules of docs/architecture.md and adds it.</summary>
    public void Add(string name, FeatureValue value)
    {
        switch (value.Kind)
        {
            case FeatureValueKind.Number:
            case FeatureValueKind.Boolean:
                Add(FeatureHashing.Hash(name, Hash), (float)value.Number);
                break;
            case FeatureValueKind.String:
                Add(FeatureHashing.HashCategorical(name, value.Text!, Hash), 1f);
                break;
            default:
                foreach (var s in value.Strings)
                {
                    Add(FeatureHashing.HashCategorical(name, s, Hash), 1f);
                }
                break;
        }
    }
}

/// <summary>The hashed namespaces of one context or one action.</summary>
public sealed class HashedFeatureSet
{
    private readonly List<HashedNamespace> _namespaces = [];

    /// <summary>The namespaces.</summary>
    public IReadOnlyList<HashedNamespace> Namespaces => _namespaces;

    /// <summary>Number of namespaces.</summary>
    public int Count => _namespaces.Count;

    /// <summary>Namespace <paramref name="i"/>; indexing avoids the enumerator allocation of <see cref="Namespaces"/>.</summary>
    public HashedNamespace this[int i] => _namespaces[i];

    /// <summary>Adds a namespace.</summary>
    public void Add(HashedNamespace ns) => _namespaces.Add(ns);

    /// <summary>Finds a namespace by name.</summary>
    public HashedNamespace? Find(string name)
    {
        for (var i = 0; i < _namespaces.Count; i++)
        {
            if (_namespaces[i].Name == name)
            {
                return _namespaces[i];
            }
        }
        return null;
    }

    /// <summary>Hashes a context's features.</summary>
    public static HashedFeatureSet FromContext(Features features)
    {
        ArgumentNullException.ThrowIfNull(features);
        var set = new HashedFeatureSet();
        foreach (var (name, ns) in features)
        {
            var hashed = new HashedNamespace(name, ns.Count);
            foreach (var (feature, value) in ns)
            {
                hashed.Add(feature, value);
            }
            set.Add(hashed);
        }
        return set;
    }

    /// <summary>Hashes an action's features plus its implicit id feature.</summary>
    public static HashedFeatureSet FromAction(ActionCandidate action)
    {
        ArgumentNullException.ThrowIfNull(action);
        var set = FromContext(action.Features);
        set.Add(ActionId(action.Id));
        return set;
    }

    /// <summary>The implicit namespace holding an action's id.</summary>
    public static HashedNamespace ActionId(string actionId)
    {
        var ns = new HashedNamespace(FeatureHashing.ActionIdNamespace, 1);
        ns.Add(FeatureHashing.HashCategorical("id", actionId, ns.Hash), 1f);
        return ns;
    }
}

using BenchmarkDotNet.Attributes;
using Flywheel.Core;
using Flywheel.Learning;

namespace Flywheel.Benchmarks;

/// <summary>
/// Hashing one context of 30 features (3 namespaces; numbers, categories, booleans): a fresh
/// <see cref="HashedFeatureSet.FromContext"/> as the engine does per decision, against reusing
/// <see cref="HashedNamespace"/> buffers, hashing the same names and values or adding hashes computed ahead.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 10)]
public class FeatureHashingBenchmarks
{
    private Features _context = null!;
    private HashedNamespace[] _reused = null!;
    private (string Name, FeatureValue Value)[][] _raw = null!;
    private ulong[][] _hashes = null!;
    private float[][] _values = null!;

    [GlobalSetup]
    public void Setup()
    {
        _context = Workload.Context();
        _reused = _context.Select(ns => new HashedNamespace(ns.Key, 16)).ToArray();
        _raw = _context.Select(ns => ns.Value.Select(kv => (kv.Key, kv.Value)).ToArray()).ToArray();
        var hashed = HashedFeatureSet.FromContext(_context);
        _hashes = hashed.Namespaces.Select(ns => ns.Hashes.ToArray()).ToArray();
        _values = hashed.Namespaces.Select(ns => ns.Values.ToArray()).ToArray();
    }

    /// <summary>What the engine does per decision and per learned example: new namespaces, every feature hashed.</summary>
    [Benchmark(Baseline = true)]
    public HashedFeatureSet FromContext() => HashedFeatureSet.FromContext(_context);

    /// <summary>Reused namespaces, every feature still hashed from its name and value (UTF-8 + XxHash3).</summary>
    [Benchmark]
    public int ReusedNamespaces_HashNames()
    {
        var count = 0;
        for (var n = 0; n < _reused.Length; n++)
        {
            var ns = _reused[n];
            ns.Clear();
            foreach (var (name, value) in _raw[n])
            {
                ns.Add(name, value);
            }
            count += ns.Count;
        }
        return count;
    }

    /// <summary>Reused namespaces fed hashes computed ahead (what a streaming reader with a vocabulary can do).</summary>
    [Benchmark]
    public int ReusedNamespaces_PreHashed()
    {
        var count = 0;
        for (var n = 0; n < _reused.Length; n++)
        {
            var ns = _reused[n];
            ns.Clear();
            var hashes = _hashes[n];
            var values = _values[n];
            for (var i = 0; i < hashes.Length; i++)
            {
                ns.Add(hashes[i], values[i]);
            }
            count += ns.Count;
        }
        return count;
    }
}

using BenchmarkDotNet.Attributes;
using Flywheel.Core;
using Flywheel.Engine;
using Flywheel.Learning;
using Microsoft.Extensions.DependencyInjection;

namespace Flywheel.Benchmarks;

/// <summary>
/// One decision over 10 actions × 30 context features (<c>context*action</c>, 18 bits): the scoring hot path on
/// hashed features, the same from <see cref="Features"/> objects, request validation, and the engine's whole
/// <see cref="FlywheelEngine.DecideAsync"/> against SQLite (WAL, synchronous=NORMAL) including the group commit.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 10)]
public class DecideBenchmarks
{
    private const ulong Seed = 5;
    private readonly float[] _costs = new float[Workload.Actions];
    private readonly double[] _pmf = new double[Workload.Actions];
    private readonly FeatureVector _vector = new();
    private Features _context = null!;
    private IReadOnlyList<ActionCandidate> _actions = null!;
    private HashedFeatureSet _contextSet = null!;
    private HashedFeatureSet[] _actionSets = null!;
    private Featurizer _featurizer = null!;
    private Featurizer _namedFeaturizer = null!;
    private ServingModel _model = null!;
    private ExplorationConfig _exploration = null!;
    private long _draw;

    private string? _directory;
    private FlywheelEngine _engine = null!;
    private DecideRequest _request = null!;

    [GlobalSetup(Targets = [nameof(HotPath_PreHashed), nameof(HotPath_FromFeatures), nameof(HotPath_PreHashed_NamedTerm), nameof(Validate_Request)])]
    public void SetupInMemory()
    {
        _context = Workload.Context();
        _actions = Workload.Candidates();
        _contextSet = HashedFeatureSet.FromContext(_context);
        _actionSets = Workload.HashActions(_actions);
        _featurizer = new Featurizer(Workload.Learner);
        _namedFeaturizer = new Featurizer(Workload.Learner with { Interactions = ["context*action", "user*item"] });
        _model = Workload.RandomModel(Workload.Learner.Bits);
        _exploration = new ExplorationConfig();
    }

    /// <summary>Featurize 10 actions from hashed sets, predict, ε-greedy, sample: the part that must not allocate.</summary>
    [Benchmark(Baseline = true)]
    public int HotPath_PreHashed() => Score(_featurizer, _contextSet, _actionSets);

    /// <summary>The same, hashing the context and each action's <see cref="Features"/> first (as the engine does).</summary>
    [Benchmark]
    public int HotPath_FromFeatures()
    {
        var vector = _vector;
        vector.Clear();
        _featurizer.SetContext(HashedFeatureSet.FromContext(_context));
        for (var i = 0; i < _actions.Count; i++)
        {
            _featurizer.AddAction(HashedFeatureSet.FromAction(_actions[i]), vector);
            _costs[i] = _model.Predict(vector.Indices(i), vector.Values(i));
        }
        return Choose();
    }

    /// <summary>The hot path with a named term (<c>user*item</c>) added: shows what <see cref="Featurizer.SetContext"/> costs then.</summary>
    [Benchmark]
    public int HotPath_PreHashed_NamedTerm() => Score(_namedFeaturizer, _contextSet, _actionSets);

    /// <summary>The feature validation every decide request gets (context, and each action's id and features).</summary>
    [Benchmark]
    public int Validate_Request()
    {
        var limits = FlywheelLimits.Default;
        _context.Validate("context", limits);
        for (var i = 0; i < _actions.Count; i++)
        {
            limits.CheckString($"actions[{i}].id", _actions[i].Id);
            _actions[i].Features.Validate($"actions[{i}].features", limits);
        }
        return _actions.Count;
    }

    private int Score(Featurizer featurizer, HashedFeatureSet context, HashedFeatureSet[] actions)
    {
        var vector = _vector;
        vector.Clear();
        featurizer.SetContext(context);
        for (var i = 0; i < actions.Length; i++)
        {
            featurizer.AddAction(actions[i], vector);
            _costs[i] = _model.Predict(vector.Indices(i), vector.Values(i));
        }
        return Choose();
    }

    private int Choose()
    {
        Exploration.Distribution(_exploration, _costs, _pmf);
        return Exploration.Sample(_pmf, Exploration.UniformFor(Seed, _draw++));
    }

    [GlobalSetup(Targets = [nameof(Engine_DecideAsync), nameof(Engine_DecideAsync_16Concurrent)])]
    public async Task SetupEngine()
    {
        _directory = Workload.TempDirectory("decide");
        _engine = await FlywheelEngine.OpenAsync(new FlywheelOptions().UseSqlite(_directory), TimeProvider.System);
        await _engine.PutLoopAsync(Workload.LoopConfig());
        _request = Workload.Request();
    }

    [GlobalCleanup(Targets = [nameof(Engine_DecideAsync), nameof(Engine_DecideAsync_16Concurrent)])]
    public async Task CleanupEngine()
    {
        await _engine.DisposeAsync();
        Workload.DeleteDirectory(_directory);
    }

    /// <summary>
    /// One caller, one decision at a time: validation, hashing, scoring, exploration, the decision record, and the
    /// wait for its own group commit (one transaction per decision here).
    /// </summary>
    [Benchmark]
    public ValueTask<Decision> Engine_DecideAsync() => _engine.DecideAsync(Workload.Loop, _request);

    /// <summary>16 concurrent callers: group commit shares transactions; reported per decision.</summary>
    [Benchmark(OperationsPerInvoke = 16)]
    public async Task Engine_DecideAsync_16Concurrent()
    {
        var calls = new Task<Decision>[16];
        for (var i = 0; i < calls.Length; i++)
        {
            calls[i] = _engine.DecideAsync(Workload.Loop, _request).AsTask();
        }
        await Task.WhenAll(calls);
    }
}

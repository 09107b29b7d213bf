using BenchmarkDotNet.Attributes;
using Flywheel.Core;
using Flywheel.Engine;
using Flywheel.Learning;
using Microsoft.Extensions.DependencyInjection;

namespace Flywheel.Benchmarks;

/// <summary>
/// An <c>ability</c> loop choosing among 50 candidate exercises (each with a level and a topic) for one of 10,000
/// learners who have answered 100 exercises each: the policy alone (predict 50, pick by target, explore), the engine's
/// whole <see cref="FlywheelEngine.DecideAsync"/> against SQLite with its group commit, and one answer learned (ability,
/// difficulty, feature weights under irt, memory and streak).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 10)]
public class AbilityBenchmarks
{
    private const int Candidates = 50;
    private const int Learners = 10_000;
    private const int Items = 2_000;
    private const string Loop = "tutor";
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    private LoopConfig _config = null!;
    private IAbilityPolicy _policy = null!;
    private AbilityEstimator _estimator = null!;
    private ActionCandidate[] _items = null!;
    private IReadOnlyList<ActionCandidate> _actions = null!;
    private float[] _costs = null!;
    private double[] _pmf = null!;
    private long _n;

    private string? _directory;
    private FlywheelEngine _engine = null!;
    private DecideRequest _request = null!;

    private static LoopConfig TutorLoop() => new()
    {
        Id = Loop,
        Kind = LoopKind.Ability,
        Ability = new AbilityConfig { Model = AbilityModel.Irt, Reviews = true },
        Signals = new Dictionary<string, SignalTypeConfig> { ["correct"] = new() { Kind = SignalKind.Explicit, Weight = 1, ClosesWindow = true } },
        Exploration = new ExplorationConfig { Algorithm = ExplorationAlgorithm.EpsilonGreedy, Epsilon = 0.05 },
    };

    private static ActionCandidate Item(int i) => new($"ex-{i}", new Features { ["item"] = { ["level"] = i % 10, ["topic"] = $"t{i % 25}" } });

    [GlobalSetup(Targets = [nameof(Policy_Choose1Of50), nameof(Estimator_LearnAnswer)])]
    public void SetupInMemory()
    {
        _config = TutorLoop();
        _items = [.. Enumerable.Range(0, Items).Select(Item)];
        _actions = _items[..Candidates];
        var learner = AbilityKind.Instance.CreateLearner(_config.Learner, _config.Exploration);
        var random = new Random(1);
        _policy = (IAbilityPolicy)learner.Publish(1);
        _estimator = _policy.Estimates;
        for (var n = 0; n < Learners * 100; n++)
        {
            var item = _items[random.Next(Items)];
            _estimator.Learn($"learner-{n % Learners}", item.Id, item.Features, random.NextDouble() < 0.7, T0.AddMinutes(n / 100.0), "Europe/Paris", _config.AbilitySettings);
        }
        _costs = new float[Candidates];
        _pmf = new double[Candidates];
    }

    /// <summary>Predict 50 exercises for one learner (due reviews included), cost each by its distance to the target, explore.</summary>
    [Benchmark]
    public double Policy_Choose1Of50()
    {
        var user = $"learner-{_n++ % Learners}";
        _policy.Score(_config, user, T0.AddDays(30), _actions, _costs, _pmf, []);
        return _pmf[0];
    }

    /// <summary>One answer learned: ability, difficulty and irt feature weights, the FSRS memory and the streak.</summary>
    [Benchmark]
    public double Estimator_LearnAnswer()
    {
        var n = _n++;
        var item = _items[(int)(n * 7919 % Items)];
        return _estimator.Learn($"learner-{n % Learners}", item.Id, item.Features, n % 3 != 0, T0.AddDays(30).AddSeconds(n), "Europe/Paris", _config.AbilitySettings);
    }

    [GlobalSetup(Target = nameof(Engine_AbilityDecideAsync1Of50))]
    public async Task SetupEngine()
    {
        _directory = Workload.TempDirectory("ability");
        _engine = await FlywheelEngine.OpenAsync(new FlywheelOptions().UseSqlite(_directory), TimeProvider.System);
        await _engine.PutLoopAsync(TutorLoop());
        _request = new DecideRequest { UserId = "learner-42", TimeZone = "Europe/Paris", Actions = [.. Enumerable.Range(0, Candidates).Select(Item)] };
    }

    [GlobalCleanup(Target = nameof(Engine_AbilityDecideAsync1Of50))]
    public async Task CleanupEngine()
    {
        await _engine.DisposeAsync();
        Workload.DeleteDirectory(_directory);
    }

    /// <summary>The whole decide of an ability loop over 50 exercises: validation, prediction, the record and its group commit.</summary>
    [Benchmark]
    public ValueTask<Decision> Engine_AbilityDecideAsync1Of50() => _engine.DecideAsync(Loop, _request);
}

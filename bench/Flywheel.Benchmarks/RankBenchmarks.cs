using BenchmarkDotNet.Attributes;
using Flywheel.Core;
using Flywheel.Engine;
using Flywheel.Learning;
using Microsoft.Extensions.DependencyInjection;

namespace Flywheel.Benchmarks;

/// <summary>
/// A <c>rank</c> loop serving 10 slots of 100 candidates (30 context features, 4 per candidate, <c>context*action</c>,
/// 18 bits): the ranking policy alone (score 100, fill 10 slots with exact probabilities), the engine's whole
/// <see cref="FlywheelEngine.DecideAsync"/> against SQLite with its group commit, and the ranker learning one closed
/// ranking (10 slot examples).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 10)]
public class RankBenchmarks
{
    private const int Candidates = 100;
    private const int Slots = 10;
    private const string Loop = "search";

    private LoopConfig _config = null!;
    private Features _context = null!;
    private IReadOnlyList<ActionCandidate> _actions = null!;
    private IRankingPolicy _policy = null!;
    private ILoopLearner _learner = null!;
    private DecisionRecord _decision = null!;
    private RewardRecord _reward = null!;
    private long _draw;

    private string? _directory;
    private FlywheelEngine _engine = null!;
    private DecideRequest _request = null!;

    private static LoopConfig RankLoop() => new()
    {
        Id = Loop,
        Kind = LoopKind.Rank,
        Rank = new RankConfig { Slots = Slots, PositionBias = PositionBias.Estimate, InterventionRate = 0.05 },
        Signals = new Dictionary<string, SignalTypeConfig> { ["click"] = new() { Weight = 1 } },
        Reward = new RewardConfig { WindowSeconds = 3600 },
    };

    [GlobalSetup(Targets = [nameof(Policy_Rank10Of100), nameof(Ranker_Learn10Slots)])]
    public void SetupInMemory()
    {
        _config = RankLoop();
        _context = Workload.Context();
        _actions = Workload.Candidates(Candidates);
        _learner = RankKind.Instance.CreateLearner(_config.Learner, _config.Exploration);
        var ranking = new RankedAction[Slots];
        var slots = new SlotReward[Slots];
        for (var l = 0; l < Slots; l++)
        {
            ranking[l] = new RankedAction(_actions[l * 7].Id, 0.5) { Slot = l + 1 };
            slots[l] = new SlotReward(l + 1, _actions[l * 7].Id, l % 3 == 0 ? 1 : 0, l % 3 == 0 ? 1 : 0);
        }
        _decision = new DecisionRecord
        {
            Loop = Loop, DecisionId = "d", At = DateTimeOffset.UnixEpoch, Context = _context, Actions = _actions,
            ChosenActionId = ranking[0].ActionId, Explored = false, Intervened = true, Ranking = ranking, ModelVersion = 1,
        };
        _reward = new RewardRecord
        {
            Loop = Loop, DecisionId = "d", Sequence = 1, Reward = 4, SignalCount = 4, ClosedAt = DateTimeOffset.UnixEpoch,
            ClosedBy = WindowClose.Timeout, Slots = slots,
        };
        // A trained model, so the ranking policy's exploration is not the uniform first decision.
        for (var i = 0; i < 200; i++)
        {
            _learner.Learn(_decision, _reward, _config);
        }
        _policy = (IRankingPolicy)_learner.Publish(1);
    }

    /// <summary>Score 100 candidates and fill 10 slots with each slot's exact probability: the serving work of a rank decision.</summary>
    [Benchmark]
    public int Policy_Rank10Of100()
    {
        var seed = (ulong)_draw++;
        return _policy.Rank(_config, _context, _actions, i => Exploration.UniformFor(seed, i)).Order[0];
    }

    /// <summary>One closed ranking learned: 10 slot examples, each weighted by its slot's examination.</summary>
    [Benchmark(OperationsPerInvoke = Slots)]
    public long Ranker_Learn10Slots()
    {
        _learner.Learn(_decision, _reward, _config);
        return _learner.Examples;
    }

    [GlobalSetup(Target = nameof(Engine_RankDecideAsync10Of100))]
    public async Task SetupEngine()
    {
        _directory = Workload.TempDirectory("rank");
        _engine = await FlywheelEngine.OpenAsync(new FlywheelOptions().UseSqlite(_directory), TimeProvider.System);
        await _engine.PutLoopAsync(RankLoop());
        _request = new DecideRequest { UserId = "user-42", Context = Workload.Context(), Actions = Workload.Candidates(Candidates) };
    }

    [GlobalCleanup(Target = nameof(Engine_RankDecideAsync10Of100))]
    public async Task CleanupEngine()
    {
        await _engine.DisposeAsync();
        Workload.DeleteDirectory(_directory);
    }

    /// <summary>The whole decide of a rank loop, 10 of 100: validation, hashing, scoring, the slots, the record and its group commit.</summary>
    [Benchmark]
    public ValueTask<Decision> Engine_RankDecideAsync10Of100() => _engine.DecideAsync(Loop, _request);
}

using BenchmarkDotNet.Attributes;
using Flywheel.Core;
using Flywheel.Learning;

namespace Flywheel.Benchmarks;

/// <summary>
/// Online learning on the decision shape of <see cref="DecideBenchmarks"/> (10 actions × 30 context features,
/// <c>context*action</c>, 18 bits), cycling through 64 contexts with noisy costs: predict-and-learn one example
/// from hashed features, learning alone, and the engine's learn step that starts from a stored decision
/// (<see cref="LearnStep"/>). <see cref="Form"/> runs each on a dense learner (a busy loop's) and on a sparse one (a
/// new loop's, which keeps only the slots it has touched until they pass 2^18/16; the cleanup prints which form each
/// learner ended in).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 10)]
public class LearnBenchmarks
{
    private const int Contexts = 64;
    private const ulong Seed = 9;
    private readonly float[] _costs = new float[Workload.Actions];
    private readonly double[] _pmf = new double[Workload.Actions];
    private readonly FeatureVector _vector = new();
    private readonly FeatureVector _chosen = new();
    private HashedFeatureSet[] _contextSets = null!;
    private HashedFeatureSet[] _actionSets = null!;
    private float[] _outcomes = null!;
    private Featurizer _featurizer = null!;
    private BanditLearner _learner = null!;
    private DecisionRecord[] _decisions = null!;
    private LearnStep _step = null!;
    private ExplorationConfig _exploration = null!;
    private long _n;

    /// <summary>
    /// <c>dense</c>: the learners are turned dense before the first iteration. <c>sparse</c>: they start sparse, as a new
    /// loop's do (built against a commit from before sparse learners, both are dense).
    /// </summary>
    [Params("dense", "sparse")]
    public string Form { get; set; } = "dense";

    [GlobalSetup]
    public void Setup()
    {
        var actions = Workload.Candidates();
        var contexts = Enumerable.Range(0, Contexts).Select(Workload.Context).ToArray();
        _contextSets = contexts.Select(HashedFeatureSet.FromContext).ToArray();
        _actionSets = Workload.HashActions(actions);
        _featurizer = new Featurizer(Workload.Learner);
        _learner = new BanditLearner(Workload.Learner);

        // Cost of (context, action): a fixed preference plus noise, so the error never settles at exactly 0.
        var random = new Random(3);
        _outcomes = new float[640 * 8];
        for (var i = 0; i < _outcomes.Length; i++)
        {
            var context = i / Workload.Actions % Contexts;
            var action = i % Workload.Actions;
            var p = (action == context % Workload.Actions) ? 0.6 : 0.1;
            _outcomes[i] = random.NextDouble() < p ? -1f : 0f;
        }

        // Learn-only input: one vector per context, for the action the context prefers.
        for (var c = 0; c < Contexts; c++)
        {
            _featurizer.SetContext(_contextSets[c]);
            _featurizer.AddAction(_actionSets[c % Workload.Actions], _chosen);
        }

        // Stored decisions, as the learner worker gets them with their rewards.
        var config = Workload.LoopConfig();
        _exploration = config.Exploration;
        _step = new LearnStep(config);
        _decisions = contexts.Select((context, c) => new DecisionRecord
        {
            Loop = Workload.Loop,
            DecisionId = "d-" + c.ToString(System.Globalization.CultureInfo.InvariantCulture),
            At = DateTimeOffset.UnixEpoch,
            Context = context,
            Actions = actions,
            ChosenActionId = actions[c % Workload.Actions].Id,
            Explored = false,
            Ranking = actions.Select((a, i) => new RankedAction(a.Id, i == c % Workload.Actions ? 0.955 : 0.005)).ToArray(),
            ModelVersion = 1,
        }).ToArray();
#if !FLYWHEEL_BEFORE_SPARSE
        if (Form == "dense")
        {
            _learner.Densify();
            _step.Densify();
        }
#endif
    }

#if !FLYWHEEL_BEFORE_SPARSE
    [GlobalCleanup]
    public void Cleanup()
        => Console.WriteLine($"// {Form}: learner {(_learner.Regressor.IsDense ? "dense" : "sparse")} at the end, engine step's {(_step.IsDense ? "dense" : "sparse")}");
#endif

    /// <summary>Featurize 10 actions, predict them on the live learner, ε-greedy draw, learn the chosen one.</summary>
    [Benchmark(Baseline = true)]
    public float PredictAndLearn()
    {
        var n = _n++;
        var c = (int)(n % Contexts);
        var vector = _vector;
        vector.Clear();
        _featurizer.SetContext(_contextSets[c]);
        for (var i = 0; i < _actionSets.Length; i++)
        {
            _featurizer.AddAction(_actionSets[i], vector);
            _costs[i] = _learner.Predict(vector.Indices(i), vector.Values(i));
        }
        Exploration.EpsilonGreedy(0.05, _costs, _pmf);
        var chosen = Exploration.Sample(_pmf, Exploration.UniformFor(Seed, n));
        var cost = Outcome(c, chosen, n);
        _learner.Learn(vector.Indices(chosen), vector.Values(chosen), cost, _pmf[chosen], Workload.Actions);
        return cost;
    }

    /// <summary>One update on features already built (156 weights).</summary>
    [Benchmark]
    public float LearnOnly()
    {
        var n = _n++;
        var c = (int)(n % Contexts);
        var cost = Outcome(c, c % Workload.Actions, n);
        _learner.Learn(_chosen.Indices(c), _chosen.Values(c), cost, 0.955, Workload.Actions);
        return cost;
    }

    /// <summary>
    /// The learner worker's step for one closed reward: featurize the stored decision (context and chosen action), then
    /// one update. This is what every reward costs the engine.
    /// </summary>
    [Benchmark]
    public float LearnFromStoredDecision()
    {
        var n = _n++;
        var c = (int)(n % Contexts);
        var cost = Outcome(c, c % Workload.Actions, n);
        _step.Learn(_decisions[c], -cost, _exploration);
        return cost;
    }

    private float Outcome(int context, int action, long n)
        => _outcomes[(int)((((context * Workload.Actions) + action) + (n / Contexts * 640)) % _outcomes.Length)];
}

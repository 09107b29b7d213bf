using System.Collections.Concurrent;
using Flywheel.Core;
using Flywheel.Learning;

namespace Flywheel.Engine;

/// <summary>What deciders read: swapped whole, never mutated.</summary>
internal sealed record ServingState(LoopConfig Config, ServingModel Model, FeaturizerPool Featurizers)
{
    /// <summary>Models that score every decision without being served.</summary>
    public IReadOnlyList<ShadowPolicy> Shadows { get; init; } = [];
}

/// <summary>A shadow model: fixed weights with their own settings and featurizers.</summary>
internal sealed record ShadowPolicy(int Version, ServingModel Model, LearnerConfig Learner, ExplorationConfig Exploration)
{
    public FeaturizerPool Featurizers { get; } = new(Learner);
}

/// <summary>A featurizer with its output buffer: not thread-safe, grown to fit, so deciders borrow one.</summary>
internal sealed class Scorer(LearnerConfig config)
{
    public Featurizer Featurizer { get; } = new(config);

    public FeatureVector Features { get; } = new();
}

/// <summary>Scorers for one learner config.</summary>
internal sealed class FeaturizerPool(LearnerConfig config)
{
    private readonly ConcurrentBag<Scorer> _pool = [];

    public LearnerConfig Config { get; } = config;

    public Scorer Rent() => _pool.TryTake(out var s) ? s : new Scorer(Config);

    public void Return(Scorer scorer) => _pool.Add(scorer);
}

/// <summary>A decision whose reward window is still open; owned by the ingest writer.</summary>
internal sealed class PendingDecision
{
    private readonly byte[] _payload;

    /// <param name="record">The decision.</param>
    /// <param name="closeAt">When its window closes.</param>
    /// <param name="payload">Its features as <see cref="DecisionPayload"/> bytes (computed off the writer thread when possible).</param>
    public PendingDecision(DecisionRecord record, DateTimeOffset closeAt, byte[]? payload = null)
    {
        _payload = payload ?? DecisionPayload.Serialize(record.Context, record.Actions);
        Record = DecisionPayload.Slim(record);
        CloseAt = closeAt;
    }

    /// <summary>The decision without its features: enough to answer a retry and to compute the reward.</summary>
    public DecisionRecord Record { get; }

    public DateTimeOffset CloseAt { get; }

    public List<(string Type, double Value)> Signals { get; } = [];

    /// <summary>The full decision, features included (the learner calls this when the window has closed).</summary>
    public DecisionRecord Restore() => DecisionPayload.Restore(Record, _payload);
}

/// <summary>One loop's live state. Fields are grouped by the one thread that owns them.</summary>
internal sealed class LoopRuntime
{
    private readonly Lock _swap = new();
    private volatile ServingState _serving;

    public LoopRuntime(LoopConfig config, ServingModel model)
    {
        Id = config.Id;
        _serving = new ServingState(config, model, new FeaturizerPool(config.Learner));
        Learner = BanditLearner.For(config.Learner, config.Exploration);
        LearnFeaturizer = new Featurizer(config.Learner);
    }

    public string Id { get; }

    public ServingState Serving => _serving;

    public LoopConfig Config => _serving.Config;

    public void SwapConfig(LoopConfig config)
    {
        lock (_swap)
        {
            _serving = _serving with { Config = config };
        }
    }

    /// <summary>Publishes a new config and model together, so no decider sees one without the other.</summary>
    public void SwapServing(LoopConfig config, ServingModel model)
    {
        lock (_swap)
        {
            var s = _serving;
            var pool = s.Featurizers.Config == config.Learner ? s.Featurizers : new FeaturizerPool(config.Learner);
            _serving = new ServingState(config, model, pool) { Shadows = s.Shadows };
        }
    }

    /// <summary>Publishes the set of shadow models.</summary>
    public void SwapShadows(IReadOnlyList<ShadowPolicy> shadows)
    {
        lock (_swap)
        {
            _serving = _serving with { Shadows = shadows };
        }
    }

    /// <summary>When the loop was created or restored in this process (the turn schedule counts from it).</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>Regressors the loop's exploration needs: one per bag when bagging, else one.</summary>
    public static int BagsOf(LoopConfig config) => config.Exploration.Algorithm == ExplorationAlgorithm.Bag ? config.Exploration.Bags : 1;

    /// <summary>Publishes a model; a new learner config also gets a new featurizer pool.</summary>
    public void SwapModel(ServingModel model, LearnerConfig learnerConfig)
    {
        lock (_swap)
        {
            var s = _serving;
            var pool = ReferenceEquals(s.Featurizers.Config, learnerConfig) || s.Featurizers.Config == learnerConfig
                ? s.Featurizers
                : new FeaturizerPool(learnerConfig);
            _serving = s with { Model = model, Featurizers = pool };
        }
    }

    // Owned by the ingest writer.
    public Dictionary<string, PendingDecision> Pending { get; } = new(StringComparer.Ordinal);

    public PriorityQueue<PendingDecision, DateTimeOffset> DueQueue { get; } = new();

    public long NextRewardSequence { get; set; } = 1;

    // Owned by the learner worker.
    public BanditLearner Learner { get; set; }

    public Featurizer LearnFeaturizer { get; set; }

    public FeatureVector LearnFeatures { get; } = new();

    public int ModelVersion { get; set; } = 1;

    public long LearnedThrough { get; set; }

    public long ExamplesSinceSnapshot { get; set; }

    public DateTimeOffset LastSnapshotAt { get; set; }

    public bool Dirty { get; set; }
}

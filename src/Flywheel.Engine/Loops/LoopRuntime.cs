using Flywheel.Core;
using Flywheel.Learning;

namespace Flywheel.Engine;

/// <summary>What deciders read: swapped whole, never mutated.</summary>
internal sealed record ServingState(LoopConfig Config, ILoopPolicy Policy)
{
    private long _firstServedTicks;

    // A copy (`with`) is a new publication: it has not been served yet.
    private ServingState(ServingState original)
    {
        Config = original.Config;
        Policy = original.Policy;
        Shadows = original.Shadows;
        LearnedThrough = original.LearnedThrough;
    }

    /// <summary>Models that score every decision without being served.</summary>
    public IReadOnlyList<ShadowPolicy> Shadows { get; init; } = [];

    /// <summary>The last reward sequence the served policy learned from (what loop latency measures up to).</summary>
    public long LearnedThrough { get; init; }

    /// <summary>True for the first caller only: the first decision served with this state.</summary>
    public bool MarkFirstServed(DateTimeOffset at)
        => Interlocked.CompareExchange(ref _firstServedTicks, at.UtcTicks, 0) == 0;
}

/// <summary>When a policy that had learned through a reward sequence first served a decision.</summary>
internal readonly record struct ServingMark(long LearnedThrough, DateTimeOffset FirstServedAt);

/// <summary>
/// The newest moments a newly learned policy reached users, for loop latency. Bounded: the oldest marks are
/// dropped, and only marks that learned something new are kept.
/// </summary>
internal sealed class ServingLog
{
    public const int Capacity = 4096;
    private readonly Lock _lock = new();
    private readonly Queue<ServingMark> _marks = new();

    public void Add(ServingMark mark)
    {
        lock (_lock)
        {
            if (_marks.Count > 0 && _marks.Last().LearnedThrough >= mark.LearnedThrough)
            {
                return;
            }
            if (_marks.Count == Capacity)
            {
                _marks.Dequeue();
            }
            _marks.Enqueue(mark);
        }
    }

    public ServingMark[] Snapshot()
    {
        lock (_lock)
        {
            return [.. _marks];
        }
    }
}

/// <summary>A shadow model: fixed weights served under their own exploration.</summary>
internal sealed record ShadowPolicy(int Version, ILoopPolicy Policy, ExplorationConfig Exploration);

/// <summary>
/// One loop's live state. Deciders read <see cref="Serving"/>; the ingest writer owns <see cref="Windows"/>; the
/// learner host owns the learner fields. Which kind of loop it is lives in <see cref="Kind"/> alone.
/// </summary>
internal sealed class LoopRuntime
{
    private readonly Lock _swap = new();
    private volatile ServingState _serving;

    /// <summary>A loop with an untrained learner serving as version 1.</summary>
    public LoopRuntime(LoopConfig config, DateTimeOffset createdAt)
    {
        Id = config.Id;
        Kind = LoopKinds.For(config);
        Learner = Kind.CreateLearner(config.Learner, config.Exploration);
        _serving = new ServingState(config, Learner.Publish(ModelVersion));
        CreatedAt = createdAt;
        LastSnapshotAt = createdAt;
    }

    public string Id { get; }

    /// <summary>The loop kind's learning, serving and replay.</summary>
    public ILoopKind Kind { get; }

    public ServingState Serving => _serving;

    public LoopConfig Config => _serving.Config;

    /// <summary>When the loop was created or restored in this process (the turn schedule counts from it).</summary>
    public DateTimeOffset CreatedAt { get; }

    /// <summary>Open reward windows; owned by the ingest writer.</summary>
    public RewardWindows Windows { get; } = new();

    public void SwapConfig(LoopConfig config)
    {
        lock (_swap)
        {
            _serving = _serving with { Config = config };
        }
    }

    /// <summary>Publishes a new config and policy together, so no decider sees one without the other.</summary>
    public void SwapServing(LoopConfig config, ILoopPolicy policy)
    {
        lock (_swap)
        {
            _serving = _serving with { Config = config, Policy = policy, LearnedThrough = ServedLearning(config) };
        }
    }

    /// <summary>Publishes a new policy.</summary>
    public void SwapPolicy(ILoopPolicy policy)
    {
        lock (_swap)
        {
            _serving = _serving with { Policy = policy, LearnedThrough = ServedLearning(_serving.Config) };
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

    /// <summary>Moments newly learned policies first served: loop latency's evidence.</summary>
    public ServingLog ServingLog { get; } = new();

    // A frozen loop's learner records its position without learning, and an apprentice serves the baseline: neither
    // serves what it learned, so their served policy keeps the position it had.
    private long ServedLearning(LoopConfig config)
        => config.Mode == LoopMode.Online ? LearnedThrough : _serving.LearnedThrough;

    /// <summary>Publishes what the learner knows now.</summary>
    public void Publish() => SwapPolicy(Learner.Publish(ModelVersion, _serving.Policy));

    // Owned by the learner host.
    public ILoopLearner Learner { get; set; }

    public int ModelVersion { get; set; } = 1;

    public long LearnedThrough { get; set; }

    public long ExamplesSinceSnapshot { get; set; }

    public DateTimeOffset LastSnapshotAt { get; set; }

    public bool Dirty { get; set; }
}

using Flywheel.Core;
using Flywheel.Learning;

namespace Flywheel.Engine;

/// <summary>What deciders read: swapped whole, never mutated.</summary>
internal sealed record ServingState(LoopConfig Config, ILoopPolicy Policy)
{
    /// <summary>Models that score every decision without being served.</summary>
    public IReadOnlyList<ShadowPolicy> Shadows { get; init; } = [];
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
            _serving = _serving with { Config = config, Policy = policy };
        }
    }

    /// <summary>Publishes a new policy.</summary>
    public void SwapPolicy(ILoopPolicy policy)
    {
        lock (_swap)
        {
            _serving = _serving with { Policy = policy };
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

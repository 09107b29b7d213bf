using Flywheel.Core;
using Flywheel.Learning;

namespace Flywheel.Engine;

/// <summary>Settings of a <see cref="FlywheelEngine"/>. Validated when the engine starts.</summary>
public sealed class FlywheelOptions : IFlywheelStoreSelector
{
    /// <summary>
    /// Creates the store. Set it with a storage package's extension, such as <c>o.UseSqlite(dataDir)</c>.
    /// The engine initializes and disposes the store it creates.
    /// </summary>
    public Func<IServiceProvider?, IFlywheelStore>? StoreFactory { get; set; }

    /// <inheritdoc />
    public void UseStore(Func<IServiceProvider?, IFlywheelStore> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        StoreFactory = factory;
    }

    /// <summary>Size limits for decisions and signal batches.</summary>
    public FlywheelLimits Limits { get; set; } = new();

    /// <summary>Mixed into every exploration draw, so two deployments can explore differently. <value>Default 0.</value></summary>
    public ulong ExplorationSeed { get; set; }

    /// <summary>Most queued ingest calls before new ones are refused as overloaded. <value>Default 20,000.</value></summary>
    public int MaxQueuedWrites { get; set; } = 20_000;

    /// <summary>Most calls that share one group commit. <value>Default 2,048.</value></summary>
    public int MaxCallsPerCommit { get; set; } = 2_048;

    /// <summary>Examples learned between persisted learner snapshots. <value>Default 10,000.</value></summary>
    public int SnapshotEveryExamples { get; set; } = 10_000;

    /// <summary>Longest time between persisted snapshots while learning. <value>Default 60 s.</value></summary>
    public TimeSpan SnapshotInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Longest time between learning from a reward and serving a model that includes it; learning runs continuously,
    /// but copying the model for deciders is batched to this interval. <value>Default 50 ms.</value>
    /// </summary>
    public TimeSpan PublishInterval { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>How often due reward windows are closed when no traffic arrives. <value>Default 1 s.</value></summary>
    public TimeSpan JoinInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Whether this engine runs turns on each loop's schedule (and watches deployed models). Turn it off on serving
    /// nodes that should leave training to another, or in tests that judge fixed settings. <value>Default true.</value>
    /// </summary>
    public bool ScheduleTurns { get; set; } = true;

    /// <summary>
    /// How often each loop is checked for a due turn (<c>turns.everySeconds</c>) and for a deployed model whose online
    /// reward can be judged. <value>Default 10 s.</value>
    /// </summary>
    public TimeSpan TurnCheckInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The settings a turn trains beside the champion's, given the loop's config. <value>Default: the loop kind's own
    /// search (<see cref="ILoopKind.Candidates"/>); for <c>choose</c>, <see cref="TurnSearch.Candidates"/>: learning rate
    /// ×2 and ÷2, the pairs-of-context cross added or removed, and one exploration change.</value>
    /// </summary>
    public Func<LoopConfig, IReadOnlyList<CandidateSettings>> CandidateSearch { get; set; } = config => LoopKinds.For(config).Candidates(config);

    internal void Validate()
    {
        if (StoreFactory is null)
        {
            throw new InvalidOperationException("FlywheelOptions.StoreFactory is not set: choose a store, e.g. options.UseSqlite(\"./flywheel-data\").");
        }
        ArgumentNullException.ThrowIfNull(Limits, nameof(Limits));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxQueuedWrites, 1, nameof(MaxQueuedWrites));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxCallsPerCommit, 1, nameof(MaxCallsPerCommit));
        ArgumentOutOfRangeException.ThrowIfLessThan(SnapshotEveryExamples, 1, nameof(SnapshotEveryExamples));
        if (SnapshotInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(SnapshotInterval), SnapshotInterval, "must be positive");
        }
        if (PublishInterval < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(PublishInterval), PublishInterval, "must not be negative");
        }
        ArgumentNullException.ThrowIfNull(CandidateSearch, nameof(CandidateSearch));
        if (TurnCheckInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(TurnCheckInterval), TurnCheckInterval, "must be positive");
        }
        if (JoinInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(JoinInterval), JoinInterval, "must be positive");
        }
    }
}

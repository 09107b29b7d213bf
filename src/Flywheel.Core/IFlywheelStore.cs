namespace Flywheel.Core;

/// <summary>Events and derived records written together in one durable transaction.</summary>
public sealed class StoreBatch
{
    /// <summary>New decisions.</summary>
    public List<DecisionRecord> Decisions { get; } = [];

    /// <summary>New signals.</summary>
    public List<SignalRecord> Signals { get; } = [];

    /// <summary>Rewards of windows that closed.</summary>
    public List<RewardRecord> Rewards { get; } = [];

    /// <summary>Outputs of generation loops' decisions.</summary>
    public List<OutputRecord> Outputs { get; } = [];

    /// <summary>True when there is nothing to write.</summary>
    public bool IsEmpty => Decisions.Count == 0 && Signals.Count == 0 && Rewards.Count == 0 && Outputs.Count == 0;

    /// <summary>Empties the batch for reuse.</summary>
    public void Clear()
    {
        Decisions.Clear();
        Signals.Clear();
        Rewards.Clear();
        Outputs.Clear();
    }
}

/// <summary>
/// Where Flywheel keeps its event log (decisions, signals), the derived rewards, loop configs and learner snapshots.
/// The engine owns ordering and group commit; a store only has to make each <see cref="CommitAsync"/> one atomic,
/// durable transaction. Implementations must be safe for one writer and concurrent readers.
/// </summary>
public interface IFlywheelStore : IAsyncDisposable
{
    /// <summary>What the store says about itself for operators' logs: where the data lives and what an acknowledgement promises.</summary>
    string Description => GetType().Name;

    /// <summary>Creates or migrates the schema.</summary>
    ValueTask InitializeAsync(CancellationToken cancellationToken = default);

    /// <summary>Creates or replaces a loop config.</summary>
    ValueTask SaveLoopAsync(LoopConfig config, CancellationToken cancellationToken = default);

    /// <summary>All loop configs, ordered by id.</summary>
    ValueTask<IReadOnlyList<LoopConfig>> LoadLoopsAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes the batch in one transaction; returns once it is durable. When the disk cannot take it (full, read-only,
    /// failing) it throws <see cref="FlywheelStoreWriteException"/> with nothing of the batch written, as every write
    /// of a store does for those faults.
    /// </summary>
    ValueTask CommitAsync(StoreBatch batch, CancellationToken cancellationToken = default);

    /// <summary>One decision, or null.</summary>
    ValueTask<DecisionRecord?> GetDecisionAsync(string loop, string decisionId, CancellationToken cancellationToken = default);

    /// <summary>Which of <paramref name="decisionIds"/> exist in the loop.</summary>
    ValueTask<IReadOnlySet<string>> FindDecisionsAsync(string loop, IReadOnlyCollection<string> decisionIds, CancellationToken cancellationToken = default);

    /// <summary>Which of <paramref name="signalIds"/> exist in the loop.</summary>
    ValueTask<IReadOnlySet<string>> FindSignalsAsync(string loop, IReadOnlyCollection<string> signalIds, CancellationToken cancellationToken = default);

    /// <summary>
    /// The stored signals among <paramref name="signalIds"/>, in no particular order: what a reused signal id is
    /// compared with, to tell a retry from a conflict.
    /// </summary>
    ValueTask<IReadOnlyList<SignalRecord>> FindSignalRecordsAsync(string loop, IReadOnlyCollection<string> signalIds, CancellationToken cancellationToken = default);

    /// <summary>A decision's signals in arrival order.</summary>
    ValueTask<IReadOnlyList<SignalRecord>> GetSignalsAsync(string loop, string decisionId, CancellationToken cancellationToken = default);

    /// <summary>A decision's reward, or null while its window is open.</summary>
    ValueTask<RewardRecord?> GetRewardAsync(string loop, string decisionId, CancellationToken cancellationToken = default);

    /// <summary>Decisions without a reward, oldest first, with their non-late signals in arrival order.</summary>
    IAsyncEnumerable<(DecisionRecord Decision, IReadOnlyList<SignalRecord> Signals)> ReadOpenDecisionsAsync(string loop, CancellationToken cancellationToken = default);

    /// <summary>Rewards with a sequence above <paramref name="afterSequence"/>, in sequence order, with their decisions.</summary>
    IAsyncEnumerable<(DecisionRecord Decision, RewardRecord Reward)> ReadRewardsAsync(string loop, long afterSequence, CancellationToken cancellationToken = default);

    /// <summary>The highest reward sequence of the loop (0 when none).</summary>
    ValueTask<long> GetLastRewardSequenceAsync(string loop, CancellationToken cancellationToken = default);

    /// <summary>Stores the loop's latest learner snapshot, replacing the previous one.</summary>
    ValueTask SaveSnapshotAsync(ModelSnapshotRecord snapshot, CancellationToken cancellationToken = default);

    /// <summary>The loop's latest learner snapshot, or null.</summary>
    ValueTask<ModelSnapshotRecord?> LoadSnapshotAsync(string loop, CancellationToken cancellationToken = default);

    /// <summary>Counts of the loop's log.</summary>
    ValueTask<LoopCounts> CountAsync(string loop, CancellationToken cancellationToken = default);

    /// <summary>Creates or replaces a registered model's record (its weights are kept).</summary>
    ValueTask SaveModelAsync(ModelRecord model, CancellationToken cancellationToken = default);

    /// <summary>Stores a registered model's weights (a model snapshot), or drops them when <paramref name="data"/> is null.</summary>
    ValueTask SaveModelDataAsync(string loop, int version, byte[]? data, CancellationToken cancellationToken = default);

    /// <summary>A registered model's weights, or null.</summary>
    ValueTask<byte[]?> LoadModelDataAsync(string loop, int version, CancellationToken cancellationToken = default);

    /// <summary>The loop's registered models, by version.</summary>
    ValueTask<IReadOnlyList<ModelRecord>> LoadModelsAsync(string loop, CancellationToken cancellationToken = default);

    /// <summary>Creates or replaces a turn ledger entry.</summary>
    ValueTask SaveTurnAsync(TurnRecord turn, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes a registry change (model records and weights, ledger entries, the loop config and the serving snapshot) in
    /// one atomic, durable transaction: after a crash either all of it is stored or none of it. Throws, writing nothing,
    /// when a weight update names a model that is neither stored nor part of the change.
    /// </summary>
    ValueTask CommitRegistryAsync(RegistryChange change, CancellationToken cancellationToken = default);

    /// <summary>The loop's ledger, by number.</summary>
    ValueTask<IReadOnlyList<TurnRecord>> LoadTurnsAsync(string loop, CancellationToken cancellationToken = default);

    /// <summary>Every decision of the loop in time order (ties by decision id) with how its reward window closed (what the health report reads).</summary>
    IAsyncEnumerable<DecisionOutcome> ReadOutcomesAsync(string loop, CancellationToken cancellationToken = default);

    /// <summary>A decision's stored output, or null.</summary>
    ValueTask<OutputRecord?> GetOutputAsync(string loop, string decisionId, CancellationToken cancellationToken = default);

    /// <summary>
    /// The decisions made in [<paramref name="from"/>, <paramref name="to"/>) that have an output or a signal of a
    /// generation type, in time order (ties by decision id); with <paramref name="withText"/> false, neither outputs
    /// nor edited texts are read (what the health report needs).
    /// </summary>
    IAsyncEnumerable<GenerationRecord> ReadGenerationsAsync(string loop, DateTimeOffset from, DateTimeOffset to, bool withText, CancellationToken cancellationToken = default);

    /// <summary>The loop's user-level signals (no decision id, a user id), in arrival order.</summary>
    IAsyncEnumerable<UserVisit> ReadUserVisitsAsync(string loop, CancellationToken cancellationToken = default);

    /// <summary>
    /// The contexts of up to <paramref name="count"/> decisions made in [<paramref name="from"/>, <paramref name="to"/>),
    /// spread evenly over them in time order: the samples feature drift compares.
    /// </summary>
    ValueTask<IReadOnlyList<Features>> ReadContextsAsync(string loop, DateTimeOffset from, DateTimeOffset to, int count, CancellationToken cancellationToken = default);

    /// <summary>For rewards with a sequence in (<paramref name="afterSequence"/>, <paramref name="throughSequence"/>], when their first in-window signal arrived, by sequence.</summary>
    ValueTask<IReadOnlyList<RewardArrival>> ReadRewardArrivalsAsync(string loop, long afterSequence, long throughSequence, CancellationToken cancellationToken = default);

    /// <summary>The newest <paramref name="count"/> ledger entries, by number (what a scheduler checks without reading years of ledger).</summary>
    ValueTask<IReadOnlyList<TurnRecord>> LoadLatestTurnsAsync(string loop, int count, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes the user's decisions with their signals and rewards, and every signal naming the user, in every loop,
    /// so that no later read or export holds them, and appends an audit entry with the counts, in one transaction.
    /// </summary>
    ValueTask<ErasureRecord> EraseUserAsync(string userId, DateTimeOffset at, CancellationToken cancellationToken = default);

    /// <summary>The erasure audit trail, oldest first.</summary>
    ValueTask<IReadOnlyList<ErasureRecord>> LoadErasuresAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Proves the store can take a write now, with the smallest write that goes where commits go and changes nothing;
    /// throws <see cref="FlywheelStoreWriteException"/> when it cannot. The engine calls it only while its writes are
    /// failing, to see whether the operator has fixed the disk. A store that cannot check cheaply keeps this default,
    /// which reports writable and lets the next write tell.
    /// </summary>
    ValueTask CheckWritableAsync(CancellationToken cancellationToken = default) => ValueTask.CompletedTask;
}

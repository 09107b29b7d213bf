namespace Flywheel.Core;

/// <summary>
/// The loop at work: the in-process API that the HTTP server, the simulator and tests share. Thread-safe.
/// Every method that returns after accepting events returns only once they are durable.
/// </summary>
public interface IFlywheelEngine : IAsyncDisposable
{
    /// <summary>Creates or updates a loop. Changing the learner's settings starts a fresh model version.</summary>
    ValueTask<LoopConfig> PutLoopAsync(LoopConfig config, CancellationToken cancellationToken = default);

    /// <summary>A loop's config, or null.</summary>
    ValueTask<LoopConfig?> GetLoopAsync(string loop, CancellationToken cancellationToken = default);

    /// <summary>Every loop, ordered by id.</summary>
    ValueTask<IReadOnlyList<LoopConfig>> ListLoopsAsync(CancellationToken cancellationToken = default);

    /// <summary>Scores the actions with the current model, explores, logs the decision durably and returns it.</summary>
    ValueTask<Decision> DecideAsync(string loop, DecideRequest request, CancellationToken cancellationToken = default);

    /// <summary>Records a batch of signals durably; idempotent on signal ids.</summary>
    ValueTask<SignalBatchResult> RecordSignalsAsync(string loop, IReadOnlyList<SignalInput> signals, CancellationToken cancellationToken = default);

    /// <summary>One decision with its signals and reward, or null.</summary>
    ValueTask<DecisionAudit?> GetDecisionAsync(string loop, string decisionId, CancellationToken cancellationToken = default);

    /// <summary>Counts of what the loop's log holds.</summary>
    ValueTask<LoopCounts> GetCountsAsync(string loop, CancellationToken cancellationToken = default);

    /// <summary>
    /// Waits until every event accepted before the call has been joined (windows due by the current time closed)
    /// and learned from, and the serving model reflects it. Simulations on a fake clock call it after advancing time.
    /// </summary>
    ValueTask FlushAsync(CancellationToken cancellationToken = default);
}

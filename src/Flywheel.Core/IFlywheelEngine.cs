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

    /// <summary>
    /// Scores the actions with the current model, explores, logs the decision durably and returns it. An identical
    /// retry of a decision id gets the stored answer; the id with another request is a <see cref="ValidationKind.Conflict"/>.
    /// </summary>
    ValueTask<Decision> DecideAsync(string loop, DecideRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Records a batch of signals durably; idempotent on signal ids. A signal id reused for another signal refuses the
    /// whole batch as a <see cref="ValidationKind.Conflict"/> naming the item.
    /// </summary>
    ValueTask<SignalBatchResult> RecordSignalsAsync(string loop, IReadOnlyList<SignalInput> signals, CancellationToken cancellationToken = default);

    /// <summary>One decision with its signals and reward, or null.</summary>
    ValueTask<DecisionAudit?> GetDecisionAsync(string loop, string decisionId, CancellationToken cancellationToken = default);

    /// <summary>Counts of what the loop's log holds.</summary>
    ValueTask<LoopCounts> GetCountsAsync(string loop, CancellationToken cancellationToken = default);

    /// <summary>
    /// Waits until every event accepted before the call has been joined (windows due by the current time closed)
    /// and learned from, and the serving model reflects it. Simulations on a fake clock call it after advancing time;
    /// the interval between model publications counts from the flush.
    /// </summary>
    ValueTask FlushAsync(CancellationToken cancellationToken = default);

    /// <summary>The loop's registered models, oldest first.</summary>
    ValueTask<IReadOnlyList<ModelRecord>> ListModelsAsync(string loop, CancellationToken cancellationToken = default);

    /// <summary>Makes a registered model with stored weights the champion, at once; recorded in the ledger.</summary>
    ValueTask<TurnRecord> PromoteAsync(string loop, int version, string? reason = null, CancellationToken cancellationToken = default);

    /// <summary>Puts the champion's predecessor back; recorded in the ledger.</summary>
    ValueTask<TurnRecord> RollbackAsync(string loop, string? reason = null, CancellationToken cancellationToken = default);

    /// <summary>Runs a turn now: train candidates, evaluate them off-policy, promote under the loop's policy.</summary>
    ValueTask<TurnRecord> RunTurnAsync(string loop, CancellationToken cancellationToken = default);

    /// <summary>The turn ledger, oldest first.</summary>
    ValueTask<IReadOnlyList<TurnRecord>> ListTurnsAsync(string loop, CancellationToken cancellationToken = default);

    /// <summary>Rewarded decisions in a time range, in learning order, in the logged-decision format.</summary>
    IAsyncEnumerable<LoggedDecision> ExportAsync(string loop, ExportRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores what a decision of a generation loop produced (docs/generation.md): acknowledged once durable. The same
    /// output again is a duplicate; another output for the same decision is a conflict.
    /// </summary>
    ValueTask<OutputResult> RecordOutputAsync(string loop, string decisionId, OutputInput output, CancellationToken cancellationToken = default);

    /// <summary>
    /// A generation loop's outputs and users' edits as fine-tuning data (sft), preference pairs (dpo) or unpaired
    /// judgements (kto), in decision order, streamed; user ids are never part of it.
    /// </summary>
    IAsyncEnumerable<TrainingExample> ExportTrainingAsync(string loop, TrainingExportRequest request, CancellationToken cancellationToken = default);

    /// <summary>Off-policy estimates of named policies over a time range.</summary>
    ValueTask<EvaluationReport> EvaluateAsync(string loop, EvaluateRequest request, CancellationToken cancellationToken = default);

    /// <summary>Makes a registered model with stored weights a shadow: it scores every decision without being served.</summary>
    ValueTask<ModelRecord> ShadowAsync(string loop, int version, CancellationToken cancellationToken = default);

    /// <summary>Retires a shadow or a candidate.</summary>
    ValueTask<ModelRecord> RetireAsync(string loop, int version, string? reason = null, CancellationToken cancellationToken = default);

    /// <summary>A shadow's agreement with what was served, its live IPS/SNIPS value and its mismatch count.</summary>
    ValueTask<ShadowReport> GetShadowReportAsync(string loop, int version, CancellationToken cancellationToken = default);

    /// <summary>
    /// The loop's health: capture, fuel, pipe, latency, learning curve, felt lift, staleness and return, each with its
    /// definition, window and sample size, and the verdict they add up to (docs/health.md).
    /// </summary>
    ValueTask<HealthReport> GetHealthAsync(string loop, CancellationToken cancellationToken = default);

    /// <summary>
    /// A <c>rank</c> loop's position bias: each slot's examination probability relative to slot 1, measured from the
    /// loop's shuffled decisions, with 95% intervals (docs/loop-config.md, "Rankings").
    /// </summary>
    ValueTask<PositionBiasReport> GetPositionBiasAsync(string loop, CancellationToken cancellationToken = default);

    /// <summary>
    /// A learner of an <c>ability</c> loop: ability with its 95% interval, answers, success rate, streak and reviews due
    /// (docs/ability.md). A learner without answers is <see cref="ValidationKind.NotFound"/>.
    /// </summary>
    ValueTask<LearnerReport> GetLearnerAsync(string loop, string userId, CancellationToken cancellationToken = default);

    /// <summary>An item of an <c>ability</c> loop: difficulty with its 95% interval and answers. An item nobody answered is <see cref="ValidationKind.NotFound"/>.</summary>
    ValueTask<ItemReport> GetItemAsync(string loop, string actionId, CancellationToken cancellationToken = default);

    /// <summary>
    /// The items a learner of an <c>ability</c> loop should review by <paramref name="due"/> (now when null), least
    /// remembered first, with their predicted recall then.
    /// </summary>
    ValueTask<ReviewList> GetReviewsAsync(string loop, string userId, DateTimeOffset? due = null, CancellationToken cancellationToken = default);

    /// <summary>The latest mismatches of one shadow (or of all when <paramref name="version"/> is null), oldest first.</summary>
    ValueTask<IReadOnlyList<Mismatch>> ListMismatchesAsync(string loop, int? version = null, int limit = 100, CancellationToken cancellationToken = default);

    /// <summary>
    /// Erases everything stored about a user in every loop: their decisions (with rewards and shadow choices), the
    /// signals of those decisions and every signal naming them, and their open reward windows. An audit entry records
    /// when and how much, not who. Models already trained keep what they learned, as aggregate weights.
    /// </summary>
    ValueTask<ErasureResult> EraseUserAsync(string userId, CancellationToken cancellationToken = default);

    /// <summary>The erasure audit trail, oldest first.</summary>
    ValueTask<IReadOnlyList<ErasureRecord>> ListErasuresAsync(CancellationToken cancellationToken = default);
}

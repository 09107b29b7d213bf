using System.Threading.Channels;
using Flywheel.Core;
using Microsoft.Extensions.Logging;

namespace Flywheel.Engine;

/// <summary>
/// Ingest (docs/architecture.md, capture): one writer orders every decision and signal, joins signals to decisions through the
/// <see cref="Joiner"/>, commits them in groups and answers each call once its group is durable, then hands the closed
/// rewards to the <see cref="LearnerHost"/>. Callers wait only for the commit of their own record. A commit that
/// fails answers every call of its group with the error, none acknowledged, and the next group tries again: a disk
/// that was full or read-only takes writes again, without a restart, once the operator has fixed it.
/// </summary>
internal sealed partial class IngestWriter(FlywheelOptions options, TimeProvider time, IFlywheelStore store, LoopTable loops, LearnerHost learner, ILogger logger, FlywheelMetrics metrics, StoreWriteHealth health)
{
    private readonly Channel<WriteRequest> _writes = Channel.CreateBounded<WriteRequest>(new BoundedChannelOptions(options.MaxQueuedWrites)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });
    private readonly IngestTally _tally = new();
    private Task _writer = Task.CompletedTask;
    private ITimer? _joinTimer;
    private int _tickQueued;
    private bool _committed; // the current group's transaction is durable (both fields: the writer task's own)
    private bool _diskFault; // the current group failed for the disk
    private int _stopped;

    /// <summary>Calls waiting for a group commit (the queue-depth gauge).</summary>
    public int QueueDepth => _writes.Reader.Count;

    /// <summary>Starts the writer and the timer that closes due windows when no traffic arrives.</summary>
    public void Start()
    {
        _writer = Task.Run(RunAsync, CancellationToken.None);
        _joinTimer = time.CreateTimer(_ => PostTick(), null, options.JoinInterval, options.JoinInterval);
    }

    /// <summary>Stops taking calls and commits the queued ones.</summary>
    public async Task StopAsync()
    {
        Volatile.Write(ref _stopped, 1);
        if (_joinTimer is not null)
        {
            await _joinTimer.DisposeAsync().ConfigureAwait(false);
        }
        _writes.Writer.TryComplete();
        await _writer.ConfigureAwait(false);
        // Only when the writer never ran (start-up failed): answer what was queued rather than leave callers waiting.
        var left = new List<WriteRequest>();
        while (_writes.Reader.TryRead(out var call))
        {
            left.Add(call);
        }
        Fail(left, new ObjectDisposedException(nameof(FlywheelEngine)));
    }

    /// <summary>Queues a call for the next group commit; refuses it as overloaded when the queue is full.</summary>
    public ValueTask EnqueueAsync(WriteRequest request, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _stopped) != 0, typeof(FlywheelEngine));
        if (_writes.Writer.TryWrite(request))
        {
            return ValueTask.CompletedTask;
        }
        if (request is FlushWrite)
        {
            return _writes.Writer.WriteAsync(request, cancellationToken);
        }
        throw new FlywheelOverloadedException(TimeSpan.FromSeconds(1));
    }

    /// <summary>Completes once everything queued before it is committed, joined and learned.</summary>
    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        var flush = new FlushWrite();
        await EnqueueAsync(flush, cancellationToken).ConfigureAwait(false);
        await flush.Done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private void PostTick()
    {
        if (Interlocked.Exchange(ref _tickQueued, 1) == 0 && !_writes.Writer.TryWrite(new TickWrite()))
        {
            Volatile.Write(ref _tickQueued, 0);
        }
    }

    /// <summary>Validates a batch of signals, then waits for the group commit that makes it durable.</summary>
    public async ValueTask<SignalBatchResult> RecordSignalsAsync(LoopRuntime runtime, IReadOnlyList<SignalInput> signals, CancellationToken cancellationToken)
    {
        var limits = options.Limits;
        if (signals is null || signals.Count == 0)
        {
            throw new FlywheelValidationException("signals", "must hold at least one signal");
        }
        if (signals.Count > limits.MaxSignalsPerBatch)
        {
            throw new FlywheelValidationException("signals", $"holds {signals.Count} signals; the limit is {limits.MaxSignalsPerBatch}") { Kind = ValidationKind.TooLarge };
        }
        var config = runtime.Config;
        var ids = new string[signals.Count];
        var now = time.GetUtcNow();
        for (var i = 0; i < signals.Count; i++)
        {
            var s = signals[i] ?? throw new FlywheelValidationException($"signals[{i}]", "must be a signal object");
            // Paths are built only for the error message: valid batches cost no string work.
            if (!limits.IsValidString(s.Type))
            {
                limits.CheckString($"signals[{i}].type", s.Type);
            }
            if (!config.Signals.ContainsKey(s.Type))
            {
                throw new FlywheelValidationException($"signals[{i}].type", $"'{s.Type}' is not a signal type of loop '{runtime.Id}' (declared: {string.Join(", ", config.Signals.Keys)})");
            }
            CheckOptional(limits, s.SignalId, i, "signalId");
            CheckOptional(limits, s.DecisionId, i, "decisionId");
            CheckOptional(limits, s.UserId, i, "userId");
            CheckOptional(limits, s.ActionId, i, "actionId");
            if (s.DecisionId is null && s.UserId is null)
            {
                throw new FlywheelValidationException($"signals[{i}].decisionId", "a signal needs a decisionId, or a userId for user-level signals");
            }
            CheckActionId(runtime, s, i);
            if (s.Value is { } v && !double.IsFinite(v))
            {
                throw new FlywheelValidationException($"signals[{i}].value", "must be a finite number");
            }
            if (config.Kind == LoopKind.Ability && s.Type == AbilityConfig.CorrectSignal)
            {
                CheckAnswer(runtime, s, i);
            }
            ids[i] = s.SignalId ?? Guid.CreateVersion7(now).ToString("N");
        }
        signals = await MeasureEditsAsync(runtime, signals, cancellationToken).ConfigureAwait(false);
        var write = new SignalsWrite(runtime, signals, ids);
        await EnqueueAsync(write, cancellationToken).ConfigureAwait(false);
        return await write.Done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private static void Fail(IEnumerable<WriteRequest> calls, Exception ex)
    {
        foreach (var call in calls)
        {
            switch (call)
            {
                case DecideWrite d: d.Done.TrySetException(ex); break;
                case SignalsWrite s: s.Done.TrySetException(ex); break;
                case FlushWrite f: f.Done.TrySetException(ex); break;
                case EraseWrite e: e.Done.TrySetException(ex); break;
                case OutputWrite o: o.Done.TrySetException(ex); break;
            }
        }
    }

    private static void CheckOptional(FlywheelLimits limits, string? value, int index, string name)
    {
        if (value is not null && !limits.IsValidId(value))
        {
            limits.CheckId($"signals[{index}].{name}", value);
        }
    }

    private async Task RunAsync()
    {
        var reader = _writes.Reader;
        var calls = new List<WriteRequest>();
        var batch = new StoreBatch();
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            calls.Clear();
            while (calls.Count < options.MaxCallsPerCommit && reader.TryRead(out var request))
            {
                calls.Add(request);
            }
            Volatile.Write(ref _tickQueued, 0);
            if (!await TryCommitAsync(calls, batch).ConfigureAwait(false) && calls.Count > 1 && !_committed && !_diskFault)
            {
                // Nothing of the group was written, and the failure was not the disk's: one bad call must not fail the
                // callers it happened to share a commit with, so each goes again on its own.
                foreach (var call in calls.ToList())
                {
                    calls.Clear();
                    calls.Add(call);
                    await TryCommitAsync(calls, batch).ConfigureAwait(false);
                }
            }
        }
    }

    /// <summary>
    /// Commits a group. On failure answers every call of it with the error, except when a group of several failed before
    /// anything was written and not for the disk: then the caller retries the calls one by one.
    /// </summary>
    private async Task<bool> TryCommitAsync(List<WriteRequest> calls, StoreBatch batch)
    {
        _diskFault = false;
        try
        {
            await CommitGroupAsync(calls, batch).ConfigureAwait(false);
            await EraseQueuedAsync(calls).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex)
        {
            if (ex is FlywheelStoreWriteException fault)
            {
                // The disk, not a bug: logged once when the store starts failing, not once per group.
                _diskFault = true;
                health.Failed(fault);
                LogCommitRefused(fault.Reason, calls.Count);
            }
            else
            {
                LogCommitFailed(ex, calls.Count);
            }
            if (calls.Count == 1 || _committed || _diskFault)
            {
                Fail(calls, ex);
            }
            await ReloadOpenWindowsAsync().ConfigureAwait(false);
            return false;
        }
    }

    /// <summary>
    /// One group commit: close due windows, apply every call in arrival order (idempotency, joining, late and orphaned
    /// signals), write it all in one transaction, then answer the calls and hand the closed rewards to the learner.
    /// </summary>
    private async Task CommitGroupAsync(List<WriteRequest> calls, StoreBatch batch)
    {
        _committed = false;
        batch.Clear();
        _tally.Clear();
        var now = time.GetUtcNow();
        var closed = new List<ClosedReward>();
        foreach (var loop in loops.All())
        {
            Joiner.CloseDue(loop, now, batch, closed);
        }

        // Look up, in one query per loop and kind, the ids this group needs to know about.
        var decisionQueries = new Dictionary<LoopRuntime, HashSet<string>>();
        var signalQueries = new Dictionary<LoopRuntime, HashSet<string>>();
        foreach (var call in calls)
        {
            if (call is DecideWrite { ClientChoseId: true } d && !d.Loop.Windows.Pending.ContainsKey(d.Record.DecisionId))
            {
                Bucket(decisionQueries, d.Loop).Add(d.Record.DecisionId);
            }
            else if (call is OutputWrite o && !o.Loop.Windows.Pending.ContainsKey(o.Record.DecisionId))
            {
                Bucket(decisionQueries, o.Loop).Add(o.Record.DecisionId);
            }
            else if (call is SignalsWrite s)
            {
                for (var i = 0; i < s.Signals.Count; i++)
                {
                    if (s.Signals[i].SignalId is not null)
                    {
                        Bucket(signalQueries, s.Loop).Add(s.SignalIds[i]);
                    }
                    if (s.Signals[i].DecisionId is { } did && !s.Loop.Windows.Pending.ContainsKey(did))
                    {
                        Bucket(decisionQueries, s.Loop).Add(did);
                    }
                }
            }
        }
        var knownDecisions = new Dictionary<LoopRuntime, IReadOnlySet<string>>();
        foreach (var (loop, ids) in decisionQueries)
        {
            knownDecisions[loop] = await store.FindDecisionsAsync(loop.Id, ids).ConfigureAwait(false);
        }
        // A signal naming an action on a rank decision whose window has closed is checked against its stored ranking.
        var rankings = new Dictionary<(LoopRuntime, string), IReadOnlyList<RankedAction>>();
        foreach (var call in calls)
        {
            if (call is not SignalsWrite { Loop.Config.Kind: LoopKind.Rank } s)
            {
                continue;
            }
            foreach (var input in s.Signals)
            {
                if (input is { ActionId: not null, DecisionId: { } did } && !s.Loop.Windows.Pending.ContainsKey(did)
                    && Contains(knownDecisions, s.Loop, did) && !rankings.ContainsKey((s.Loop, did))
                    && await store.GetDecisionAsync(s.Loop.Id, did).ConfigureAwait(false) is { } stored)
                {
                    rankings[(s.Loop, did)] = stored.Ranking;
                }
            }
        }
        // Stored signals come back whole: a retry must be compared with what was stored (Retries).
        var knownSignals = new Dictionary<(LoopRuntime, string), SignalRecord>();
        foreach (var (loop, ids) in signalQueries)
        {
            foreach (var stored in await store.FindSignalRecordsAsync(loop.Id, ids).ConfigureAwait(false))
            {
                knownSignals[(loop, stored.SignalId)] = stored;
            }
        }

        var newDecisions = new HashSet<(LoopRuntime, string)>();
        var newSignals = new Dictionary<(LoopRuntime, string), SignalRecord>();
        var closedNow = new HashSet<(LoopRuntime, string)>();
        var completions = new List<Action>(calls.Count);
        var duplicateDecisions = new List<DecideWrite>();
        var newOutputs = new Dictionary<(LoopRuntime, string), OutputRecord>();
        var flushes = new List<FlushWrite>();
        foreach (var call in calls)
        {
            switch (call)
            {
                case DecideWrite d:
                {
                    var id = d.Record.DecisionId;
                    if (d.Loop.Windows.Pending.TryGetValue(id, out var existing))
                    {
                        // A retry of a decision whose window is open: the same request gets the stored answer, another a 409.
                        if (Retries.DecisionDifference(existing.Restore(), d.Record) is { } difference)
                        {
                            var conflict = Retries.DecisionConflict(id, difference);
                            completions.Add(() => d.Done.TrySetException(conflict));
                        }
                        else
                        {
                            var answer = existing.Record.ToDecision();
                            completions.Add(() => d.Done.TrySetResult(answer));
                        }
                    }
                    else if (newDecisions.Contains((d.Loop, id)) || closedNow.Contains((d.Loop, id)) || Contains(knownDecisions, d.Loop, id))
                    {
                        duplicateDecisions.Add(d);
                    }
                    else
                    {
                        batch.Decisions.Add(d.Record);
                        newDecisions.Add((d.Loop, id));
                        Joiner.Open(d.Loop, d.Record, d.Payload);
                        var answer = d.Record.ToDecision();
                        completions.Add(() => d.Done.TrySetResult(answer));
                    }
                    break;
                }
                case SignalsWrite s:
                {
                    // A batch with a reused signal id of another signal, or naming an action its ranking did not
                    // serve, is refused whole, before any of it is applied.
                    if ((FindSignalConflict(s, now, newSignals, knownSignals) ?? FindUnservedAction(s, rankings)) is { } conflict)
                    {
                        completions.Add(() => s.Done.TrySetException(conflict));
                        break;
                    }
                    int accepted = 0, duplicates = 0, orphaned = 0, late = 0;
                    var config = s.Loop.Config;
                    for (var i = 0; i < s.Signals.Count; i++)
                    {
                        var input = s.Signals[i];
                        var signalId = s.SignalIds[i];
                        if (newSignals.ContainsKey((s.Loop, signalId)) || knownSignals.ContainsKey((s.Loop, signalId)))
                        {
                            duplicates++;
                            _tally.Duplicate(s.Loop.Id);
                            continue;
                        }
                        accepted++;
                        bool isLate = false, isOrphan = false;
                        if (input.DecisionId is { } did)
                        {
                            if (s.Loop.Windows.Pending.TryGetValue(did, out var pending))
                            {
                                pending.Signals.Add(new PendingSignal(input.Type, input.Value ?? 1.0, input.ActionId));
                                if (config.Signals.TryGetValue(input.Type, out var type) && type.ClosesWindow)
                                {
                                    Joiner.Close(s.Loop, pending, now, WindowClose.Signal, batch, closed);
                                    closedNow.Add((s.Loop, did));
                                    rankings[(s.Loop, did)] = pending.Record.Ranking;
                                }
                            }
                            else if (closedNow.Contains((s.Loop, did)) || Contains(knownDecisions, s.Loop, did))
                            {
                                isLate = true;
                                late++;
                            }
                            else
                            {
                                isOrphan = true;
                                orphaned++;
                            }
                        }
                        _tally.Accepted(s.Loop.Id, input.Type, config.Signals.TryGetValue(input.Type, out var declared) ? declared.Kind : SignalKind.Implicit,
                            isLate ? SignalOutcome.Late : isOrphan ? SignalOutcome.Orphaned : null);
                        var record = ToRecord(s.Loop, signalId, input, now) with { Late = isLate, Orphaned = isOrphan };
                        if (isOrphan && record.Text is not null)
                        {
                            // A user's text about no known decision (an erased one, or one never made) could never be
                            // erased with its user: keep the signal, not the text.
                            record = record with { Text = null };
                        }
                        batch.Signals.Add(record);
                        newSignals.Add((s.Loop, signalId), record);
                    }
                    var result = new SignalBatchResult(accepted, duplicates, orphaned, late);
                    completions.Add(() => s.Done.TrySetResult(result));
                    break;
                }
                case OutputWrite o:
                    await ApplyOutputAsync(o, batch, newOutputs, knownDecisions, newDecisions, completions).ConfigureAwait(false);
                    break;
                case FlushWrite f:
                    flushes.Add(f);
                    break;
            }
        }

        if (!batch.IsEmpty)
        {
            await store.CommitAsync(batch).ConfigureAwait(false);
            health.Succeeded();
        }
        _committed = true;
        // Counted before any call is answered: whoever saw an acknowledgement sees it in the metrics.
        _tally.Count(metrics, batch);
        foreach (var complete in completions)
        {
            complete();
        }
        foreach (var d in duplicateDecisions)
        {
            // A retry of a decision committed earlier (or earlier in this group): answer with what was stored, never a
            // new draw; a different request under the same id is a conflict, and nothing of it was written.
            var stored = d.Loop.Windows.Pending.TryGetValue(d.Record.DecisionId, out var p)
                ? p.Restore()
                : await store.GetDecisionAsync(d.Loop.Id, d.Record.DecisionId).ConfigureAwait(false);
            if (stored is null)
            {
                d.Done.TrySetException(new InvalidOperationException($"decision '{d.Record.DecisionId}' vanished"));
            }
            else if (Retries.DecisionDifference(stored, d.Record) is { } difference)
            {
                d.Done.TrySetException(Retries.DecisionConflict(d.Record.DecisionId, difference));
            }
            else
            {
                d.Done.TrySetResult(stored.ToDecision());
            }
        }
        if (closed.Count > 0)
        {
            await learner.PostAsync(new LearnBatch(closed)).ConfigureAwait(false);
        }
        foreach (var f in flushes)
        {
            await learner.PostAsync(new LearnFlush(f.Done)).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The 409 for the first signal of <paramref name="s"/> whose client-chosen id is already taken by a different
    /// signal (stored, committed earlier in this group, or earlier in the same batch), or null when there is none.
    /// </summary>
    /// <summary>
    /// On a rank loop a signal on a decision names the served action it concerns; elsewhere it names none (a choose
    /// decision's signals are about the one action served).
    /// </summary>
    private static void CheckActionId(LoopRuntime runtime, SignalInput s, int i)
    {
        if (s.DecisionId is null)
        {
            if (s.ActionId is not null)
            {
                throw new FlywheelValidationException($"signals[{i}].actionId", "names an action, but the signal names no decision: a user-level signal concerns no served action");
            }
            return;
        }
        if (runtime.Config.Kind == LoopKind.Rank && s.ActionId is null)
        {
            throw new FlywheelValidationException($"signals[{i}].actionId", $"is required: loop '{runtime.Id}' ranks, and a signal on its decisions names the served action it concerns (the result clicked, dwelled on, bounced from)");
        }
        if (runtime.Config.Kind != LoopKind.Rank && s.ActionId is not null)
        {
            throw new FlywheelValidationException($"signals[{i}].actionId", $"is only for loops of kind 'rank'; loop '{runtime.Id}' is '{LoopConfigJson.Name(runtime.Config.Kind)}' and its signals concern the one action it served");
        }
    }

    /// <summary>An ability loop's answer is right (1, the default) or wrong (0), about one decision: the exercise served.</summary>
    private static void CheckAnswer(LoopRuntime runtime, SignalInput s, int i)
    {
        if (s.DecisionId is null)
        {
            throw new FlywheelValidationException($"signals[{i}].decisionId", $"is required for '{AbilityConfig.CorrectSignal}': an answer on loop '{runtime.Id}' is to the exercise a decision served");
        }
        if (s.Value is { } value && value is not (0 or 1))
        {
            throw new FlywheelValidationException($"signals[{i}].value", $"must be 1 (right) or 0 (wrong) for '{AbilityConfig.CorrectSignal}' on loop '{runtime.Id}'; got {value.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        }
    }

    /// <summary>
    /// The first signal of <paramref name="s"/> naming an action its decision's ranking did not serve: the open window's,
    /// or one closed in this group or before (<paramref name="closed"/>). A signal on an unknown decision is orphaned, not checked.
    /// </summary>
    private static FlywheelValidationException? FindUnservedAction(SignalsWrite s, Dictionary<(LoopRuntime, string), IReadOnlyList<RankedAction>> closed)
    {
        for (var i = 0; i < s.Signals.Count; i++)
        {
            var input = s.Signals[i];
            if (input.ActionId is not { } action || input.DecisionId is not { } did)
            {
                continue;
            }
            IReadOnlyList<RankedAction>? ranking = s.Loop.Windows.Pending.TryGetValue(did, out var pending) ? pending.Record.Ranking
                : closed.TryGetValue((s.Loop, did), out var stored) ? stored : null;
            if (ranking is null)
            {
                continue;
            }
            var served = false;
            for (var r = 0; r < ranking.Count && !served; r++)
            {
                served = ranking[r].ActionId == action;
            }
            if (!served)
            {
                return new FlywheelValidationException($"signals[{i}].actionId",
                    $"'{action}' was not served by decision '{did}' (served: {string.Join(", ", ranking.Select(r => r.ActionId))})");
            }
        }
        return null;
    }

    private static FlywheelValidationException? FindSignalConflict(SignalsWrite s, DateTimeOffset now,
        Dictionary<(LoopRuntime, string), SignalRecord> group, Dictionary<(LoopRuntime, string), SignalRecord> known)
    {
        Dictionary<string, int>? earlier = null;
        for (var i = 0; i < s.Signals.Count; i++)
        {
            var input = s.Signals[i];
            if (input.SignalId is not { } id)
            {
                continue;
            }
            SignalRecord? stored = null;
            if (earlier is not null && earlier.TryGetValue(id, out var first))
            {
                // The first signal of this id in the batch, as it would be stored (its time the arrival time when absent).
                var f = s.Signals[first];
                stored = ToRecord(s.Loop, id, f, now);
            }
            else if (!group.TryGetValue((s.Loop, id), out stored) && !known.TryGetValue((s.Loop, id), out stored) && s.Signals.Count > 1)
            {
                (earlier ??= new Dictionary<string, int>(StringComparer.Ordinal))[id] = i;
            }
            if (stored is not null && Retries.SignalDifference(stored, input) is { } difference)
            {
                return Retries.SignalConflict($"signals[{i}].signalId", id, difference);
            }
        }
        return null;
    }

    /// <summary>A signal as it is stored when it arrives at <paramref name="now"/> (its time the arrival time when absent).</summary>
    private static SignalRecord ToRecord(LoopRuntime loop, string signalId, SignalInput input, DateTimeOffset now) => new()
    {
        Loop = loop.Id,
        SignalId = signalId,
        DecisionId = input.DecisionId,
        ActionId = input.ActionId,
        UserId = input.UserId,
        Type = input.Type,
        Value = input.Value ?? 1.0,
        At = input.At ?? now,
        ReceivedAt = now,
        Text = input.Text,
    };

    private static HashSet<string> Bucket(Dictionary<LoopRuntime, HashSet<string>> map, LoopRuntime loop)
    {
        if (!map.TryGetValue(loop, out var set))
        {
            map[loop] = set = new HashSet<string>(StringComparer.Ordinal);
        }
        return set;
    }

    private static bool Contains(Dictionary<LoopRuntime, IReadOnlySet<string>> map, LoopRuntime loop, string id)
        => map.TryGetValue(loop, out var set) && set.Contains(id);

    /// <summary>After a failed commit the in-memory windows may be ahead of the store: rebuild them from it.</summary>
    private async Task ReloadOpenWindowsAsync()
    {
        foreach (var loop in loops.All())
        {
            try
            {
                await Joiner.LoadAsync(store, loop, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                LogCommitFailed(ex, 0);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Group commit failed; {Calls} calls answered with the error and loop state reloaded from the store.")]
    private partial void LogCommitFailed(Exception exception, int calls);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Group commit refused by the store ({Reason}); {Calls} calls answered with the error and loop state reloaded from the store.")]
    private partial void LogCommitRefused(StoreWriteFailure reason, int calls);
}

using Flywheel.Core;
using Flywheel.Learning;

namespace Flywheel.Engine;

public sealed partial class FlywheelEngine
{
    /// <inheritdoc />
    public async ValueTask<Decision> DecideAsync(string loop, DecideRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var runtime = await GetRuntimeAsync(loop, cancellationToken).ConfigureAwait(false);
        ValidateDecide(request);

        var serving = runtime.Serving;
        if (serving.Config.Mode == LoopMode.Apprentice && request.BaselineActionId is null)
        {
            throw new FlywheelValidationException("baselineActionId", $"is required: loop '{runtime.Id}' is in apprentice mode and serves the product's baseline");
        }
        var now = _time.GetUtcNow();
        var decisionId = request.DecisionId ?? Guid.CreateVersion7(now).ToString("N");
        var k = request.Actions.Count;
        var bagCosts = new float[k * serving.Model.Bags];
        var costs = Score(serving, request.Context, request.Actions, bagCosts);

        var pmf = new double[k];
        if (serving.Config.Mode == LoopMode.Apprentice)
        {
            ApprenticeDistribution(serving.Config.Exploration, IndexOf(request.Actions, request.BaselineActionId!), pmf);
        }
        else
        {
            Exploration.Distribution(serving.Config.Exploration, costs, serving.Model.Examples, pmf, bagCosts);
        }
        var chosen = Exploration.Sample(pmf, Exploration.UniformFor(runtime.Id, decisionId, _options.ExplorationSeed));
        var best = costs.Min();
        var shadows = serving.Shadows.Count == 0 ? [] : ScoreShadows(runtime.Id, decisionId, serving.Shadows, request, chosen);

        // The chosen action first, then the rest from best to worst predicted cost.
        var order = Enumerable.Range(0, k).Where(i => i != chosen).OrderBy(i => costs[i]).ThenBy(i => i);
        var ranking = new List<RankedAction>(k) { new(request.Actions[chosen].Id, pmf[chosen]) };
        ranking.AddRange(order.Select(i => new RankedAction(request.Actions[i].Id, pmf[i])));

        var record = new DecisionRecord
        {
            Loop = runtime.Id,
            DecisionId = decisionId,
            At = now,
            UserId = request.UserId,
            Context = request.Context,
            Actions = request.Actions,
            BaselineActionId = request.BaselineActionId,
            ChosenActionId = request.Actions[chosen].Id,
            Explored = serving.Config.Mode == LoopMode.Apprentice ? request.Actions[chosen].Id != request.BaselineActionId : costs[chosen] != best,
            Ranking = ranking,
            ModelVersion = serving.Model.Version,
            Shadows = shadows,
        };
        var write = new DecideWrite(runtime, record, request.DecisionId is not null, DecisionPayload.Serialize(request.Context, request.Actions));
        await EnqueueAsync(write, cancellationToken).ConfigureAwait(false);
        return await write.Done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The share of apprentice decisions explored uniformly when the loop's exploration sets no ε: enough that a couple of
    /// thousand decisions can show whether a learner beats the baseline over ten or so actions.
    /// </summary>
    public const double ApprenticeEpsilon = 0.2;

    /// <summary>
    /// Apprentice mode serves the baseline, except for a uniform ε share (the loop's ε, or <see cref="ApprenticeEpsilon"/>):
    /// without it the log would hold no evidence about any other action, and no estimate could say when the learner is
    /// better than the baseline.
    /// </summary>
    internal static void ApprenticeDistribution(ExplorationConfig exploration, int baseline, Span<double> pmf)
    {
        var epsilon = exploration.EffectiveEpsilon > 0 ? exploration.EffectiveEpsilon : ApprenticeEpsilon;
        pmf.Fill(epsilon / pmf.Length);
        pmf[baseline] += 1 - epsilon;
    }

    /// <summary>
    /// What each shadow would have served: its own distribution over the same actions and its own seeded draw, with its
    /// probability of the action actually served (the importance weight of its live IPS estimate).
    /// </summary>
    private ShadowChoice[] ScoreShadows(string loop, string decisionId, IReadOnlyList<ShadowPolicy> shadows, DecideRequest request, int served)
    {
        var k = request.Actions.Count;
        var choices = new ShadowChoice[shadows.Count];
        var pmf = new double[k];
        var costs = new float[k];
        for (var s = 0; s < shadows.Count; s++)
        {
            var shadow = shadows[s];
            var bagCosts = new float[k * shadow.Model.Bags];
            ScoreWith(shadow.Featurizers, shadow.Model, request.Context, request.Actions, costs, bagCosts);
            Exploration.Distribution(shadow.Exploration, costs, shadow.Model.Examples, pmf, bagCosts);
            var pick = Exploration.Sample(pmf, Exploration.UniformFor(loop, decisionId, _options.ExplorationSeed ^ (0xD1B54A32D192ED03UL * (ulong)shadow.Version)));
            choices[s] = new ShadowChoice(shadow.Version, request.Actions[pick].Id, pmf[pick], pmf[served]);
        }
        return choices;
    }

    /// <summary>Predicted cost of each action under the serving model.</summary>
    private static float[] Score(ServingState serving, Features context, IReadOnlyList<ActionCandidate> actions, Span<float> bagCosts = default)
    {
        var costs = new float[actions.Count];
        ScoreWith(serving.Featurizers, serving.Model, context, actions, costs, bagCosts);
        return costs;
    }

    private static void ScoreWith(FeaturizerPool featurizers, ServingModel model, Features context, IReadOnlyList<ActionCandidate> actions, Span<float> costs, Span<float> bagCosts)
    {
        var scorer = featurizers.Rent();
        try
        {
            var vector = scorer.Features;
            vector.Clear();
            scorer.Featurizer.SetContext(HashedFeatureSet.FromContext(context));
            for (var i = 0; i < actions.Count; i++)
            {
                scorer.Featurizer.AddAction(HashedFeatureSet.FromAction(actions[i]), vector);
            }
            model.Predict(vector, costs, bagCosts);
        }
        finally
        {
            featurizers.Return(scorer);
        }
    }

    /// <summary>Predicted costs under the loop's current serving model, without deciding (tests and audits).</summary>
    internal async ValueTask<float[]> ScoreAsync(string loop, Features context, IReadOnlyList<ActionCandidate> actions, CancellationToken cancellationToken = default)
    {
        var runtime = await GetRuntimeAsync(loop, cancellationToken).ConfigureAwait(false);
        return Score(runtime.Serving, context, actions);
    }

    private void ValidateDecide(DecideRequest request)
    {
        var limits = _options.Limits;
        limits.CheckString("decisionId", request.DecisionId, required: false);
        limits.CheckString("userId", request.UserId, required: false);
        if (request.Actions is null || request.Actions.Count == 0)
        {
            throw new FlywheelValidationException("actions", "must hold at least one action");
        }
        if (request.Actions.Count > limits.MaxActionsPerDecision)
        {
            throw new FlywheelValidationException("actions", $"holds {request.Actions.Count} actions; the limit is {limits.MaxActionsPerDecision}") { Kind = ValidationKind.TooLarge };
        }
        (request.Context ?? throw new FlywheelValidationException("context", "must be an object of namespaces")).Validate("context", limits);
        var ids = new HashSet<string>(request.Actions.Count, StringComparer.Ordinal);
        for (var i = 0; i < request.Actions.Count; i++)
        {
            var action = request.Actions[i] ?? throw new FlywheelValidationException($"actions[{i}]", "must be an action object");
            if (!limits.IsValidString(action.Id))
            {
                limits.CheckString($"actions[{i}].id", action.Id);
            }
            if (!ids.Add(action.Id))
            {
                throw new FlywheelValidationException($"actions[{i}].id", $"'{action.Id}' appears more than once");
            }
            if (action.Features is null)
            {
                throw new FlywheelValidationException($"actions[{i}].features", "must be an object of namespaces");
            }
            if (action.Features.Count > 0)
            {
                action.Features.Validate($"actions[{i}].features", limits);
            }
        }
        if (request.BaselineActionId is not null && !ids.Contains(request.BaselineActionId))
        {
            throw new FlywheelValidationException("baselineActionId", $"'{request.BaselineActionId}' is not one of the actions");
        }
    }

    /// <inheritdoc />
    public async ValueTask<SignalBatchResult> RecordSignalsAsync(string loop, IReadOnlyList<SignalInput> signals, CancellationToken cancellationToken = default)
    {
        var runtime = await GetRuntimeAsync(loop, cancellationToken).ConfigureAwait(false);
        var limits = _options.Limits;
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
        var now = _time.GetUtcNow();
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
            if (s.DecisionId is null && s.UserId is null)
            {
                throw new FlywheelValidationException($"signals[{i}].decisionId", "a signal needs a decisionId, or a userId for user-level signals");
            }
            if (s.Value is { } v && !double.IsFinite(v))
            {
                throw new FlywheelValidationException($"signals[{i}].value", "must be a finite number");
            }
            ids[i] = s.SignalId ?? Guid.CreateVersion7(now).ToString("N");
        }
        var write = new SignalsWrite(runtime, signals, ids);
        await EnqueueAsync(write, cancellationToken).ConfigureAwait(false);
        return await write.Done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private static void CheckOptional(FlywheelLimits limits, string? value, int index, string name)
    {
        if (value is not null && !limits.IsValidString(value))
        {
            limits.CheckString($"signals[{index}].{name}", value);
        }
    }

    private async Task WriterLoopAsync()
    {
        var reader = _writes.Reader;
        var calls = new List<WriteRequest>();
        var batch = new StoreBatch();
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            calls.Clear();
            while (calls.Count < _options.MaxCallsPerCommit && reader.TryRead(out var request))
            {
                calls.Add(request);
            }
            Volatile.Write(ref _tickQueued, 0);
            try
            {
                await CommitGroupAsync(calls, batch).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                LogCommitFailed(ex, calls.Count);
                foreach (var call in calls)
                {
                    switch (call)
                    {
                        case DecideWrite d: d.Done.TrySetException(ex); break;
                        case SignalsWrite s: s.Done.TrySetException(ex); break;
                        case FlushWrite f: f.Done.TrySetException(ex); break;
                    }
                }
                await ReloadOpenWindowsAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// One group commit: close due windows, apply every call in arrival order (idempotency, joining, late and orphaned
    /// signals), write it all in one transaction, then answer the calls and hand the closed rewards to the learner.
    /// </summary>
    private async Task CommitGroupAsync(List<WriteRequest> calls, StoreBatch batch)
    {
        var store = _store!;
        batch.Clear();
        var now = _time.GetUtcNow();
        var closed = new List<(LoopRuntime Loop, PendingDecision Decision, RewardRecord Reward)>();
        List<LoopRuntime> loops;
        lock (_loopsLock)
        {
            loops = [.. _loops.Values];
        }
        foreach (var loop in loops)
        {
            CloseDueWindows(loop, now, batch, closed);
        }

        // Look up, in one query per loop and kind, the ids this group needs to know about.
        var decisionQueries = new Dictionary<LoopRuntime, HashSet<string>>();
        var signalQueries = new Dictionary<LoopRuntime, HashSet<string>>();
        foreach (var call in calls)
        {
            if (call is DecideWrite { ClientChoseId: true } d && !d.Loop.Pending.ContainsKey(d.Record.DecisionId))
            {
                Bucket(decisionQueries, d.Loop).Add(d.Record.DecisionId);
            }
            else if (call is SignalsWrite s)
            {
                for (var i = 0; i < s.Signals.Count; i++)
                {
                    if (s.Signals[i].SignalId is not null)
                    {
                        Bucket(signalQueries, s.Loop).Add(s.SignalIds[i]);
                    }
                    if (s.Signals[i].DecisionId is { } did && !s.Loop.Pending.ContainsKey(did))
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
        var knownSignals = new Dictionary<LoopRuntime, IReadOnlySet<string>>();
        foreach (var (loop, ids) in signalQueries)
        {
            knownSignals[loop] = await store.FindSignalsAsync(loop.Id, ids).ConfigureAwait(false);
        }

        var newDecisions = new HashSet<(LoopRuntime, string)>();
        var newSignals = new HashSet<(LoopRuntime, string)>();
        var closedNow = new HashSet<(LoopRuntime, string)>();
        var completions = new List<Action>(calls.Count);
        var duplicateDecisions = new List<DecideWrite>();
        var flushes = new List<FlushWrite>();
        foreach (var call in calls)
        {
            switch (call)
            {
                case DecideWrite d:
                {
                    var id = d.Record.DecisionId;
                    if (d.Loop.Pending.TryGetValue(id, out var existing))
                    {
                        var answer = existing.Record.ToDecision();
                        completions.Add(() => d.Done.TrySetResult(answer));
                    }
                    else if (newDecisions.Contains((d.Loop, id)) || closedNow.Contains((d.Loop, id)) || Contains(knownDecisions, d.Loop, id))
                    {
                        duplicateDecisions.Add(d);
                    }
                    else
                    {
                        batch.Decisions.Add(d.Record);
                        newDecisions.Add((d.Loop, id));
                        var pending = new PendingDecision(d.Record, d.Record.At + TimeSpan.FromSeconds(d.Loop.Config.Reward.WindowSeconds), d.Payload);
                        d.Loop.Pending[id] = pending;
                        d.Loop.DueQueue.Enqueue(pending, pending.CloseAt);
                        var answer = d.Record.ToDecision();
                        completions.Add(() => d.Done.TrySetResult(answer));
                    }
                    break;
                }
                case SignalsWrite s:
                {
                    int accepted = 0, duplicates = 0, orphaned = 0, late = 0;
                    var config = s.Loop.Config;
                    for (var i = 0; i < s.Signals.Count; i++)
                    {
                        var input = s.Signals[i];
                        var signalId = s.SignalIds[i];
                        if (!newSignals.Add((s.Loop, signalId)) || Contains(knownSignals, s.Loop, signalId))
                        {
                            duplicates++;
                            continue;
                        }
                        accepted++;
                        bool isLate = false, isOrphan = false;
                        if (input.DecisionId is { } did)
                        {
                            if (s.Loop.Pending.TryGetValue(did, out var pending))
                            {
                                pending.Signals.Add((input.Type, input.Value ?? 1.0));
                                if (config.Signals.TryGetValue(input.Type, out var type) && type.ClosesWindow)
                                {
                                    Close(s.Loop, pending, now, WindowClose.Signal, batch, closed);
                                    closedNow.Add((s.Loop, did));
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
                        batch.Signals.Add(new SignalRecord
                        {
                            Loop = s.Loop.Id,
                            SignalId = signalId,
                            DecisionId = input.DecisionId,
                            UserId = input.UserId,
                            Type = input.Type,
                            Value = input.Value ?? 1.0,
                            At = input.At ?? now,
                            ReceivedAt = now,
                            Late = isLate,
                            Orphaned = isOrphan,
                        });
                    }
                    var result = new SignalBatchResult(accepted, duplicates, orphaned, late);
                    completions.Add(() => s.Done.TrySetResult(result));
                    break;
                }
                case FlushWrite f:
                    flushes.Add(f);
                    break;
            }
        }

        if (!batch.IsEmpty)
        {
            await store.CommitAsync(batch).ConfigureAwait(false);
        }
        foreach (var complete in completions)
        {
            complete();
        }
        foreach (var d in duplicateDecisions)
        {
            // A retry of a decision committed earlier: answer with what was stored, never a new draw.
            var stored = d.Loop.Pending.TryGetValue(d.Record.DecisionId, out var p)
                ? p.Record
                : await store.GetDecisionAsync(d.Loop.Id, d.Record.DecisionId).ConfigureAwait(false);
            if (stored is null)
            {
                d.Done.TrySetException(new InvalidOperationException($"decision '{d.Record.DecisionId}' vanished"));
            }
            else
            {
                d.Done.TrySetResult(stored.ToDecision());
            }
        }
        if (closed.Count > 0)
        {
            await _learn.Writer.WriteAsync(new LearnBatch(closed)).ConfigureAwait(false);
        }
        foreach (var f in flushes)
        {
            await _learn.Writer.WriteAsync(new LearnFlush(f.Done)).ConfigureAwait(false);
        }
    }

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

    private static void CloseDueWindows(LoopRuntime loop, DateTimeOffset now, StoreBatch batch, List<(LoopRuntime, PendingDecision, RewardRecord)> closed)
    {
        while (loop.DueQueue.TryPeek(out var pending, out var closeAt) && closeAt <= now)
        {
            loop.DueQueue.Dequeue();
            if (loop.Pending.TryGetValue(pending.Record.DecisionId, out var current) && ReferenceEquals(current, pending))
            {
                Close(loop, pending, closeAt, WindowClose.Timeout, batch, closed);
            }
        }
    }

    private static void Close(LoopRuntime loop, PendingDecision pending, DateTimeOffset at, WindowClose reason, StoreBatch batch, List<(LoopRuntime, PendingDecision, RewardRecord)> closed)
    {
        loop.Pending.Remove(pending.Record.DecisionId);
        var reward = new RewardRecord
        {
            Loop = loop.Id,
            DecisionId = pending.Record.DecisionId,
            Sequence = loop.NextRewardSequence++,
            Reward = RewardRule.Compute(loop.Config, pending.Signals),
            SignalCount = pending.Signals.Count,
            ClosedAt = at,
            ClosedBy = reason,
        };
        batch.Rewards.Add(reward);
        closed.Add((loop, pending, reward));
    }

    /// <summary>After a failed commit the in-memory windows may be ahead of the store: rebuild them from it.</summary>
    private async Task ReloadOpenWindowsAsync()
    {
        List<LoopRuntime> loops;
        lock (_loopsLock)
        {
            loops = [.. _loops.Values];
        }
        foreach (var loop in loops)
        {
            try
            {
                await LoadOpenWindowsAsync(loop, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                LogCommitFailed(ex, 0);
            }
        }
    }

    /// <summary>Rebuilds a loop's open windows and reward sequence from the store; returns how many are open.</summary>
    private async Task<int> LoadOpenWindowsAsync(LoopRuntime loop, CancellationToken cancellationToken)
    {
        loop.Pending.Clear();
        loop.DueQueue.Clear();
        var window = TimeSpan.FromSeconds(loop.Config.Reward.WindowSeconds);
        await foreach (var (decision, signals) in _store!.ReadOpenDecisionsAsync(loop.Id, cancellationToken).ConfigureAwait(false))
        {
            var pending = new PendingDecision(decision, decision.At + window);
            foreach (var s in signals)
            {
                pending.Signals.Add((s.Type, s.Value));
            }
            loop.Pending[decision.DecisionId] = pending;
            loop.DueQueue.Enqueue(pending, pending.CloseAt);
        }
        loop.NextRewardSequence = await _store.GetLastRewardSequenceAsync(loop.Id, cancellationToken).ConfigureAwait(false) + 1;
        return loop.Pending.Count;
    }
}

using System.Globalization;
using Flywheel.Core;
using Flywheel.Evaluation;
using Flywheel.Learning;
using Microsoft.Extensions.Logging;

namespace Flywheel.Engine;

/// <summary>
/// The turn runner (docs/architecture.md): on each loop's schedule, when the loop's reward drops (a <see cref="DriftWatch"/> alarm)
/// or when asked, it trains candidates by replaying the log,
/// judges them off-policy against what the champion earned, registers them and promotes the winner; it also promotes
/// and rolls back by hand. The guardrail runs before every turn. Never names a loop kind: the loop's
/// <see cref="ILoopKind"/> trains and scores the candidates.
/// </summary>
internal sealed class TurnRunner(FlywheelOptions options, TimeProvider time, IFlywheelStore store, LoopTable loops, ModelRegistry registry, Deployment deployment, Guardrail guardrail, ILogger logger, FlywheelMetrics metrics, CancellationToken stopping)
{
    private ITimer? _turnTimer;
    private int _turnCheckRunning;
    private Task _turnCheck = Task.CompletedTask;

    /// <summary>Runs a turn now: the guardrail first, then candidates, judging and promotion; answers the ledger entry.</summary>
    public async ValueTask<TurnRecord> RunTurnAsync(LoopRuntime runtime, CancellationToken cancellationToken)
    {
        NoTurnsForAbility(runtime);
        await registry.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await guardrail.CheckAsync(runtime, cancellationToken).ConfigureAwait(false);
            return (await RunTurnCoreAsync(runtime, TurnTrigger.Manual, cancellationToken).ConfigureAwait(false))!;
        }
        finally
        {
            registry.Lock.Release();
        }
    }

    /// <summary>
    /// Turns compare candidates by the reward they would earn; an ability loop's reward is the answer, which its policy
    /// keeps at the target on purpose, and its one model follows its learners, so it has no turns, promotions or rollbacks.
    /// </summary>
    internal static void NoTurnsForAbility(LoopRuntime runtime)
    {
        if (runtime.Config.Kind == LoopKind.Ability)
        {
            throw new FlywheelValidationException("loop",
                $"loop '{runtime.Id}' is of kind 'ability': its one model follows its learners, and turns, promotions and rollbacks, which compare models by the reward they earn, do not apply (docs/ability.md)")
            { Kind = ValidationKind.NotSupported };
        }
    }

    /// <summary>Makes a registered model with stored weights the champion now, by hand; answers the ledger entry.</summary>
    public async ValueTask<TurnRecord> PromoteAsync(LoopRuntime runtime, int version, string? reason, CancellationToken cancellationToken)
    {
        NoTurnsForAbility(runtime);
        await registry.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var model = await registry.FindAsync(runtime, version, cancellationToken).ConfigureAwait(false);
            if (model.Status == ModelStatus.Champion)
            {
                throw new FlywheelValidationException("version", $"model version {version} is already the champion") { Kind = ValidationKind.Conflict };
            }
            var started = time.GetUtcNow();
            var champion = runtime.ModelVersion;
            var through = await store.GetLastRewardSequenceAsync(runtime.Id, cancellationToken).ConfigureAwait(false);
            var why = string.IsNullOrWhiteSpace(reason) ? "promoted by hand" : $"promoted by hand: {reason}";
            var entry = new TurnRecord
            {
                Loop = runtime.Id,
                Number = await registry.NextTurnNumberAsync(runtime, cancellationToken).ConfigureAwait(false),
                Trigger = TurnTrigger.Manual,
                StartedAt = started,
                FinishedAt = started,
                Window = new DataWindow { AfterSequence = Math.Max(0, through - runtime.Config.Turns.MinDecisions), ThroughSequence = through, Decisions = 0, Signals = 0 },
                ChampionVersion = champion,
                Verdict = TurnVerdict.ManuallyPromoted,
                Reason = $"v{version} {why}; the guardrail compares its online reward with v{champion}'s",
                DeployedVersion = version,
                DeployedAt = started,
            };
            // The ledger entry is committed with the deploy, in one transaction.
            var change = new RegistryChange { Loop = runtime.Id };
            change.Turns.Add(entry);
            await deployment.DeployAsync(runtime, model, why, $"replaced by v{version}, {why}", change, cancellationToken).ConfigureAwait(false);
            metrics.TurnRecorded(runtime.Id, entry.Verdict);
            return entry;
        }
        finally
        {
            registry.Lock.Release();
        }
    }

    /// <summary>Puts back the champion that the serving one replaced, by hand; answers the ledger entry.</summary>
    public async ValueTask<TurnRecord> RollbackAsync(LoopRuntime runtime, string? reason, CancellationToken cancellationToken)
    {
        NoTurnsForAbility(runtime);
        await registry.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var why = string.IsNullOrWhiteSpace(reason) ? "rolled back by hand" : $"rolled back by hand: {reason}";
            return await deployment.RollbackAsync(runtime, TurnTrigger.Manual, why, lift: null, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            registry.Lock.Release();
        }
    }

    /// <summary>
    /// One turn: replay the log into the champion's settings and each candidate's, judge them on all the evidence since
    /// what serves last changed (<see cref="EvidenceStart"/>), register them, and promote under the loop's policy. It runs
    /// once <c>turns.minDecisions</c> rewards came in since the last judged turn; null when a scheduled turn finds fewer.
    /// The judged window grows from turn to turn, so thin evidence per turn (little exploration) delays a decision
    /// instead of preventing it; the cost is the scoring of a longer window, as every turn replays the whole log anyway.
    /// A drift turn (<paramref name="drift"/>) is judged on the rewards since the change only, and is null until
    /// <see cref="DriftTurnMinimum"/> of them have come in.
    /// </summary>
    private async Task<TurnRecord?> RunTurnCoreAsync(LoopRuntime runtime, TurnTrigger trigger, CancellationToken cancellationToken, DriftAlarm? drift = null)
    {
        var config = runtime.Config;
        if (config.Kind == LoopKind.Ability)
        {
            return null; // scheduled and drift turns pass ability loops by; a manual one was refused
        }
        var after = await registry.LastJudgedThroughAsync(runtime, cancellationToken).ConfigureAwait(false);
        var through = await store.GetLastRewardSequenceAsync(runtime.Id, cancellationToken).ConfigureAwait(false);
        if (drift is not null)
        {
            // Judged on the rewards since the change only: on older ones the stale champion still looks good.
            after = Math.Max(after, drift.ChangeSequence);
            if (config.Mode == LoopMode.Frozen || through - after < DriftTurnMinimum(config))
            {
                return null;
            }
        }
        await registry.EnsureChampionRegisteredAsync(runtime, cancellationToken).ConfigureAwait(false);
        var started = time.GetUtcNow();
        var champion = runtime.ModelVersion;
        var number = await registry.NextTurnNumberAsync(runtime, cancellationToken).ConfigureAwait(false);
        var fresh = through - after;
        TurnRecord Entry(TurnVerdict verdict, string reason) => new()
        {
            Loop = runtime.Id,
            Number = number,
            Trigger = trigger,
            StartedAt = started,
            FinishedAt = time.GetUtcNow(),
            Window = new DataWindow { AfterSequence = after, ThroughSequence = through, Decisions = fresh, Signals = 0 },
            ChampionVersion = champion,
            Verdict = verdict,
            Reason = reason,
        };
        if (config.Mode == LoopMode.Frozen)
        {
            if (trigger == TurnTrigger.Schedule)
            {
                return null;
            }
            var frozen = Entry(TurnVerdict.InsufficientData, "the loop is frozen: it serves and never learns, so it does not turn");
            await store.SaveTurnAsync(frozen, cancellationToken).ConfigureAwait(false);
            metrics.TurnRecorded(runtime.Id, frozen.Verdict);
            return frozen;
        }
        if (fresh < (trigger == TurnTrigger.Drift ? DriftTurnMinimum(config) : config.Turns.MinDecisions))
        {
            if (trigger == TurnTrigger.Schedule)
            {
                return null;
            }
            var idle = Entry(TurnVerdict.InsufficientData,
                $"{fresh} rewarded decisions since reward {after}; a turn needs turns.minDecisions = {config.Turns.MinDecisions}");
            await store.SaveTurnAsync(idle, cancellationToken).ConfigureAwait(false);
            metrics.TurnRecorded(runtime.Id, idle.Verdict);
            return idle;
        }

        var start = drift is not null
            ? new EvidenceStart(after, null, null, after == drift.ChangeSequence ? $"the drop of the reward found after reward {after}" : $"the previous turn (reward {after})")
            : await EvidenceAsync(runtime, through, cancellationToken).ConfigureAwait(false);
        var z = Estimate.ZFor(config.Turns.Confidence);
        if (config.Mode == LoopMode.Apprentice)
        {
            return await JudgeApprenticeAsync(runtime, trigger, number, started, start, fresh, through, z, cancellationToken).ConfigureAwait(false);
        }
        // A candidate whose model would not fit the memory one loop may take (bags×2 on a large table) is not tried.
        var search = options.CandidateSearch(config)
            .Where(c => (config with { Learner = c.Learner, Exploration = c.Exploration }).ModelBytes() <= options.Limits.MaxLoopModelBytes)
            .ToList();
        var seed = (ulong)number * 0x9E3779B97F4A7C15UL;
        var kind = runtime.Kind;
        var replica = new CandidateReplay(kind, "champion (replayed)", config.Learner, config.Exploration, config, seed);
        // After a change the watch found, the searched settings learn only the rewards since (the live learner started
        // afresh there too); otherwise the whole log, with two extra candidates on the newest rewards.
        var (recentFrom, changed) = RecentStart(runtime, after, through);
        var candidates = search.Select((c, i) => new CandidateReplay(kind, changed ? $"{c.Name}, rewards after {recentFrom}" : c.Name, c.Learner, c.Exploration, config, seed + (ulong)i + 1)
        {
            LearnFrom = changed ? recentFrom : 0,
        }).ToList();
        if (recentFrom > 0)
        {
            candidates.Add(new CandidateReplay(kind, $"recent (rewards after {recentFrom})", config.Learner, config.Exploration, config, seed + (ulong)candidates.Count + 1) { LearnFrom = recentFrom });
            candidates.Add(new CandidateReplay(kind, $"refreshed (at reward {recentFrom})", config.Learner, config.Exploration, config, seed + (ulong)candidates.Count + 1) { RefreshAt = recentFrom });
        }
        var window = await Task.Run(() => LogReplay.ReplayAsync(store, kind, runtime.Id, config, start, through, replica, candidates, cancellationToken), cancellationToken).ConfigureAwait(false);

        var served = window.Served(z, config.Reward);
        var evaluated = new List<TurnCandidate>
        {
            new() { Name = "champion", Version = champion, Learner = config.Learner, Exploration = config.Exploration, Estimates = served },
            new() { Name = replica.Name, Learner = config.Learner, Exploration = config.Exploration, Estimates = replica.Estimates(z) },
            new() { Name = "uniform", Estimates = window.UniformEstimates(z, config.Reward) },
        };
        if (window.Baseline.Count > 0)
        {
            evaluated.Add(new TurnCandidate { Name = "baseline", Estimates = window.Baseline.GetEstimatesWithin(z, config.Reward.Min, config.Reward.Max) });
        }

        // Register every candidate; those of the latest turn keep their weights so that one can be promoted by hand. The
        // registrations, the ledger entry and a winner's deploy are committed in one transaction.
        var now = time.GetUtcNow();
        var change = new RegistryChange { Loop = runtime.Id };
        foreach (var old in (await store.LoadModelsAsync(runtime.Id, cancellationToken).ConfigureAwait(false)).Where(m => m.Status == ModelStatus.Candidate))
        {
            change.Models.Add(old with { Status = ModelStatus.Retired, StatusChangedAt = now, Reason = $"superseded by the candidates of turn {number}", TrainedThrough = null });
            change.ModelData[old.Version] = null;
        }
        var version = await registry.NextVersionAsync(runtime, cancellationToken).ConfigureAwait(false);
        var registered = new List<(CandidateReplay Replay, ModelRecord Model)>();
        foreach (var c in candidates)
        {
            var model = new ModelRecord
            {
                Loop = runtime.Id,
                Version = version++,
                ParentVersion = champion,
                Status = ModelStatus.Candidate,
                Learner = c.LearnerConfig,
                Exploration = c.Exploration,
                Turn = number,
                Window = window.Window,
                Estimates = c.Estimates(z),
                TrainedThrough = c.LearnedThrough,
                CreatedAt = now,
                StatusChangedAt = now,
                Reason = $"trained in turn {number} ({c.Name})",
            };
            change.Models.Add(model);
            change.ModelData[model.Version] = c.Learner.Save();
            registered.Add((c, model));
            evaluated.Add(new TurnCandidate { Name = c.Name, Version = model.Version, Learner = c.LearnerConfig, Exploration = c.Exploration, Estimates = model.Estimates! });
        }

        var (winner, verdict, reason) = TurnJudge.Judge(config.Turns, champion, served, registered.Select(r => r.Model).ToList());
        if (drift is not null)
        {
            reason = $"drift: {drift.Describe()}; judged on the {window.Window.Decisions} rewarded decisions after reward {after}; {reason}";
        }
        else
        {
            var models = registered.Select(r => r.Model).ToList();
            var ess = winner?.Estimates!.EffectiveSampleSize ?? (models.Count == 0 ? 0 : models.Max(m => m.Estimates!.EffectiveSampleSize));
            reason = $"{reason}; {EvidenceText(window.Window, start, ess, winner is null ? "largest candidate ESS" : "ESS")}";
        }
        var entry = JudgedEntry(runtime, number, trigger, started, window.Window, champion, evaluated, verdict, reason, winner?.Version, winner is null ? null : time.GetUtcNow(), fresh, start, config.Mode);
        change.Turns.Add(entry);
        if (winner is not null)
        {
            // Once the deploy is queued the turn's effects happen whatever its caller does.
            await deployment.DeployAsync(runtime, winner, $"promoted by turn {number}: {reason}", $"replaced by v{winner.Version} in turn {number}", change, cancellationToken).ConfigureAwait(false);
            logger.LogPromoted(runtime.Id, number, winner.Version, reason);
        }
        else
        {
            await store.CommitRegistryAsync(change, cancellationToken).ConfigureAwait(false);
        }
        metrics.TurnRecorded(runtime.Id, entry.Verdict);
        return entry;
    }

    /// <summary>
    /// An apprentice loop's turn: the learner (replayed as it would have served online) against the baseline it has been
    /// serving, on the same decisions; it graduates to online when it beats the baseline under the promotion policy.
    /// </summary>
    private async Task<TurnRecord> JudgeApprenticeAsync(LoopRuntime runtime, TurnTrigger trigger, long number, DateTimeOffset started, EvidenceStart start, long fresh, long through, double z, CancellationToken cancellationToken)
    {
        var config = runtime.Config;
        var champion = runtime.ModelVersion;
        var learner = new CandidateReplay(runtime.Kind, "learner", config.Learner, config.Exploration, config, (ulong)number);
        var window = await Task.Run(() => LogReplay.ReplayAsync(store, runtime.Kind, runtime.Id, config, start, through, learner, [], cancellationToken), cancellationToken).ConfigureAwait(false);
        var baseline = window.Baseline.GetEstimatesWithin(z, config.Reward.Min, config.Reward.Max);
        var mine = learner.Estimates(z);
        var level = TurnJudge.Level(config.Turns);
        var evidence = string.Create(CultureInfo.InvariantCulture,
            $"learner v{champion}: IPS {mine.Ips.Value:F4} [{mine.Ips.Lower:F4}, {mine.Ips.Upper:F4}], DR {mine.Dr.Value:F4} [{mine.Dr.Lower:F4}, {mine.Dr.Upper:F4}], ESS {mine.EffectiveSampleSize:F0}; baseline: IPS {baseline.Ips.Value:F4}, DR {baseline.Dr.Value:F4} on the same {baseline.Count} decisions");
        var ipsMargin = config.Turns.PromoteWhen == PromotionPolicy.EstimateBeatsChampion ? mine.Ips.Value - baseline.Ips.Value : mine.Ips.Lower - baseline.Ips.Value;
        var drMargin = config.Turns.PromoteWhen == PromotionPolicy.EstimateBeatsChampion ? mine.Dr.Value - baseline.Dr.Value : mine.Dr.Lower - baseline.Dr.Value;
        // The ESS gate and the extreme-weight gate of TurnJudge: too little evidence, or evidence that rests on one decision.
        var enough = mine.EffectiveSampleSize >= TurnJudge.MinimumEffectiveSampleSize;
        var beats = enough && !mine.HasExtremeWeights && ipsMargin > 0 && drMargin > 0;
        var judgedOn = EvidenceText(window.Window, start, mine.EffectiveSampleSize, "ESS");
        TurnVerdict verdict;
        string reason;
        DateTimeOffset? deployedAt = null;
        if (TurnJudge.NamesExtremeWeight(mine))
        {
            verdict = TurnVerdict.Rejected;
            reason = $"the learner v{champion} not judged: {mine.Warnings[0]}; {evidence}; {judgedOn}";
        }
        else if (!enough)
        {
            verdict = TurnVerdict.Rejected;
            reason = string.Create(CultureInfo.InvariantCulture,
                $"the learner does not yet beat the baseline: it has fewer than {TurnJudge.MinimumEffectiveSampleSize} effective samples, so it is not judged: {evidence}; {judgedOn}");
        }
        else if (!beats)
        {
            verdict = TurnVerdict.Rejected;
            reason = $"the learner does not yet beat the baseline ({(config.Turns.PromoteWhen == PromotionPolicy.EstimateBeatsChampion ? "estimates" : $"{level} lower bounds")} of IPS and DR): {evidence}; {judgedOn}";
        }
        else if (config.Turns.PromoteWhen == PromotionPolicy.Manual)
        {
            verdict = TurnVerdict.AwaitingManualPromotion;
            reason = $"the learner beats the baseline; turns.promoteWhen is manual, so set mode online to graduate: {evidence}; {judgedOn}";
        }
        else
        {
            deployedAt = time.GetUtcNow();
            verdict = TurnVerdict.Graduated;
            reason = $"graduated to online: the {(config.Turns.PromoteWhen == PromotionPolicy.EstimateBeatsChampion ? "estimates" : $"{level} lower bounds")} of IPS and DR beat the baseline: {evidence}; {judgedOn}";
        }
        TurnCandidate[] candidates =
        [
            new TurnCandidate { Name = "learner", Version = champion, Learner = config.Learner, Exploration = config.Exploration, Estimates = mine },
            new TurnCandidate { Name = "baseline", Estimates = baseline },
            new TurnCandidate { Name = "served (apprentice)", Estimates = window.Logged.GetEstimatesWithin(z, config.Reward.Min, config.Reward.Max) },
            new TurnCandidate { Name = "uniform", Estimates = window.Uniform.GetEstimatesWithin(z, config.Reward.Min, config.Reward.Max) },
        ];
        var deployed = verdict == TurnVerdict.Graduated ? champion : (int?)null;
        var entry = JudgedEntry(runtime, number, trigger, started, window.Window, champion, candidates, verdict, reason, deployed, deployedAt, fresh, start, config.Mode);
        var change = new RegistryChange { Loop = runtime.Id };
        change.Turns.Add(entry);
        if (verdict == TurnVerdict.Graduated)
        {
            // The new mode and the ledger entry that explains it are committed together.
            await deployment.SetModeAsync(runtime, LoopMode.Online, cancellationToken, change).ConfigureAwait(false);
            logger.LogPromoted(runtime.Id, number, champion, reason);
        }
        else
        {
            await store.CommitRegistryAsync(change, cancellationToken).ConfigureAwait(false);
        }
        metrics.TurnRecorded(runtime.Id, entry.Verdict);
        return entry;
    }

    /// <summary>
    /// Rewards a drift turn waits for after the change before it judges: half of <c>turns.minDecisions</c>, at least 200,
    /// so the estimates of candidates that learned since the change mean something.
    /// </summary>
    internal static long DriftTurnMinimum(LoopConfig config) => Math.Max(200, config.Turns.MinDecisions / 2);

    /// <summary>
    /// Where a turn's recent data start, and whether that is a change the drift watch found. Recent data start at the
    /// latest change found inside the newest two window-lengths of rewards, or else one window-length before the judged
    /// window (the newest 2 × window rewards). Candidates on them: <c>recent</c> learns only those rewards, with the
    /// champion's settings, and <c>refreshed</c> learns the whole log but restarts its adaptive learning rates and its
    /// exploration there, keeping what it knew as a starting point.
    /// </summary>
    private static (long From, bool Changed) RecentStart(LoopRuntime runtime, long after, long through)
    {
        var from = Math.Max(0, after - (through - after));
        return DriftWatch.For(runtime).Last is { } change && change.ChangeSequence > from && change.ChangeSequence < through
            ? (change.ChangeSequence, true)
            : (from, false);
    }

    /// <summary>
    /// Where a scheduled or manual turn's evidence begins: the ledger's newest entries decide it, or, after a long run of
    /// entries that judged nothing, the whole ledger.
    /// </summary>
    private async Task<EvidenceStart> EvidenceAsync(LoopRuntime runtime, long through, CancellationToken cancellationToken)
    {
        const int Recent = 64;
        var mode = runtime.Config.Mode;
        var ledger = await store.LoadLatestTurnsAsync(runtime.Id, Recent, cancellationToken).ConfigureAwait(false);
        if (ledger.Count >= Recent && !EvidenceStart.Decides(ledger, runtime.ModelVersion, mode))
        {
            ledger = await store.LoadTurnsAsync(runtime.Id, cancellationToken).ConfigureAwait(false);
        }
        return EvidenceStart.FromLedger(ledger, runtime.ModelVersion, mode, DriftWatch.For(runtime).Last, through);
    }

    /// <summary>How much evidence a verdict used, in words: <c>judged on 14,212 rewarded decisions since v3 became champion (reward 20,118), ESS 212</c>.</summary>
    private static string EvidenceText(DataWindow window, EvidenceStart start, double ess, string essLabel) => string.Create(CultureInfo.InvariantCulture,
        $"judged on {window.Decisions:N0} rewarded decisions since {start.Since} (reward {window.AfterSequence:N0}), {essLabel} {ess:F0}");

    /// <summary>A judged turn's ledger entry.</summary>
    private TurnRecord JudgedEntry(LoopRuntime runtime, long number, TurnTrigger trigger, DateTimeOffset started, DataWindow window, int champion, IReadOnlyList<TurnCandidate> candidates, TurnVerdict verdict, string reason, int? deployedVersion, DateTimeOffset? deployedAt, long fresh, EvidenceStart start, LoopMode mode) => new()
    {
        NewDecisions = fresh,
        EvidenceSince = start.Since,
        Mode = mode,
        Loop = runtime.Id,
        Number = number,
        Trigger = trigger,
        StartedAt = started,
        FinishedAt = time.GetUtcNow(),
        Window = window,
        ChampionVersion = champion,
        Candidates = candidates,
        Verdict = verdict,
        Reason = reason,
        DeployedVersion = deployedVersion,
        DeployedAt = deployedAt,
    };

    /// <summary>
    /// Runs what the turn schedule runs, now: for each loop, judge a pending deployment (the guardrail), then run a turn
    /// when <c>turns.everySeconds</c> have passed since the last. For hosts that drive a fake clock with
    /// <see cref="FlywheelOptions.ScheduleTurns"/> off (simulations, tests), so turns happen at reproducible moments.
    /// </summary>
    public Task RunScheduledTurnsAsync()
    {
        Volatile.Write(ref _turnCheckRunning, 1);
        return CheckTurnsAsync();
    }

    /// <summary>Starts the schedule when <see cref="FlywheelOptions.ScheduleTurns"/> is on.</summary>
    public void Start()
    {
        if (options.ScheduleTurns)
        {
            _turnTimer = time.CreateTimer(_ => OnTurnTimer(), null, options.TurnCheckInterval, options.TurnCheckInterval);
        }
    }

    /// <summary>Stops the schedule and waits for a running check, which the engine's stopping token cancels.</summary>
    public async Task StopAsync()
    {
        if (_turnTimer is not null)
        {
            await _turnTimer.DisposeAsync().ConfigureAwait(false);
        }
        await ScheduledCheck.ConfigureAwait(false);
    }

    /// <summary>
    /// The check the schedule's timer started last (completed when none ran yet). A fake clock's timer starts it before
    /// <c>Advance</c> returns, so a host driving that clock can await it and know the schedule's work is done.
    /// </summary>
    public Task ScheduledCheck => Volatile.Read(ref _turnCheck);

    private void OnTurnTimer()
    {
        if (Interlocked.Exchange(ref _turnCheckRunning, 1) == 0)
        {
            Volatile.Write(ref _turnCheck, Task.Run(CheckTurnsAsync));
        }
    }

    /// <summary>For each loop: measure a pending deployment, then run a turn when one is due.</summary>
    private async Task CheckTurnsAsync()
    {
        try
        {
            var token = stopping;
            await registry.Lock.WaitAsync(token).ConfigureAwait(false);
            try
            {
                foreach (var runtime in loops.All())
                {
                    try
                    {
                        await guardrail.CheckAsync(runtime, token).ConfigureAwait(false);
                        var watch = DriftWatch.For(runtime);
                        if (watch.Pending is { } alarm && runtime.Config.Mode != LoopMode.Apprentice)
                        {
                            // A drop of the reward: turn now rather than at the schedule, once the rewards since the change
                            // can judge candidates (DriftTurnMinimum); the alarm waits until then.
                            if (runtime.Config.Mode == LoopMode.Frozen
                                || await RunTurnCoreAsync(runtime, TurnTrigger.Drift, token, alarm).ConfigureAwait(false) is not null)
                            {
                                watch.Take(alarm);
                            }
                            continue;
                        }
                        var latest = await store.LoadLatestTurnsAsync(runtime.Id, 1, token).ConfigureAwait(false);
                        var last = latest.Count > 0 ? latest[^1].FinishedAt : runtime.CreatedAt;
                        if (time.GetUtcNow() - last >= TimeSpan.FromSeconds(runtime.Config.Turns.EverySeconds))
                        {
                            await RunTurnCoreAsync(runtime, TurnTrigger.Schedule, token).ConfigureAwait(false);
                        }
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        logger.LogTurnFailed(ex, runtime.Id);
                    }
                }
            }
            finally
            {
                registry.Lock.Release();
            }
        }
        catch (OperationCanceledException)
        {
            // Shutting down.
        }
        finally
        {
            Volatile.Write(ref _turnCheckRunning, 0);
        }
    }
}

using System.Globalization;
using System.Threading.Channels;
using Flywheel.Core;
using Flywheel.Evaluation;
using Flywheel.Learning;
using Microsoft.Extensions.Logging;

namespace Flywheel.Engine;

// Turns: train candidates by replaying the log, judge them off-policy, promote the better one, watch it online,
// roll back when it is worse; and the model registry and turn ledger that record all of it.
public sealed partial class FlywheelEngine
{
    private readonly SemaphoreSlim _turnLock = new(1, 1);
    private ITimer? _turnTimer;
    private int _turnCheckRunning;
    private Task _turnCheck = Task.CompletedTask;

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<ModelRecord>> ListModelsAsync(string loop, CancellationToken cancellationToken = default)
    {
        var runtime = await GetRuntimeAsync(loop, cancellationToken).ConfigureAwait(false);
        await EnsureChampionRegisteredAsync(runtime, cancellationToken).ConfigureAwait(false);
        return await _store!.LoadModelsAsync(runtime.Id, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<TurnRecord>> ListTurnsAsync(string loop, CancellationToken cancellationToken = default)
    {
        var runtime = await GetRuntimeAsync(loop, cancellationToken).ConfigureAwait(false);
        return await _store!.LoadTurnsAsync(runtime.Id, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<TurnRecord> RunTurnAsync(string loop, CancellationToken cancellationToken = default)
    {
        var runtime = await GetRuntimeAsync(loop, cancellationToken).ConfigureAwait(false);
        await _turnLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await CheckDeploymentAsync(runtime, cancellationToken).ConfigureAwait(false);
            return (await RunTurnCoreAsync(runtime, TurnTrigger.Manual, cancellationToken).ConfigureAwait(false))!;
        }
        finally
        {
            _turnLock.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask<TurnRecord> PromoteAsync(string loop, int version, string? reason = null, CancellationToken cancellationToken = default)
    {
        var runtime = await GetRuntimeAsync(loop, cancellationToken).ConfigureAwait(false);
        await _turnLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await EnsureChampionRegisteredAsync(runtime, cancellationToken).ConfigureAwait(false);
            var models = await _store!.LoadModelsAsync(runtime.Id, cancellationToken).ConfigureAwait(false);
            var model = models.FirstOrDefault(m => m.Version == version)
                ?? throw new FlywheelValidationException("version", $"loop '{runtime.Id}' has no model version {version}") { Kind = ValidationKind.NotFound };
            if (model.Status == ModelStatus.Champion)
            {
                throw new FlywheelValidationException("version", $"model version {version} is already the champion") { Kind = ValidationKind.Conflict };
            }
            var started = _time.GetUtcNow();
            var champion = runtime.ModelVersion;
            var through = await _store.GetLastRewardSequenceAsync(runtime.Id, cancellationToken).ConfigureAwait(false);
            var why = string.IsNullOrWhiteSpace(reason) ? "promoted by hand" : $"promoted by hand: {reason}";
            await DeployAsync(runtime, model, why, $"replaced by v{version}, {why}", cancellationToken).ConfigureAwait(false);
            var entry = new TurnRecord
            {
                Loop = runtime.Id,
                Number = await NextTurnNumberAsync(runtime, CancellationToken.None).ConfigureAwait(false),
                Trigger = TurnTrigger.Manual,
                StartedAt = started,
                FinishedAt = _time.GetUtcNow(),
                Window = new DataWindow { AfterSequence = Math.Max(0, through - runtime.Config.Turns.MinDecisions), ThroughSequence = through, Decisions = 0, Signals = 0 },
                ChampionVersion = champion,
                Verdict = TurnVerdict.ManuallyPromoted,
                Reason = $"v{version} {why}; the guardrail compares its online reward with v{champion}'s",
                DeployedVersion = version,
                DeployedAt = _time.GetUtcNow(),
            };
            await _store.SaveTurnAsync(entry, CancellationToken.None).ConfigureAwait(false);
            return entry;
        }
        finally
        {
            _turnLock.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask<TurnRecord> RollbackAsync(string loop, string? reason = null, CancellationToken cancellationToken = default)
    {
        var runtime = await GetRuntimeAsync(loop, cancellationToken).ConfigureAwait(false);
        await _turnLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var why = string.IsNullOrWhiteSpace(reason) ? "rolled back by hand" : $"rolled back by hand: {reason}";
            return await RollbackCoreAsync(runtime, TurnTrigger.Manual, why, lift: null, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _turnLock.Release();
        }
    }

    private async Task<TurnRecord> RollbackCoreAsync(LoopRuntime runtime, TurnTrigger trigger, string why, OnlineLift? lift, CancellationToken cancellationToken)
    {
        await EnsureChampionRegisteredAsync(runtime, cancellationToken).ConfigureAwait(false);
        var models = await _store!.LoadModelsAsync(runtime.Id, cancellationToken).ConfigureAwait(false);
        var champion = models.First(m => m.Version == runtime.ModelVersion);
        var target = champion.ParentVersion is { } parent ? models.FirstOrDefault(m => m.Version == parent) : null;
        if (target is null || target.TrainedThrough is null)
        {
            throw new FlywheelValidationException("loop", $"the champion v{champion.Version} has no predecessor with stored weights to roll back to") { Kind = ValidationKind.Conflict };
        }
        var started = _time.GetUtcNow();
        await DeployAsync(runtime, target, $"restored by rollback: {why}", $"rolled back to v{target.Version}: {why}", cancellationToken).ConfigureAwait(false);
        var entry = new TurnRecord
        {
            Loop = runtime.Id,
            Number = await NextTurnNumberAsync(runtime, CancellationToken.None).ConfigureAwait(false),
            Trigger = trigger,
            StartedAt = started,
            FinishedAt = _time.GetUtcNow(),
            ChampionVersion = champion.Version,
            Verdict = TurnVerdict.RolledBack,
            Reason = $"v{champion.Version} {why}; v{target.Version} serves again",
            DeployedVersion = target.Version,
            DeployedAt = _time.GetUtcNow(),
            Lift = lift,
        };
        await _store.SaveTurnAsync(entry, CancellationToken.None).ConfigureAwait(false);
        LogRolledBack(runtime.Id, champion.Version, target.Version, why);
        return entry;
    }

    /// <summary>Registers the serving model as champion when the registry does not know it yet (new loops, new learner settings).</summary>
    private async ValueTask EnsureChampionRegisteredAsync(LoopRuntime runtime, CancellationToken cancellationToken)
    {
        var models = await _store!.LoadModelsAsync(runtime.Id, cancellationToken).ConfigureAwait(false);
        var version = runtime.ModelVersion;
        if (models.Any(m => m.Version == version && m.Status == ModelStatus.Champion))
        {
            return;
        }
        var now = _time.GetUtcNow();
        foreach (var stale in models.Where(m => m.Status == ModelStatus.Champion))
        {
            await _store.SaveModelAsync(stale with { Status = ModelStatus.Retired, StatusChangedAt = now, Reason = $"replaced by v{version}, made by a change of the loop's learner settings" }, cancellationToken).ConfigureAwait(false);
        }
        var config = runtime.Config;
        var existing = models.FirstOrDefault(m => m.Version == version);
        await _store.SaveModelAsync(existing is not null
            ? existing with { Status = ModelStatus.Champion, StatusChangedAt = now }
            : new ModelRecord
            {
                Loop = runtime.Id,
                Version = version,
                Status = ModelStatus.Champion,
                Learner = config.Learner,
                Exploration = config.Exploration,
                CreatedAt = now,
                StatusChangedAt = now,
                Reason = "made by the loop config",
            }, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<long> NextTurnNumberAsync(LoopRuntime runtime, CancellationToken cancellationToken)
    {
        var latest = await _store!.LoadLatestTurnsAsync(runtime.Id, 1, cancellationToken).ConfigureAwait(false);
        return latest.Count == 0 ? 1 : latest[^1].Number + 1;
    }

    private async ValueTask<int> NextVersionAsync(LoopRuntime runtime, CancellationToken cancellationToken)
    {
        var models = await _store!.LoadModelsAsync(runtime.Id, cancellationToken).ConfigureAwait(false);
        return Math.Max(runtime.ModelVersion, models.Count == 0 ? 0 : models.Max(m => m.Version)) + 1;
    }

    /// <summary>
    /// One turn: replay the log into the champion's settings and each candidate's, judge them on the rewards since the
    /// last turn, register them, and promote under the loop's policy. Null when a scheduled turn finds too little data.
    /// </summary>
    private async Task<TurnRecord?> RunTurnCoreAsync(LoopRuntime runtime, TurnTrigger trigger, CancellationToken cancellationToken)
    {
        await EnsureChampionRegisteredAsync(runtime, cancellationToken).ConfigureAwait(false);
        var store = _store!;
        var started = _time.GetUtcNow();
        var config = runtime.Config;
        var champion = runtime.ModelVersion;
        var number = await NextTurnNumberAsync(runtime, cancellationToken).ConfigureAwait(false);
        var after = await LastJudgedThroughAsync(runtime, cancellationToken).ConfigureAwait(false);
        var through = await store.GetLastRewardSequenceAsync(runtime.Id, cancellationToken).ConfigureAwait(false);
        var fresh = through - after;
        TurnRecord Entry(TurnVerdict verdict, string reason) => new()
        {
            Loop = runtime.Id,
            Number = number,
            Trigger = trigger,
            StartedAt = started,
            FinishedAt = _time.GetUtcNow(),
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
            return frozen;
        }
        if (fresh < config.Turns.MinDecisions)
        {
            if (trigger == TurnTrigger.Schedule)
            {
                return null;
            }
            var idle = Entry(TurnVerdict.InsufficientData,
                $"{fresh} rewarded decisions since reward {after}; a turn needs turns.minDecisions = {config.Turns.MinDecisions}");
            await store.SaveTurnAsync(idle, cancellationToken).ConfigureAwait(false);
            return idle;
        }

        var z = Estimate.ZFor(config.Turns.Confidence);
        if (config.Mode == LoopMode.Apprentice)
        {
            return await JudgeApprenticeAsync(runtime, trigger, number, started, after, through, z, cancellationToken).ConfigureAwait(false);
        }
        var search = _options.CandidateSearch(config);
        var seed = (ulong)number * 0x9E3779B97F4A7C15UL;
        var replica = new CandidateReplay("champion (replayed)", config.Learner, config.Exploration, config.Reward, seed);
        var candidates = search.Select((c, i) => new CandidateReplay(c.Name, c.Learner, c.Exploration, config.Reward, seed + (ulong)i + 1)).ToList();
        var window = await Task.Run(() => ReplayAsync(runtime.Id, config, after, through, replica, candidates, cancellationToken), cancellationToken).ConfigureAwait(false);

        var served = window.Logged.GetEstimates(z);
        var evaluated = new List<TurnCandidate>
        {
            new() { Name = "champion", Version = champion, Learner = config.Learner, Exploration = config.Exploration, Estimates = served },
            new() { Name = replica.Name, Learner = config.Learner, Exploration = config.Exploration, Estimates = replica.Estimates(z) },
            new() { Name = "uniform", Estimates = window.Uniform.GetEstimates(z) },
        };
        if (window.Baseline.Count > 0)
        {
            evaluated.Add(new TurnCandidate { Name = "baseline", Estimates = window.Baseline.GetEstimates(z) });
        }

        // Register every candidate; those of the latest turn keep their weights so that one can be promoted by hand.
        var now = _time.GetUtcNow();
        foreach (var old in (await store.LoadModelsAsync(runtime.Id, cancellationToken).ConfigureAwait(false)).Where(m => m.Status == ModelStatus.Candidate))
        {
            await store.SaveModelAsync(old with { Status = ModelStatus.Retired, StatusChangedAt = now, Reason = $"superseded by the candidates of turn {number}", TrainedThrough = null }, cancellationToken).ConfigureAwait(false);
            await store.SaveModelDataAsync(runtime.Id, old.Version, null, cancellationToken).ConfigureAwait(false);
        }
        var version = await NextVersionAsync(runtime, cancellationToken).ConfigureAwait(false);
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
            await store.SaveModelAsync(model, cancellationToken).ConfigureAwait(false);
            await store.SaveModelDataAsync(runtime.Id, model.Version, ModelSnapshot.Save(c.Learner), cancellationToken).ConfigureAwait(false);
            registered.Add((c, model));
            evaluated.Add(new TurnCandidate { Name = c.Name, Version = model.Version, Learner = c.LearnerConfig, Exploration = c.Exploration, Estimates = model.Estimates! });
        }

        var (winner, verdict, reason) = Judge(config.Turns, champion, served, registered.Select(r => r.Model).ToList());
        DateTimeOffset? deployedAt = null;
        if (winner is not null)
        {
            await DeployAsync(runtime, winner, $"promoted by turn {number}: {reason}", $"replaced by v{winner.Version} in turn {number}", cancellationToken).ConfigureAwait(false);
            deployedAt = _time.GetUtcNow();
            LogPromoted(runtime.Id, number, winner.Version, reason);
        }
        var entry = new TurnRecord
        {
            Loop = runtime.Id,
            Number = number,
            Trigger = trigger,
            StartedAt = started,
            FinishedAt = _time.GetUtcNow(),
            Window = window.Window,
            ChampionVersion = champion,
            Candidates = evaluated,
            Verdict = verdict,
            Reason = reason,
            DeployedVersion = winner?.Version,
            DeployedAt = deployedAt,
        };
        await store.SaveTurnAsync(entry, CancellationToken.None).ConfigureAwait(false);
        return entry;
    }

    /// <summary>
    /// An apprentice loop's turn: the learner (replayed as it would have served online) against the baseline it has been
    /// serving, on the same decisions; it graduates to online when it beats the baseline under the promotion policy.
    /// </summary>
    private async Task<TurnRecord> JudgeApprenticeAsync(LoopRuntime runtime, TurnTrigger trigger, long number, DateTimeOffset started, long after, long through, double z, CancellationToken cancellationToken)
    {
        var config = runtime.Config;
        var champion = runtime.ModelVersion;
        var learner = new CandidateReplay("learner", config.Learner, config.Exploration, config.Reward, (ulong)number);
        var window = await Task.Run(() => ReplayAsync(runtime.Id, config, after, through, learner, [], cancellationToken), cancellationToken).ConfigureAwait(false);
        var baseline = window.Baseline.GetEstimates(z);
        var mine = learner.Estimates(z);
        var level = Level(config.Turns);
        var evidence = string.Create(CultureInfo.InvariantCulture,
            $"learner v{champion}: IPS {mine.Ips.Value:F4} [{mine.Ips.Lower:F4}, {mine.Ips.Upper:F4}], DR {mine.Dr.Value:F4} [{mine.Dr.Lower:F4}, {mine.Dr.Upper:F4}], ESS {mine.EffectiveSampleSize:F0}; baseline: IPS {baseline.Ips.Value:F4}, DR {baseline.Dr.Value:F4} on the same {baseline.Count} decisions");
        var ipsMargin = config.Turns.PromoteWhen == PromotionPolicy.EstimateBeatsChampion ? mine.Ips.Value - baseline.Ips.Value : mine.Ips.Lower - baseline.Ips.Value;
        var drMargin = config.Turns.PromoteWhen == PromotionPolicy.EstimateBeatsChampion ? mine.Dr.Value - baseline.Dr.Value : mine.Dr.Lower - baseline.Dr.Value;
        var beats = mine.EffectiveSampleSize >= MinimumEffectiveSampleSize && ipsMargin > 0 && drMargin > 0;
        TurnVerdict verdict;
        string reason;
        DateTimeOffset? deployedAt = null;
        if (!beats)
        {
            verdict = TurnVerdict.Rejected;
            reason = $"the learner does not yet beat the baseline ({(config.Turns.PromoteWhen == PromotionPolicy.EstimateBeatsChampion ? "estimates" : $"{level} lower bounds")} of IPS and DR): {evidence}";
        }
        else if (config.Turns.PromoteWhen == PromotionPolicy.Manual)
        {
            verdict = TurnVerdict.AwaitingManualPromotion;
            reason = $"the learner beats the baseline; turns.promoteWhen is manual, so set mode online to graduate: {evidence}";
        }
        else
        {
            await SetModeAsync(runtime, LoopMode.Online, cancellationToken).ConfigureAwait(false);
            deployedAt = _time.GetUtcNow();
            verdict = TurnVerdict.Graduated;
            reason = $"graduated to online: the {(config.Turns.PromoteWhen == PromotionPolicy.EstimateBeatsChampion ? "estimates" : $"{level} lower bounds")} of IPS and DR beat the baseline: {evidence}";
            LogPromoted(runtime.Id, number, champion, reason);
        }
        var entry = new TurnRecord
        {
            Loop = runtime.Id,
            Number = number,
            Trigger = trigger,
            StartedAt = started,
            FinishedAt = _time.GetUtcNow(),
            Window = window.Window,
            ChampionVersion = champion,
            Candidates =
            [
                new TurnCandidate { Name = "learner", Version = champion, Learner = config.Learner, Exploration = config.Exploration, Estimates = mine },
                new TurnCandidate { Name = "baseline", Estimates = baseline },
                new TurnCandidate { Name = "served (apprentice)", Estimates = window.Logged.GetEstimates(z) },
                new TurnCandidate { Name = "uniform", Estimates = window.Uniform.GetEstimates(z) },
            ],
            Verdict = verdict,
            Reason = reason,
            DeployedVersion = verdict == TurnVerdict.Graduated ? champion : null,
            DeployedAt = deployedAt,
        };
        await _store!.SaveTurnAsync(entry, CancellationToken.None).ConfigureAwait(false);
        return entry;
    }

    /// <summary>Where the last judged window ended (0 before the first): the next turn judges the rewards after it.</summary>
    private async ValueTask<long> LastJudgedThroughAsync(LoopRuntime runtime, CancellationToken cancellationToken)
    {
        const int Recent = 64;
        var turns = await _store!.LoadLatestTurnsAsync(runtime.Id, Recent, cancellationToken).ConfigureAwait(false);
        var through = LastJudgedThrough(turns);
        // Only a long run of entries that judged nothing (manual turns without data, promotions, rollbacks) reads further back.
        return through > 0 || turns.Count < Recent
            ? through
            : LastJudgedThrough(await _store.LoadTurnsAsync(runtime.Id, cancellationToken).ConfigureAwait(false));
    }

    private static long LastJudgedThrough(IReadOnlyList<TurnRecord> turns)
    {
        for (var i = turns.Count - 1; i >= 0; i--)
        {
            if (turns[i].Verdict is TurnVerdict.Promoted or TurnVerdict.Rejected or TurnVerdict.AwaitingManualPromotion or TurnVerdict.Graduated && turns[i].Window is { } w)
            {
                return w.ThroughSequence;
            }
        }
        return 0;
    }

    /// <summary>Fewest effective samples (Kish) behind a candidate's estimates before its intervals are trusted.</summary>
    public const double MinimumEffectiveSampleSize = 30;

    /// <summary>
    /// The promotion policy. A candidate must beat the champion on two estimators: IPS, unbiased whatever the reward
    /// model, and doubly robust, of lower variance; DR alone can be fooled where the candidate's own q̂ is optimistic
    /// about actions the log rarely tried. The champion's figures are what it earned online on the same decisions. A
    /// candidate with fewer than <see cref="MinimumEffectiveSampleSize"/> effective samples is not judged.
    /// </summary>
    internal static (ModelRecord? Winner, TurnVerdict Verdict, string Reason) Judge(TurnsConfig turns, int champion, OffPolicyEstimates served, IReadOnlyList<ModelRecord> candidates)
    {
        var level = Level(turns);
        var ips = served.Ips.Value;
        var dr = served.Dr.Value;
        static string Figures(ModelRecord m) => string.Create(CultureInfo.InvariantCulture,
            $"v{m.Version} ({m.Reason}): IPS {m.Estimates!.Ips.Value:F4} [{m.Estimates.Ips.Lower:F4}, {m.Estimates.Ips.Upper:F4}], DR {m.Estimates.Dr.Value:F4} [{m.Estimates.Dr.Lower:F4}, {m.Estimates.Dr.Upper:F4}], ESS {m.Estimates.EffectiveSampleSize:F0}");
        var championText = string.Create(CultureInfo.InvariantCulture,
            $"champion v{champion} earned {ips:F4} online on the same {served.Count} decisions (DR {dr:F4})");
        var judged = candidates.Where(m => m.Estimates!.EffectiveSampleSize >= MinimumEffectiveSampleSize).ToList();
        if (judged.Count == 0)
        {
            return (null, TurnVerdict.Rejected, string.Create(CultureInfo.InvariantCulture,
                $"no candidate has {MinimumEffectiveSampleSize} effective samples on this window; {championText}"));
        }
        // Rank by the weaker of the two margins, so the winner is the one most clearly better on both.
        static double Margin(ModelRecord m, double ips, double dr, bool lower)
            => lower ? Math.Min(m.Estimates!.Ips.Lower - ips, m.Estimates.Dr.Lower - dr) : Math.Min(m.Estimates!.Ips.Value - ips, m.Estimates.Dr.Value - dr);
        switch (turns.PromoteWhen)
        {
            case PromotionPolicy.Manual:
                var first = judged.OrderByDescending(m => Margin(m, ips, dr, lower: true)).First();
                return (null, TurnVerdict.AwaitingManualPromotion, $"turns.promoteWhen is manual; best candidate {Figures(first)}; {championText}");
            case PromotionPolicy.EstimateBeatsChampion:
                var top = judged.OrderByDescending(m => Margin(m, ips, dr, lower: false)).First();
                return Margin(top, ips, dr, lower: false) > 0
                    ? (top, TurnVerdict.Promoted, $"its IPS and DR estimates beat the champion: {Figures(top)}; {championText}")
                    : (null, TurnVerdict.Rejected, $"no candidate's IPS and DR estimates both beat the champion: best {Figures(top)}; {championText}");
            default:
                var best = judged.OrderByDescending(m => Margin(m, ips, dr, lower: true)).First();
                return Margin(best, ips, dr, lower: true) > 0
                    ? (best, TurnVerdict.Promoted, $"the {level} lower bounds of IPS and DR beat the champion: {Figures(best)}; {championText}")
                    : (null, TurnVerdict.Rejected, $"no candidate's {level} lower bounds of IPS and DR both beat the champion: best {Figures(best)}; {championText}");
        }
    }

    private sealed class ReplayWindow
    {
        public OffPolicyAccumulator Logged;
        public OffPolicyAccumulator Uniform;
        public OffPolicyAccumulator Baseline;
        public DataWindow Window = null!;
    }

    /// <summary>
    /// Replays rewards 1…<paramref name="through"/> into every learner; those after <paramref name="after"/> are judged
    /// first. A reward is learned only once its window had closed before the decision being judged was made, so each
    /// learner judges with what it would have known live.
    /// </summary>
    private async Task<ReplayWindow> ReplayAsync(string loop, LoopConfig config, long after, long through, CandidateReplay replica, IReadOnlyList<CandidateReplay> candidates, CancellationToken cancellationToken)
    {
        var result = new ReplayWindow();
        var pending = new Queue<ReplayRow>();
        DateTimeOffset? from = null, to = null;
        long decisions = 0, signals = 0;

        // This thread reads and orders the rows; a second one hands each batch of steps to the learners, which run the
        // same steps in the same order, each on its own thread, so the results do not depend on the number of cores.
        CandidateReplay[] learners = [replica, .. candidates];
        var parallel = new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount };
        var batches = Channel.CreateBounded<List<(ReplayRow Row, bool Judge)>>(new BoundedChannelOptions(2) { SingleReader = true, SingleWriter = true });
        var consumer = Task.Run(async () =>
        {
            try
            {
                await foreach (var batch in batches.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                {
                    RunSteps(batch);
                }
            }
            catch (Exception ex)
            {
                // Stop the reader too: it would otherwise wait for room in the channel forever.
                batches.Writer.TryComplete(ex);
                throw;
            }
        }, cancellationToken);
        void RunSteps(List<(ReplayRow Row, bool Judge)> batch)
        {
            Parallel.For(0, learners.Length, parallel, i =>
            {
                var learner = learners[i];
                foreach (var (row, judge) in batch)
                {
                    if (!judge)
                    {
                        learner.Learn(row);
                        continue;
                    }
                    learner.Evaluate(row);
                    if (i == 0)
                    {
                        replica.AddReferences(row, ref result.Logged, ref result.Uniform, ref result.Baseline);
                    }
                }
            });
        }

        var steps = new List<(ReplayRow Row, bool Judge)>(ReplayBatch + 64);
        try
        {
            await foreach (var (decision, reward) in _store!.ReadRewardsAsync(loop, 0, cancellationToken).ConfigureAwait(false))
            {
                if (reward.Sequence > through)
                {
                    break;
                }
                var row = new ReplayRow();
                if (!row.Set(decision, reward, config.Turns, config.Reward))
                {
                    continue;
                }
                while (pending.TryPeek(out var closed) && closed.ClosedAt <= row.DecidedAt)
                {
                    steps.Add((pending.Dequeue(), false));
                }
                if (reward.Sequence > after)
                {
                    steps.Add((row, true));
                    from = from is null || decision.At < from ? decision.At : from;
                    to = to is null || decision.At > to ? decision.At : to;
                    decisions++;
                    signals += reward.SignalCount;
                }
                pending.Enqueue(row);
                if (steps.Count >= ReplayBatch)
                {
                    await batches.Writer.WriteAsync(steps, cancellationToken).ConfigureAwait(false);
                    steps = new List<(ReplayRow Row, bool Judge)>(ReplayBatch + 64);
                }
            }
            while (pending.Count > 0)
            {
                steps.Add((pending.Dequeue(), false));
            }
            await batches.Writer.WriteAsync(steps, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            // The learners failed; their exception comes out of the consumer below.
        }
        finally
        {
            batches.Writer.TryComplete();
        }
        await consumer.ConfigureAwait(false);
        result.Window = new DataWindow { AfterSequence = after, ThroughSequence = through, From = from, To = to, Decisions = decisions, Signals = signals };
        return result;
    }

    /// <summary>Replay steps handed to the learners at a time.</summary>
    private const int ReplayBatch = 2048;

    /// <summary>
    /// Makes <paramref name="model"/> the champion: its weights (stored, trained through its position) catch up on the
    /// rewards learned since and replace the serving model and settings at once; the old champion's weights are kept
    /// for a rollback.
    /// </summary>
    private async Task DeployAsync(LoopRuntime runtime, ModelRecord model, string promotedReason, string retiredReason, CancellationToken cancellationToken)
    {
        var store = _store!;
        var data = await store.LoadModelDataAsync(runtime.Id, model.Version, cancellationToken).ConfigureAwait(false);
        if (data is null || model.TrainedThrough is null)
        {
            throw new FlywheelValidationException("version", $"model version {model.Version} has no stored weights (only the latest turn's candidates and past champions keep theirs)") { Kind = ValidationKind.Conflict };
        }
        var learner = ModelSnapshot.Load(data, model.Learner, model.Exploration);
        await _putLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var previous = runtime.ModelVersion;
            var config = runtime.Config with { Learner = model.Learner, Exploration = model.Exploration };
            await store.SaveLoopAsync(config, cancellationToken).ConfigureAwait(false);
            var swap = new LearnSwap(runtime, config, learner, model.TrainedThrough.Value, model.Version);
            await _learn.Writer.WriteAsync(swap, cancellationToken).ConfigureAwait(false);
            // From here the swap happens whatever the caller does, so the registry and the ledger are written in full.
            var (oldData, oldThrough) = await swap.Done.Task.ConfigureAwait(false);
            var now = _time.GetUtcNow();
            var models = await store.LoadModelsAsync(runtime.Id, CancellationToken.None).ConfigureAwait(false);
            if (models.FirstOrDefault(m => m.Version == previous) is { } old)
            {
                await store.SaveModelAsync(old with { Status = ModelStatus.Retired, StatusChangedAt = now, Reason = retiredReason, TrainedThrough = oldThrough }, CancellationToken.None).ConfigureAwait(false);
                await store.SaveModelDataAsync(runtime.Id, previous, oldData, CancellationToken.None).ConfigureAwait(false);
            }
            await store.SaveModelAsync(model with { Status = ModelStatus.Champion, StatusChangedAt = now, Reason = promotedReason }, CancellationToken.None).ConfigureAwait(false);
            if (model.Status == ModelStatus.Shadow)
            {
                await RefreshShadowsAsync(runtime, CancellationToken.None).ConfigureAwait(false);
            }
        }
        finally
        {
            _putLock.Release();
        }
    }

    /// <summary>
    /// Measures the online reward of a champion deployed by a ledger entry against its predecessor's once it has served
    /// <c>turns.minDecisions</c> rewarded decisions; rolls back when it is worse with confidence.
    /// </summary>
    private async Task CheckDeploymentAsync(LoopRuntime runtime, CancellationToken cancellationToken)
    {
        var store = _store!;
        // The deploy being watched is among the newest entries: a later deploy replaces it.
        var turns = await store.LoadLatestTurnsAsync(runtime.Id, 16, cancellationToken).ConfigureAwait(false);
        var entry = turns.LastOrDefault(t => t.DeployedVersion is not null);
        if (entry is null || entry.Lift is not null || entry.DeployedVersion != runtime.ModelVersion || entry.Window is null || entry.DeployedAt is null
            || entry.Verdict is not (TurnVerdict.Promoted or TurnVerdict.ManuallyPromoted or TurnVerdict.Graduated))
        {
            return;
        }
        var config = runtime.Config;
        var graduated = entry.Verdict == TurnVerdict.Graduated;
        if (graduated && config.Mode != LoopMode.Online)
        {
            return;
        }
        var predecessor = entry.ChampionVersion;
        var deployed = entry.DeployedVersion.Value;
        var deployedAt = entry.DeployedAt.Value;
        RunningMean before = default, afterDeploy = default;
        await foreach (var (decision, reward) in store.ReadRewardsAsync(runtime.Id, entry.Window.AfterSequence, cancellationToken).ConfigureAwait(false))
        {
            // Before: what the predecessor (or, for a graduation, the baseline) earned on the judged window.
            if (reward.Sequence <= entry.Window.ThroughSequence && decision.ModelVersion == predecessor)
            {
                before.Add(reward.Reward);
            }
            else if (decision.ModelVersion == deployed && decision.At >= deployedAt)
            {
                afterDeploy.Add(reward.Reward);
            }
        }
        if (afterDeploy.Count < config.Turns.MinDecisions || before.Count < 2)
        {
            return;
        }
        var z = Estimate.ZFor(config.Turns.Confidence);
        var difference = afterDeploy.Mean - before.Mean;
        var half = z * Math.Sqrt(afterDeploy.Variance / afterDeploy.Count + before.Variance / before.Count);
        var lift = new OnlineLift
        {
            Version = deployed,
            PredecessorVersion = predecessor,
            Decisions = afterDeploy.Count,
            Mean = afterDeploy.Mean,
            PredecessorDecisions = before.Count,
            PredecessorMean = before.Mean,
            Difference = new Estimate(difference, difference - half, difference + half),
            Relative = before.Mean == 0 ? double.NaN : difference / Math.Abs(before.Mean),
            MeasuredAt = _time.GetUtcNow(),
        };
        await store.SaveTurnAsync(entry with { Lift = lift }, cancellationToken).ConfigureAwait(false);
        if (lift.Difference.Upper < 0 && graduated)
        {
            await RevertGraduationAsync(runtime, lift, cancellationToken).ConfigureAwait(false);
        }
        else if (lift.Difference.Upper < 0)
        {
            var level = Level(config.Turns);
            var why = string.Create(CultureInfo.InvariantCulture,
                $"guardrail: online reward {lift.Mean:F4} over {lift.Decisions} decisions is below v{predecessor}'s {lift.PredecessorMean:F4} over {lift.PredecessorDecisions}; difference {difference:F4}, {level} interval [{lift.Difference.Lower:F4}, {lift.Difference.Upper:F4}]");
            await RollbackCoreAsync(runtime, TurnTrigger.Guardrail, why, lift, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The confidence level as text, such as <c>95%</c>.</summary>
    private static string Level(TurnsConfig turns) => (turns.Confidence * 100).ToString("0.##", CultureInfo.InvariantCulture) + "%";

    /// <summary>Stores and serves the loop's config with another mode (graduation and its reversal).</summary>
    private async Task SetModeAsync(LoopRuntime runtime, LoopMode mode, CancellationToken cancellationToken)
    {
        await _putLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var config = runtime.Config with { Mode = mode };
            await _store!.SaveLoopAsync(config, cancellationToken).ConfigureAwait(false);
            runtime.SwapConfig(config);
        }
        finally
        {
            _putLock.Release();
        }
    }

    /// <summary>A graduated loop that serves worse than its baseline did goes back to apprentice mode.</summary>
    private async Task RevertGraduationAsync(LoopRuntime runtime, OnlineLift lift, CancellationToken cancellationToken)
    {
        var started = _time.GetUtcNow();
        await SetModeAsync(runtime, LoopMode.Apprentice, cancellationToken).ConfigureAwait(false);
        var level = Level(runtime.Config.Turns);
        var entry = new TurnRecord
        {
            Loop = runtime.Id,
            Number = await NextTurnNumberAsync(runtime, CancellationToken.None).ConfigureAwait(false),
            Trigger = TurnTrigger.Guardrail,
            StartedAt = started,
            FinishedAt = _time.GetUtcNow(),
            ChampionVersion = runtime.ModelVersion,
            Verdict = TurnVerdict.RolledBack,
            Reason = string.Create(CultureInfo.InvariantCulture,
                $"guardrail: after graduating, online reward {lift.Mean:F4} over {lift.Decisions} decisions is below the baseline's {lift.PredecessorMean:F4} over {lift.PredecessorDecisions}; difference {lift.Difference.Value:F4}, {level} interval [{lift.Difference.Lower:F4}, {lift.Difference.Upper:F4}]; back to apprentice mode"),
            DeployedVersion = runtime.ModelVersion,
            DeployedAt = _time.GetUtcNow(),
            Lift = lift,
        };
        await _store!.SaveTurnAsync(entry, CancellationToken.None).ConfigureAwait(false);
        LogRolledBack(runtime.Id, runtime.ModelVersion, runtime.ModelVersion, entry.Reason);
    }

    /// <summary>Welford's running mean and variance.</summary>
    private struct RunningMean
    {
        private double _m2;

        public long Count { get; private set; }

        public double Mean { get; private set; }

        public readonly double Variance => Count > 1 ? _m2 / (Count - 1) : 0;

        public void Add(double x)
        {
            Count++;
            var d = x - Mean;
            Mean += d / Count;
            _m2 += d * (x - Mean);
        }
    }

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

    private void StartTurnSchedule()
    {
        if (_options.ScheduleTurns)
        {
            _turnTimer = _time.CreateTimer(_ => OnTurnTimer(), null, _options.TurnCheckInterval, _options.TurnCheckInterval);
        }
    }

    private void OnTurnTimer()
    {
        if (Interlocked.Exchange(ref _turnCheckRunning, 1) == 0)
        {
            _turnCheck = Task.Run(CheckTurnsAsync);
        }
    }

    /// <summary>For each loop: measure a pending deployment, then run a turn when one is due.</summary>
    private async Task CheckTurnsAsync()
    {
        try
        {
            List<LoopRuntime> loops;
            lock (_loopsLock)
            {
                loops = [.. _loops.Values];
            }
            var token = _stopping.Token;
            await _turnLock.WaitAsync(token).ConfigureAwait(false);
            try
            {
                foreach (var runtime in loops)
                {
                    try
                    {
                        await CheckDeploymentAsync(runtime, token).ConfigureAwait(false);
                        var latest = await _store!.LoadLatestTurnsAsync(runtime.Id, 1, token).ConfigureAwait(false);
                        var last = latest.Count > 0 ? latest[^1].FinishedAt : runtime.CreatedAt;
                        if (_time.GetUtcNow() - last >= TimeSpan.FromSeconds(runtime.Config.Turns.EverySeconds))
                        {
                            await RunTurnCoreAsync(runtime, TurnTrigger.Schedule, token).ConfigureAwait(false);
                        }
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        LogTurnFailed(ex, runtime.Id);
                    }
                }
            }
            finally
            {
                _turnLock.Release();
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Loop {Loop}: turn {Turn} promoted v{Version}: {Reason}")]
    private partial void LogPromoted(string loop, long turn, int version, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Loop {Loop}: v{From} rolled back to v{To}: {Reason}")]
    private partial void LogRolledBack(string loop, int from, int to, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Loop {Loop}: the scheduled turn failed; the next check retries.")]
    private partial void LogTurnFailed(Exception exception, string loop);
}

using Flywheel.Core;
using Flywheel.Evaluation;

namespace Flywheel.Engine;

/// <summary>
/// Shadow mode: registered models that score every live decision without being served, and what they show (the
/// shadow report and the mismatches worth keeping).
/// </summary>
internal sealed class ShadowService(TimeProvider time, IFlywheelStore store, ModelRegistry registry)
{
    /// <summary>Makes a model with stored weights a shadow: from now on it scores every decision, and each decision records what it would have served.</summary>
    public async ValueTask<ModelRecord> ShadowAsync(LoopRuntime runtime, int version, CancellationToken cancellationToken)
    {
        await registry.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (runtime.Config.Kind == LoopKind.Rank)
            {
                throw new FlywheelValidationException("version", $"loop '{runtime.Id}' ranks; shadow mode compares one chosen action and does not cover rankings yet: judge a ranker with a turn or with evaluate") { Kind = ValidationKind.NotSupported };
            }
            TurnRunner.NoTurnsForAbility(runtime);
            var model = await registry.FindAsync(runtime, version, cancellationToken).ConfigureAwait(false);
            if (model.Status == ModelStatus.Champion)
            {
                throw new FlywheelValidationException("version", $"model version {version} is the champion; it already serves") { Kind = ValidationKind.Conflict };
            }
            await registry.LoadWeightsAsync(runtime, version, cancellationToken).ConfigureAwait(false);
            var now = time.GetUtcNow();
            var shadow = model with { Status = ModelStatus.Shadow, StatusChangedAt = now, Reason = "scores every decision in shadow mode" };
            await store.SaveModelAsync(shadow, cancellationToken).ConfigureAwait(false);
            await RefreshAsync(runtime, cancellationToken).ConfigureAwait(false);
            return shadow;
        }
        finally
        {
            registry.Lock.Release();
        }
    }

    /// <summary>Retires a shadow or a candidate. The champion cannot be retired: promote another model or roll back.</summary>
    public async ValueTask<ModelRecord> RetireAsync(LoopRuntime runtime, int version, string? reason, CancellationToken cancellationToken)
    {
        await registry.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (runtime.Config.Kind == LoopKind.Rank)
            {
                throw new FlywheelValidationException("version", $"loop '{runtime.Id}' ranks; shadow mode compares one chosen action and does not cover rankings yet: judge a ranker with a turn or with evaluate") { Kind = ValidationKind.NotSupported };
            }
            var model = await registry.FindAsync(runtime, version, cancellationToken).ConfigureAwait(false);
            if (model.Status == ModelStatus.Champion)
            {
                throw new FlywheelValidationException("version", $"model version {version} is the champion; promote another model or roll back instead") { Kind = ValidationKind.Conflict };
            }
            var retired = model with
            {
                Status = ModelStatus.Retired,
                StatusChangedAt = time.GetUtcNow(),
                Reason = string.IsNullOrWhiteSpace(reason) ? "retired by hand" : $"retired by hand: {reason}",
            };
            await store.SaveModelAsync(retired, cancellationToken).ConfigureAwait(false);
            await RefreshAsync(runtime, cancellationToken).ConfigureAwait(false);
            return retired;
        }
        finally
        {
            registry.Lock.Release();
        }
    }

    /// <summary>The shadow report over the rewarded decisions the model scored.</summary>
    public async ValueTask<ShadowReport> GetReportAsync(LoopRuntime runtime, int version, CancellationToken cancellationToken)
    {
        var model = await registry.FindAsync(runtime, version, cancellationToken).ConfigureAwait(false);
        var config = runtime.Config;
        var accumulator = new OffPolicyAccumulator();
        long agreements = 0, mismatches = 0;
        double served = 0;
        await foreach (var (decision, reward) in store.ReadRewardsAsync(runtime.Id, 0, cancellationToken).ConfigureAwait(false))
        {
            if (Find(decision.Shadows, version) is not { } choice)
            {
                continue;
            }
            var p = decision.ChosenProbability;
            accumulator.Add(choice.ServedProbability / p, reward.Reward, 0, 0);
            served += reward.Reward;
            if (choice.ActionId == decision.ChosenActionId)
            {
                agreements++;
            }
            else if (Mismatch.Judge(reward.Reward, config.Reward) is not null)
            {
                mismatches++;
            }
        }
        var n = accumulator.Count;
        if (n == 0 && model.Status == ModelStatus.Champion)
        {
            // A champion that once shadowed keeps its report; one that never did has nothing to compare with.
            throw new FlywheelValidationException("version", $"model version {version} is the champion and never ran as a shadow: it has no shadow report (its live figures are in the loop's health report)") { Kind = ValidationKind.Conflict };
        }
        return new ShadowReport
        {
            Loop = runtime.Id,
            Version = version,
            Decisions = n,
            Agreements = agreements,
            AgreementRate = n == 0 ? double.NaN : (double)agreements / n,
            Estimates = n == 0 ? null : accumulator.GetEstimatesWithin(Estimate.Z95, config.Reward.Min, config.Reward.Max),
            ServedMean = n == 0 ? double.NaN : served / n,
            Mismatches = mismatches,
        };
    }

    /// <summary>The latest <paramref name="limit"/> mismatches of one shadow (or of any), oldest first.</summary>
    public async ValueTask<IReadOnlyList<Mismatch>> ListMismatchesAsync(LoopRuntime runtime, int? version, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        if (version is { } v)
        {
            await registry.FindAsync(runtime, v, cancellationToken).ConfigureAwait(false);
        }
        var config = runtime.Config;
        var latest = new Queue<Mismatch>();
        await foreach (var (decision, reward) in store.ReadRewardsAsync(runtime.Id, 0, cancellationToken).ConfigureAwait(false))
        {
            foreach (var choice in decision.Shadows)
            {
                if ((version is null || choice.Version == version) && choice.ActionId != decision.ChosenActionId
                    && Mismatch.Judge(reward.Reward, config.Reward) is { } wrong)
                {
                    if (latest.Count == limit)
                    {
                        latest.Dequeue();
                    }
                    latest.Enqueue(new Mismatch
                    {
                        DecisionId = decision.DecisionId,
                        At = decision.At,
                        Version = choice.Version,
                        ServedActionId = decision.ChosenActionId,
                        ShadowActionId = choice.ActionId,
                        Reward = reward.Reward,
                        Wrong = wrong,
                    });
                }
            }
        }
        return [.. latest];
    }

    private static ShadowChoice? Find(IReadOnlyList<ShadowChoice> shadows, int version)
    {
        foreach (var s in shadows)
        {
            if (s.Version == version)
            {
                return s;
            }
        }
        return null;
    }

    /// <summary>Loads every model with status shadow (and stored weights) into the serving state.</summary>
    public async ValueTask RefreshAsync(LoopRuntime runtime, CancellationToken cancellationToken)
    {
        var shadows = new List<ShadowPolicy>();
        foreach (var model in (await store.LoadModelsAsync(runtime.Id, cancellationToken).ConfigureAwait(false)).Where(m => m.Status == ModelStatus.Shadow))
        {
            if (await store.LoadModelDataAsync(runtime.Id, model.Version, cancellationToken).ConfigureAwait(false) is { } data)
            {
                var learner = runtime.Kind.LoadLearner(data, model.Learner, model.Exploration);
                shadows.Add(new ShadowPolicy(model.Version, learner.Publish(model.Version), model.Exploration));
            }
        }
        runtime.SwapShadows(shadows);
    }
}

using Flywheel.Core;
using Flywheel.Evaluation;
using Flywheel.Learning;

namespace Flywheel.Engine;

// Shadow mode: registered models that score every live decision without being served, and what they show.
public sealed partial class FlywheelEngine
{
    /// <inheritdoc />
    /// <remarks>From now on it scores every decision of the loop, and each decision records what it would have served.</remarks>
    public async ValueTask<ModelRecord> ShadowAsync(string loop, int version, CancellationToken cancellationToken = default)
    {
        var runtime = await GetRuntimeAsync(loop, cancellationToken).ConfigureAwait(false);
        await _turnLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var model = await FindModelAsync(runtime, version, cancellationToken).ConfigureAwait(false);
            if (model.Status == ModelStatus.Champion)
            {
                throw new FlywheelValidationException("version", $"model version {version} is the champion; it already serves") { Kind = ValidationKind.Conflict };
            }
            if (await _store!.LoadModelDataAsync(runtime.Id, version, cancellationToken).ConfigureAwait(false) is null)
            {
                throw new FlywheelValidationException("version", $"model version {version} has no stored weights (only the latest turn's candidates and past champions keep theirs)") { Kind = ValidationKind.Conflict };
            }
            var now = _time.GetUtcNow();
            var shadow = model with { Status = ModelStatus.Shadow, StatusChangedAt = now, Reason = "scores every decision in shadow mode" };
            await _store.SaveModelAsync(shadow, cancellationToken).ConfigureAwait(false);
            await RefreshShadowsAsync(runtime, cancellationToken).ConfigureAwait(false);
            return shadow;
        }
        finally
        {
            _turnLock.Release();
        }
    }

    /// <inheritdoc />
    /// <remarks>The champion cannot be retired: promote another model or roll back.</remarks>
    public async ValueTask<ModelRecord> RetireAsync(string loop, int version, string? reason = null, CancellationToken cancellationToken = default)
    {
        var runtime = await GetRuntimeAsync(loop, cancellationToken).ConfigureAwait(false);
        await _turnLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var model = await FindModelAsync(runtime, version, cancellationToken).ConfigureAwait(false);
            if (model.Status == ModelStatus.Champion)
            {
                throw new FlywheelValidationException("version", $"model version {version} is the champion; promote another model or roll back instead") { Kind = ValidationKind.Conflict };
            }
            var retired = model with
            {
                Status = ModelStatus.Retired,
                StatusChangedAt = _time.GetUtcNow(),
                Reason = string.IsNullOrWhiteSpace(reason) ? "retired by hand" : $"retired by hand: {reason}",
            };
            await _store!.SaveModelAsync(retired, cancellationToken).ConfigureAwait(false);
            await RefreshShadowsAsync(runtime, cancellationToken).ConfigureAwait(false);
            return retired;
        }
        finally
        {
            _turnLock.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask<ShadowReport> GetShadowReportAsync(string loop, int version, CancellationToken cancellationToken = default)
    {
        var runtime = await GetRuntimeAsync(loop, cancellationToken).ConfigureAwait(false);
        await FindModelAsync(runtime, version, cancellationToken).ConfigureAwait(false);
        var config = runtime.Config;
        var accumulator = new OffPolicyAccumulator();
        long agreements = 0, mismatches = 0;
        double served = 0;
        await foreach (var (decision, reward) in _store!.ReadRewardsAsync(runtime.Id, 0, cancellationToken).ConfigureAwait(false))
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
        return new ShadowReport
        {
            Loop = runtime.Id,
            Version = version,
            Decisions = n,
            Agreements = agreements,
            AgreementRate = n == 0 ? double.NaN : (double)agreements / n,
            Estimates = n == 0 ? null : accumulator.GetEstimates(),
            ServedMean = n == 0 ? double.NaN : served / n,
            Mismatches = mismatches,
        };
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<Mismatch>> ListMismatchesAsync(string loop, int? version = null, int limit = 100, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var runtime = await GetRuntimeAsync(loop, cancellationToken).ConfigureAwait(false);
        if (version is { } v)
        {
            await FindModelAsync(runtime, v, cancellationToken).ConfigureAwait(false);
        }
        var config = runtime.Config;
        var latest = new Queue<Mismatch>();
        await foreach (var (decision, reward) in _store!.ReadRewardsAsync(runtime.Id, 0, cancellationToken).ConfigureAwait(false))
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

    /// <summary>Examples a registered model's stored weights have learned (tests check mismatch up-weighting with it).</summary>
    internal async ValueTask<long> CandidateExamplesAsync(string loop, int version, CancellationToken cancellationToken = default)
    {
        var runtime = await GetRuntimeAsync(loop, cancellationToken).ConfigureAwait(false);
        var model = await FindModelAsync(runtime, version, cancellationToken).ConfigureAwait(false);
        var data = await _store!.LoadModelDataAsync(runtime.Id, version, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"model version {version} has no stored weights");
        return ModelSnapshot.Load(data, model.Learner, model.Exploration).Examples;
    }

    /// <summary>True when some shadow disagreed with the served action and the reward shows one of them was clearly wrong.</summary>
    internal static bool IsMismatch(DecisionRecord decision, double reward, RewardConfig config)
    {
        foreach (var choice in decision.Shadows)
        {
            if (choice.ActionId != decision.ChosenActionId)
            {
                return Mismatch.Judge(reward, config) is not null;
            }
        }
        return false;
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

    private async ValueTask<ModelRecord> FindModelAsync(LoopRuntime runtime, int version, CancellationToken cancellationToken)
    {
        await EnsureChampionRegisteredAsync(runtime, cancellationToken).ConfigureAwait(false);
        var models = await _store!.LoadModelsAsync(runtime.Id, cancellationToken).ConfigureAwait(false);
        return models.FirstOrDefault(m => m.Version == version)
            ?? throw new FlywheelValidationException("version", $"loop '{runtime.Id}' has no model version {version}") { Kind = ValidationKind.NotFound };
    }

    /// <summary>Loads every model with status shadow (and stored weights) into the serving state.</summary>
    private async ValueTask RefreshShadowsAsync(LoopRuntime runtime, CancellationToken cancellationToken)
    {
        var shadows = new List<ShadowPolicy>();
        foreach (var model in (await _store!.LoadModelsAsync(runtime.Id, cancellationToken).ConfigureAwait(false)).Where(m => m.Status == ModelStatus.Shadow))
        {
            if (await _store.LoadModelDataAsync(runtime.Id, model.Version, cancellationToken).ConfigureAwait(false) is { } data)
            {
                var learner = ModelSnapshot.Load(data, model.Learner, model.Exploration);
                shadows.Add(new ShadowPolicy(model.Version, learner.ToServingModel(model.Version), model.Learner, model.Exploration));
            }
        }
        runtime.SwapShadows(shadows);
    }
}

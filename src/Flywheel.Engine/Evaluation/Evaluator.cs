using System.Runtime.CompilerServices;
using Flywheel.Core;
using Flywheel.Evaluation.Slates;
using Flywheel.Evaluation;
using Flywheel.Learning;

namespace Flywheel.Engine;

/// <summary>Export of joined training data, and off-policy evaluation of the loop's policies over a time range.</summary>
internal sealed class Evaluator(IFlywheelStore store)
{
    /// <summary>The loop's rewarded decisions in a time range, optionally with a policy's probabilities and reward estimates.</summary>
    public async IAsyncEnumerable<LoggedDecision> ExportAsync(LoopRuntime runtime, ExportRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        CheckRange(request.From, request.To);
        var policy = request.Policy is null ? null : await OpenPolicyAsync(runtime, request.Policy, "policy", cancellationToken).ConfigureAwait(false);
        var ranks = runtime.Config.Kind == LoopKind.Rank;
        await foreach (var (decision, reward) in store.ReadRewardsAsync(runtime.Id, 0, cancellationToken).ConfigureAwait(false))
        {
            if (ranks)
            {
                if (Decisions.InRange(decision.At, request.From, request.To) && RankRow(runtime, decision, reward, policy) is { } ranked)
                {
                    yield return ranked;
                }
                continue;
            }
            if (!Decisions.InRange(decision.At, request.From, request.To)
                || (request.MismatchesOnly && !Decisions.IsMismatch(decision, reward.Reward, runtime.Config.Reward))
                || !Decisions.IsEvaluable(decision))
            {
                continue;
            }
            var row = new LoggedDecision
            {
                DecisionId = decision.DecisionId,
                Context = decision.Context,
                Actions = decision.Actions,
                ChosenActionId = decision.ChosenActionId,
                Probability = decision.ChosenProbability,
                Reward = reward.Reward,
            };
            if (policy is not null)
            {
                policy.Score(decision);
                var target = new Dictionary<string, double>(decision.Actions.Count, StringComparer.Ordinal);
                var estimates = new Dictionary<string, double>(decision.Actions.Count, StringComparer.Ordinal);
                for (var a = 0; a < decision.Actions.Count; a++)
                {
                    target[decision.Actions[a].Id] = policy.Probabilities[a];
                    estimates[decision.Actions[a].Id] = policy.Rewards[a];
                }
                row = row with { TargetProbabilities = target, RewardEstimates = estimates };
            }
            yield return row;
        }
    }

    /// <summary>
    /// A rank decision as a logged ranking: its served slots, their rewards and, with a policy, that policy's slot
    /// probabilities and reward model (<see cref="RankingEvaluation"/>); null when it cannot be evaluated.
    /// </summary>
    private static LoggedDecision? RankRow(LoopRuntime runtime, DecisionRecord decision, RewardRecord reward, PolicyScorer? policy)
    {
        var row = new ReplayRow();
        if (!row.Set(runtime.Kind, decision, reward, runtime.Config.Turns, runtime.Config.Reward, prepare: false))
        {
            return null;
        }
        var logged = new LoggedDecision
        {
            DecisionId = decision.DecisionId,
            Context = decision.Context,
            Actions = decision.Actions,
            ChosenActionId = decision.Ranking[0].ActionId,
            Probability = decision.Ranking[0].Probability,
            Reward = reward.Reward,
            Ranking = decision.Ranking,
            SlotRewards = [.. reward.Slots!.Select(s => s.Reward)],
        };
        if (policy is null)
        {
            return logged;
        }
        var slate = policy.Slate(row, runtime.Config);
        var target = new double[slate.Slots];
        for (var l = 0; l < target.Length; l++)
        {
            target[l] = slate.TargetPrefix[l] / (l == 0 ? 1 : slate.TargetPrefix[l - 1]);
        }
        return logged with { TargetSlotProbabilities = target, SlotRewardEstimates = slate.ModelReward, SlotExpectedRewards = slate.ModelRewardUnderTarget };
    }

    /// <summary>IPS, SNIPS, DM and DR of each named policy over the decisions made in a time range.</summary>
    public async ValueTask<EvaluationReport> EvaluateAsync(LoopRuntime runtime, EvaluateRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        CheckRange(request.From, request.To);
        if (request.Policies is null || request.Policies.Count == 0)
        {
            throw new FlywheelValidationException("policies", "must name at least one policy");
        }
        var champion = await OpenPolicyAsync(runtime, "champion", "policies", cancellationToken).ConfigureAwait(false);
        var policies = new PolicyScorer?[request.Policies.Count];
        for (var i = 0; i < policies.Length; i++)
        {
            var name = request.Policies[i];
            if (name is "logged" or "uniform" or "baseline")
            {
                continue;
            }
            policies[i] = name == "champion" ? champion : await OpenPolicyAsync(runtime, name, $"policies[{i}]", cancellationToken).ConfigureAwait(false);
        }
        if (runtime.Config.Kind == LoopKind.Rank)
        {
            return await EvaluateRankingsAsync(runtime, request, champion, policies, cancellationToken).ConfigureAwait(false);
        }
        var accumulators = new OffPolicyAccumulator[policies.Length];
        long decisions = 0;
        await foreach (var (decision, reward) in store.ReadRewardsAsync(runtime.Id, 0, cancellationToken).ConfigureAwait(false))
        {
            if (!Decisions.InRange(decision.At, request.From, request.To))
            {
                continue;
            }
            if (!Decisions.IsEvaluable(decision))
            {
                continue;
            }
            var chosen = Decisions.IndexOf(decision.Actions, decision.ChosenActionId);
            var p = decision.ChosenProbability;
            decisions++;
            champion.Score(decision);
            var k = decision.Actions.Count;
            for (var i = 0; i < policies.Length; i++)
            {
                if (policies[i] is { } model)
                {
                    if (!ReferenceEquals(model, champion))
                    {
                        model.Score(decision);
                    }
                    accumulators[i].Add(model.Probabilities[chosen] / p, reward.Reward, model.PolicyEstimate(k), model.Rewards[chosen]);
                    continue;
                }
                var q = champion.Rewards;
                switch (request.Policies[i])
                {
                    case "logged":
                        double served = 0;
                        foreach (var ranked in decision.Ranking)
                        {
                            var a = Decisions.IndexOf(decision.Actions, ranked.ActionId);
                            served += a >= 0 ? ranked.Probability * q[a] : 0;
                        }
                        accumulators[i].Add(1, reward.Reward, served, q[chosen]);
                        break;
                    case "uniform":
                        double mean = 0;
                        for (var a = 0; a < k; a++)
                        {
                            mean += q[a];
                        }
                        accumulators[i].Add(1.0 / k / p, reward.Reward, mean / k, q[chosen]);
                        break;
                    default: // baseline
                        var b = decision.BaselineActionId is null ? -1 : Decisions.IndexOf(decision.Actions, decision.BaselineActionId);
                        if (b >= 0)
                        {
                            accumulators[i].Add(b == chosen ? 1 / p : 0, reward.Reward, q[b], q[chosen]);
                        }
                        break;
                }
            }
        }
        return Report(runtime, request, decisions, i => new PolicyEvaluation
        {
            Policy = request.Policies[i],
            Version = policies[i]?.Version,
            Estimates = accumulators[i].Count > 0 ? accumulators[i].GetEstimatesWithin(Estimate.Z95, runtime.Config.Reward.Min, runtime.Config.Reward.Max) : null,
        });
    }

    /// <summary>The report of <paramref name="decisions"/> evaluated decisions, with each requested policy's evaluation.</summary>
    private static EvaluationReport Report(LoopRuntime runtime, EvaluateRequest request, long decisions, Func<int, PolicyEvaluation> policy) => new()
    {
        Loop = runtime.Id,
        From = request.From,
        To = request.To,
        Decisions = decisions,
        RewardEstimates = "model",
        Policies = [.. Enumerable.Range(0, request.Policies.Count).Select(policy)],
    };

    /// <summary>
    /// A rank loop's evaluation: each policy's rankings judged by the slate estimators as turns judge them (ips = RIPS,
    /// snips = SNRIPS, dr = cascade DR, dm the model along the logged prefixes), with every slate estimator beside them.
    /// <c>baseline</c> does not apply to rankings.
    /// </summary>
    private async ValueTask<EvaluationReport> EvaluateRankingsAsync(LoopRuntime runtime, EvaluateRequest request, PolicyScorer champion, PolicyScorer?[] policies, CancellationToken cancellationToken)
    {
        var config = runtime.Config;
        var accumulators = policies.Select(_ => new SlateAccumulator()).ToArray();
        long decisions = 0;
        var row = new ReplayRow();
        await foreach (var (decision, reward) in store.ReadRewardsAsync(runtime.Id, 0, cancellationToken).ConfigureAwait(false))
        {
            if (!Decisions.InRange(decision.At, request.From, request.To) || !row.Set(runtime.Kind, decision, reward, config.Turns, config.Reward, prepare: false))
            {
                continue;
            }
            decisions++;
            float[]? championCosts = null; // the reward model of the logged and uniform references, scored once a row
            for (var i = 0; i < policies.Length; i++)
            {
                switch (policies[i] is null ? request.Policies[i] : null)
                {
                    case null:
                        accumulators[i].Add(policies[i]!.Slate(row, config));
                        break;
                    case "logged":
                        accumulators[i].Add(RankingEvaluation.Logged(row, championCosts ??= champion.Costs(row), config, champion.Examination(config)));
                        break;
                    case "uniform":
                        accumulators[i].Add(RankingEvaluation.Uniform(row, championCosts ??= champion.Costs(row), config, champion.Examination(config)));
                        break;
                }
            }
        }
        return Report(runtime, request, decisions, i => new PolicyEvaluation
        {
            Policy = request.Policies[i],
            Version = policies[i]?.Version,
            Estimates = accumulators[i].Count > 0 ? accumulators[i].Estimates(Estimate.Z95, config.Reward.Min, config.Reward.Max) : null,
            Rankings = accumulators[i].Count > 0 ? SlateOffPolicy.Report(accumulators[i]) : null,
        });
    }

    private static void CheckRange(DateTimeOffset? from, DateTimeOffset? to)
    {
        if (from is { } f && to is { } t && t < f)
        {
            throw new FlywheelValidationException("to", $"must not be before from ({f:O})");
        }
    }

    /// <summary>A policy's probabilities for one context (tests compute true policy values with it).</summary>
    public async ValueTask<double[]> PolicyProbabilitiesAsync(LoopRuntime runtime, string policy, Features context, IReadOnlyList<ActionCandidate> actions, CancellationToken cancellationToken)
    {
        var scorer = await OpenPolicyAsync(runtime, policy, "policy", cancellationToken).ConfigureAwait(false);
        scorer.Score(context, actions);
        return scorer.Probabilities[..actions.Count];
    }

    /// <summary>A model policy: <c>champion</c> (the serving weights now) or <c>v</c>N (stored weights of a registered model).</summary>
    private async ValueTask<PolicyScorer> OpenPolicyAsync(LoopRuntime runtime, string name, string field, CancellationToken cancellationToken)
    {
        if (runtime.Config.Kind == LoopKind.Ability)
        {
            // Its policy aims at a success rate rather than the most reward, so an estimate of its reward judges nothing.
            throw new FlywheelValidationException(field, $"loop '{runtime.Id}' is of kind 'ability', whose policy aims at a target success rate: off-policy estimates of its reward do not judge it (docs/ability.md)")
            { Kind = ValidationKind.NotSupported };
        }
        if (name == "champion")
        {
            var serving = runtime.Serving;
            return new PolicyScorer(serving.Policy, serving.Config.Exploration, serving.Config.Reward, serving.Config);
        }
        if (name.Length < 2 || name[0] != 'v' || !int.TryParse(name.AsSpan(1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var version))
        {
            throw new FlywheelValidationException(field, $"'{name}' is not a policy: use champion, logged, uniform, baseline or a model version such as v3");
        }
        if (version == runtime.ModelVersion)
        {
            return await OpenPolicyAsync(runtime, "champion", field, cancellationToken).ConfigureAwait(false);
        }
        var models = await store.LoadModelsAsync(runtime.Id, cancellationToken).ConfigureAwait(false);
        var model = models.FirstOrDefault(m => m.Version == version)
            ?? throw new FlywheelValidationException(field, $"loop '{runtime.Id}' has no model version {version}") { Kind = ValidationKind.NotFound };
        var data = await store.LoadModelDataAsync(runtime.Id, version, cancellationToken).ConfigureAwait(false)
            ?? throw new FlywheelValidationException(field, $"model version {version} has no stored weights (only the latest turn's candidates and past champions keep theirs)") { Kind = ValidationKind.Conflict };
        var learner = runtime.Kind.LoadLearner(data, model.Learner, model.Exploration);
        return new PolicyScorer(learner.Publish(version), model.Exploration, runtime.Config.Reward, runtime.Config with { Learner = model.Learner, Exploration = model.Exploration });
    }

    /// <summary>
    /// Scores stored decisions with one model: its exploring distribution and its predicted rewards (−cost, clamped
    /// into the loop's reward range).
    /// </summary>
    private sealed class PolicyScorer(ILoopPolicy policy, ExplorationConfig exploration, RewardConfig reward, LoopConfig config)
    {
        private float[] _costs = new float[16];
        private double[]? _examination;

        public int Version => policy.Version;

        /// <summary>A rank decision's actions' predicted costs under this model (unclamped, as serving ranks them).</summary>
        public float[] Costs(ReplayRow row)
        {
            var costs = new float[row.ActionCount];
            policy.Score(exploration, row.Decision!.Context, row.Decision.Actions, costs, new double[row.ActionCount]);
            return costs;
        }

        /// <summary>The examination probabilities this ranker weighs each slot by, as measured when it was published.</summary>
        public Func<int, double> Examination(LoopConfig loop)
        {
            _examination ??= [.. ((IRankingPolicy)policy).PositionBias(loop).Slots.Select(s => s.Used)];
            var used = _examination;
            return slot => slot <= used.Length ? used[slot - 1] : 1;
        }

        /// <summary>A rank decision under this model's ranking policy.</summary>
        public LoggedSlate Slate(ReplayRow row, LoopConfig loop)
            => RankingEvaluation.Slate(row, Costs(row), config with { Rank = loop.Rank, Reward = loop.Reward }, policy.Examples, Examination(loop));

        public double[] Probabilities { get; private set; } = new double[16];

        public double[] Rewards { get; private set; } = new double[16];

        public double PolicyEstimate(int k)
        {
            double sum = 0;
            for (var a = 0; a < k; a++)
            {
                sum += Probabilities[a] * Rewards[a];
            }
            return sum;
        }

        public void Score(DecisionRecord decision) => Score(decision.Context, decision.Actions);

        public void Score(Features context, IReadOnlyList<ActionCandidate> actions)
        {
            var k = actions.Count;
            if (_costs.Length < k)
            {
                _costs = new float[k];
                Probabilities = new double[k];
                Rewards = new double[k];
            }
            var costs = _costs.AsSpan(0, k);
            policy.Score(exploration, context, actions, costs, Probabilities.AsSpan(0, k));
            RewardEstimates.ClampCosts(costs, reward);
            for (var a = 0; a < k; a++)
            {
                Rewards[a] = -costs[a];
            }
        }
    }
}

using Flywheel.Core;
using Flywheel.Learning;

namespace Flywheel.Engine;

/// <summary>
/// The serving path (docs/architecture.md, decide): scores the actions with the loop's published policy, explores with a draw
/// seeded by the decision id, lets every shadow score the same decision, and logs it through ingest. Never waits for
/// learning. Thread-safe.
/// </summary>
internal sealed class Decider(FlywheelOptions options, TimeProvider time, IngestWriter ingest)
{
    /// <summary>Validates, scores, explores and logs one decision; answers once it is durable.</summary>
    public async ValueTask<Decision> DecideAsync(LoopRuntime runtime, DecideRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ValidateDecide(request);

        var serving = runtime.Serving;
        if (serving.Config.Mode == LoopMode.Apprentice && request.BaselineActionId is null)
        {
            throw new FlywheelValidationException("baselineActionId", $"is required: loop '{runtime.Id}' is in apprentice mode and serves the product's baseline");
        }
        CheckCost(runtime.Id, serving, request);
        var now = time.GetUtcNow();
        if (serving.LearnedThrough > 0 && serving.MarkFirstServed(now))
        {
            runtime.ServingLog.Add(new ServingMark(serving.LearnedThrough, now));
        }
        var decisionId = request.DecisionId ?? Guid.CreateVersion7(now).ToString("N");
        if (serving.Policy is IRankingPolicy ranker)
        {
            return await RankAsync(runtime, ranker, request, decisionId, now, cancellationToken).ConfigureAwait(false);
        }
        if (serving.Policy is IAbilityPolicy tutor)
        {
            return await TutorAsync(runtime, tutor, request, decisionId, now, cancellationToken).ConfigureAwait(false);
        }
        var k = request.Actions.Count;
        var costs = new float[k];
        var pmf = new double[k];
        serving.Policy.Score(serving.Config.Exploration, request.Context, request.Actions, costs, pmf);
        CheckFinite(runtime.Id, costs, pmf);
        if (serving.Config.Mode == LoopMode.Apprentice)
        {
            ApprenticeDistribution(serving.Config.Exploration, Decisions.IndexOf(request.Actions, request.BaselineActionId!), pmf);
        }
        var chosen = Exploration.Sample(pmf, Exploration.UniformFor(runtime.Id, decisionId, options.ExplorationSeed));
        var best = costs.Min();
        var shadows = serving.Shadows.Count == 0 ? [] : ScoreShadows(runtime.Id, decisionId, serving.Shadows, request, chosen);

        // The chosen action first, then the rest from best to worst predicted cost.
        var order = Enumerable.Range(0, k).Where(i => i != chosen).OrderBy(i => costs[i]).ThenBy(i => i);
        var ranking = new List<RankedAction>(k) { new(request.Actions[chosen].Id, pmf[chosen]) };
        ranking.AddRange(order.Select(i => new RankedAction(request.Actions[i].Id, pmf[i])));

        var explored = serving.Config.Mode == LoopMode.Apprentice ? request.Actions[chosen].Id != request.BaselineActionId : costs[chosen] != best;
        var record = Record(runtime.Id, request, decisionId, now, serving.Policy.Version, ranking, explored) with { Shadows = shadows };
        return await LogAsync(runtime, request, record, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The decision as logged: the request's fields, the served ranking and the model, its first action the chosen one.</summary>
    private static DecisionRecord Record(string loop, DecideRequest request, string decisionId, DateTimeOffset now, int version, IReadOnlyList<RankedAction> ranking, bool explored) => new()
    {
        Loop = loop,
        DecisionId = decisionId,
        At = now,
        UserId = request.UserId,
        Context = request.Context,
        Actions = request.Actions,
        BaselineActionId = request.BaselineActionId,
        ChosenActionId = ranking[0].ActionId,
        Explored = explored,
        Ranking = ranking,
        ModelVersion = version,
        TimeZone = request.TimeZone,
    };

    /// <summary>Logs a decision through ingest and answers once it is durable (or the stored answer of a retry).</summary>
    private async ValueTask<Decision> LogAsync(LoopRuntime runtime, DecideRequest request, DecisionRecord record, CancellationToken cancellationToken)
    {
        var write = new DecideWrite(runtime, record, request.DecisionId is not null, DecisionPayload.Serialize(request.Context, request.Actions));
        await ingest.EnqueueAsync(write, cancellationToken).ConfigureAwait(false);
        return await write.Done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A <c>rank</c> loop's decision: the slots filled by <see cref="RankSampler"/> from draws seeded by the decision id,
    /// each with its exact probability, slot 1's action as the chosen one.
    /// </summary>
    private async ValueTask<Decision> RankAsync(LoopRuntime runtime, IRankingPolicy ranker, DecideRequest request, string decisionId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var serving = runtime.Serving;
        var stream = (ulong)(Exploration.UniformFor(runtime.Id, decisionId, options.ExplorationSeed) * (1UL << 53));
        var ranked = ranker.Rank(serving.Config, request.Context, request.Actions, i => Exploration.UniformFor(stream, i));
        var ranking = new RankedAction[ranked.Order.Length];
        for (var slot = 0; slot < ranking.Length; slot++)
        {
            var p = ranked.Probabilities[slot];
            if (!double.IsFinite(p))
            {
                throw new FlywheelValidationException("context", $"the model of loop '{runtime.Id}' cannot score these actions: the features' values are too large for it; scale them down");
            }
            ranking[slot] = new RankedAction(request.Actions[ranked.Order[slot]].Id, p) { Slot = slot + 1 };
        }
        var record = Record(runtime.Id, request, decisionId, now, ranker.Version, ranking, ranked.Explored) with { Intervened = ranked.Intervened };
        return await LogAsync(runtime, request, record, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// An <c>ability</c> loop's decision: the learner's next exercise, the one whose predicted success is nearest their
    /// target (or a due review), drawn by the loop's exploration with its probability logged.
    /// </summary>
    private async ValueTask<Decision> TutorAsync(LoopRuntime runtime, IAbilityPolicy tutor, DecideRequest request, string decisionId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var config = runtime.Serving.Config;
        var userId = request.UserId ?? throw new FlywheelValidationException("userId", $"is required: loop '{runtime.Id}' picks exercises for a learner (kind 'ability')");
        var k = request.Actions.Count;
        var costs = new float[k];
        var pmf = new double[k];
        tutor.Score(config, userId, now, request.Actions, costs, pmf, []);
        CheckFinite(runtime.Id, costs, pmf);
        var chosen = Exploration.Sample(pmf, Exploration.UniformFor(runtime.Id, decisionId, options.ExplorationSeed));
        var order = Enumerable.Range(0, k).Where(i => i != chosen).OrderBy(i => costs[i]).ThenBy(i => i);
        var ranking = new List<RankedAction>(k) { new(request.Actions[chosen].Id, pmf[chosen]) };
        ranking.AddRange(order.Select(i => new RankedAction(request.Actions[i].Id, pmf[i])));
        var record = Record(runtime.Id, request, decisionId, now, tutor.Version, ranking, costs[chosen] != costs.Min());
        return await LogAsync(runtime, request, record, cancellationToken).ConfigureAwait(false);
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
        var choices = new List<ShadowChoice>(shadows.Count);
        var pmf = new double[k];
        var costs = new float[k];
        foreach (var shadow in shadows)
        {
            shadow.Policy.Score(shadow.Exploration, request.Context, request.Actions, costs, pmf);
            if (!AllFinite(pmf))
            {
                continue; // a shadow that cannot score this decision has no choice to compare; the served one stands
            }
            var pick = Exploration.Sample(pmf, Exploration.UniformFor(loop, decisionId, options.ExplorationSeed ^ (0xD1B54A32D192ED03UL * (ulong)shadow.Version)));
            choices.Add(new ShadowChoice(shadow.Version, request.Actions[pick].Id, pmf[pick], pmf[served]));
        }
        return [.. choices];
    }

    private static bool AllFinite(ReadOnlySpan<double> values)
    {
        foreach (var v in values)
        {
            if (!double.IsFinite(v))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Predicted costs under the loop's serving policy, without deciding (tests and audits).</summary>
    public static float[] Score(ServingState serving, Features context, IReadOnlyList<ActionCandidate> actions)
    {
        var costs = new float[actions.Count];
        serving.Policy.Score(serving.Config.Exploration, context, actions, costs, new double[actions.Count]);
        return costs;
    }

    /// <summary>
    /// Refuses a decision the model cannot score: values within the limits can still add up past a float's range, and a
    /// probability that is not a number could neither be served nor stored.
    /// </summary>
    private static void CheckFinite(string loop, ReadOnlySpan<float> costs, ReadOnlySpan<double> pmf)
    {
        for (var i = 0; i < costs.Length; i++)
        {
            if (!float.IsFinite(costs[i]) || !double.IsFinite(pmf[i]))
            {
                throw new FlywheelValidationException("context", $"the model of loop '{loop}' scores action {i} as {costs[i]}: the features' values are too large for it; scale them down");
            }
        }
    }

    /// <summary>Refuses a decision whose scoring, by the served model or a shadow, would compute too many features.</summary>
    private void CheckCost(string loop, ServingState serving, DecideRequest request)
    {
        var limit = options.Limits.MaxFeaturesPerDecision;
        var features = serving.Policy.CountFeatures(request.Context, request.Actions);
        var model = $"v{serving.Policy.Version}";
        foreach (var shadow in serving.Shadows)
        {
            var count = shadow.Policy.CountFeatures(request.Context, request.Actions);
            if (count > features)
            {
                (features, model) = (count, $"shadow v{shadow.Version}");
            }
        }
        if (features > limit)
        {
            throw new FlywheelValidationException("actions",
                $"scoring this decision would compute {features:N0} features ({request.Actions.Count} actions crossed with the context by {model} of loop '{loop}'); "
                + $"the limit is {limit:N0} (FlywheelLimits.MaxFeaturesPerDecision): send fewer actions or features, or fewer learner.interactions")
            { Kind = ValidationKind.TooLarge };
        }
    }

    private void ValidateDecide(DecideRequest request)
    {
        var limits = options.Limits;
        // Ids follow one rule (FlywheelLimits.IsValidId), so whatever is stored can be read back by its id.
        limits.CheckId("decisionId", request.DecisionId, required: false);
        limits.CheckId("userId", request.UserId, required: false);
        if (request.TimeZone is { } zone && !Streaks.IsValidTimeZone(zone))
        {
            throw new FlywheelValidationException("timeZone", $"'{zone}' is not a known IANA time zone such as 'Europe/Paris'");
        }
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
            if (!limits.IsValidId(action.Id))
            {
                limits.CheckId($"actions[{i}].id", action.Id);
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

}

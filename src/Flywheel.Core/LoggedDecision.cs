using System.Text.Json.Serialization;
using Flywheel.Core.Json;
using System.Globalization;

namespace Flywheel.Core;

/// <summary>
/// One logged decision of the off-policy evaluation format (docs/estimators.md): what was shown, with what probability,
/// and the reward that followed; optionally the probabilities a target policy gives every action and reward
/// estimates for every action. <c>flywheel evaluate</c> reads it and <c>flywheel export --format jsonl</c> writes it,
/// one JSON object a line (<see cref="LoggedDecisionJson"/>).
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)]
public sealed record LoggedDecision
{
    /// <summary>
    /// The rounding tolerance of <see cref="TargetProbabilities"/>: their sum must lie within 1 ± 1e-6, and each must
    /// be at least −1e-6 (values this close to 0 are rounding noise and are used as given).
    /// </summary>
    public const double ProbabilitySumTolerance = 1e-6;

    /// <summary>The decision's id.</summary>
    public required string DecisionId { get; init; }

    /// <summary>The context features.</summary>
    public required Features Context { get; init; }

    /// <summary>The candidate actions, ids unique.</summary>
    public required IReadOnlyList<ActionCandidate> Actions { get; init; }

    /// <summary>The action shown; one of <see cref="Actions"/>.</summary>
    public required string ChosenActionId { get; init; }

    /// <summary>The probability with which the logging policy chose <see cref="ChosenActionId"/>, in (0, 1].</summary>
    public required double Probability { get; init; }

    /// <summary>The observed reward (finite).</summary>
    public required double Reward { get; init; }

    /// <summary>
    /// The target policy's probability of each action (actions left out have probability 0), non-negative and summing
    /// to 1, both within <see cref="ProbabilitySumTolerance"/>; null when the evaluator supplies the policy.
    /// </summary>
    public IReadOnlyDictionary<string, double>? TargetProbabilities { get; init; }

    /// <summary>An estimate q̂(x, a) of the reward of every action; null when the evaluator fits a reward model.</summary>
    public IReadOnlyDictionary<string, double>? RewardEstimates { get; init; }

    /// <summary>
    /// A ranking (docs/estimators.md, "Rankings"): the served slots in order, each action with the probability that the
    /// logging policy put it in its slot given the actions above. <see cref="ChosenActionId"/> and
    /// <see cref="Probability"/> are then slot 1's, and <see cref="Reward"/> the sum of <see cref="SlotRewards"/>.
    /// </summary>
    public IReadOnlyList<RankedAction>? Ranking { get; init; }

    /// <summary>Each served slot's reward, top first (rankings).</summary>
    public IReadOnlyList<double>? SlotRewards { get; init; }

    /// <summary>The target policy's probability of each logged slot's action given the logged actions above it, in [0, 1] (rankings).</summary>
    public IReadOnlyList<double>? TargetSlotProbabilities { get; init; }

    /// <summary>A reward model's estimate Q̂_l of each logged slot's reward (rankings; with <see cref="SlotExpectedRewards"/>).</summary>
    public IReadOnlyList<double>? SlotRewardEstimates { get; init; }

    /// <summary>
    /// The same model's expected reward at each slot when the target fills it after the logged slots above:
    /// Σ_a π_e(a | x, a(1..l−1))·Q̂_l(a) (rankings; with <see cref="SlotRewardEstimates"/>).
    /// </summary>
    public IReadOnlyList<double>? SlotExpectedRewards { get; init; }

    /// <summary>The index of <see cref="ChosenActionId"/> in <see cref="Actions"/>, or −1.</summary>
    [JsonIgnore]
    public int ChosenIndex
    {
        get
        {
            for (var i = 0; i < Actions.Count; i++)
            {
                if (Actions[i].Id == ChosenActionId)
                {
                    return i;
                }
            }
            return -1;
        }
    }

    /// <summary>
    /// Checks the decision: ids present and unique, the chosen action among the actions, the probability in (0, 1],
    /// a finite reward, target probabilities naming known actions, non-negative and summing to 1 within
    /// <see cref="ProbabilitySumTolerance"/>, and a finite reward estimate for every action. Throws a
    /// <see cref="FlywheelValidationException"/> naming the first offending field.
    /// </summary>
    public void Validate()
    {
        if (string.IsNullOrEmpty(DecisionId))
        {
            throw new FlywheelValidationException("decisionId", DecisionId is null ? "is required" : "must not be empty");
        }
        if (Context is null)
        {
            throw new FlywheelValidationException("context", "is required");
        }
        if (Actions is null || Actions.Count == 0)
        {
            throw new FlywheelValidationException("actions", "must hold at least one action");
        }
        var ids = new HashSet<string>(Actions.Count, StringComparer.Ordinal);
        for (var i = 0; i < Actions.Count; i++)
        {
            var id = Actions[i]?.Id;
            if (string.IsNullOrEmpty(id))
            {
                throw new FlywheelValidationException($"actions[{i}].id", id is null ? "is required" : "must not be empty");
            }
            if (!ids.Add(id))
            {
                throw new FlywheelValidationException($"actions[{i}].id", $"'{id}' appears twice");
            }
        }
        if (ChosenActionId is null)
        {
            throw new FlywheelValidationException("chosenActionId", "is required");
        }
        if (!ids.Contains(ChosenActionId))
        {
            throw new FlywheelValidationException("chosenActionId", $"'{ChosenActionId}' is not among the actions");
        }
        if (!(Probability > 0 && Probability <= 1))
        {
            throw new FlywheelValidationException("probability", $"must lie in (0, 1]; got {Format(Probability)}");
        }
        if (!double.IsFinite(Reward))
        {
            throw new FlywheelValidationException("reward", $"must be a finite number; got {Format(Reward)}");
        }
        if (TargetProbabilities is { } target)
        {
            var sum = 0.0;
            foreach (var (id, p) in target)
            {
                var field = "targetProbabilities." + id;
                if (!ids.Contains(id))
                {
                    throw new FlywheelValidationException(field, $"'{id}' is not among the actions");
                }
                // Probabilities rounded to a few decimals and re-normalised can come out at −1e-6: tolerated, used as given.
                if (!double.IsFinite(p) || p < -ProbabilitySumTolerance)
                {
                    throw new FlywheelValidationException(field, $"must be a finite number ≥ 0; got {Format(p)}");
                }
                sum += p;
            }
            if (!(Math.Abs(sum - 1) <= ProbabilitySumTolerance))
            {
                throw new FlywheelValidationException("targetProbabilities", $"must sum to 1 (within 1e-6); the sum is {Format(sum)}");
            }
        }
        if (Ranking is not null)
        {
            ValidateRanking(ids);
        }
        if (RewardEstimates is { } estimates)
        {
            foreach (var (id, q) in estimates)
            {
                var field = "rewardEstimates." + id;
                if (!ids.Contains(id))
                {
                    throw new FlywheelValidationException(field, $"'{id}' is not among the actions");
                }
                if (!double.IsFinite(q))
                {
                    throw new FlywheelValidationException(field, $"must be a finite number; got {Format(q)}");
                }
            }
            foreach (var action in Actions)
            {
                if (!estimates.ContainsKey(action.Id))
                {
                    throw new FlywheelValidationException("rewardEstimates", $"has no estimate for action '{action.Id}'; give one for every action or leave the field out");
                }
            }
        }
    }

    private void ValidateRanking(HashSet<string> ids)
    {
        var ranking = Ranking!;
        if (ranking.Count == 0)
        {
            throw new FlywheelValidationException("ranking", "must hold at least one slot");
        }
        var served = new HashSet<string>(StringComparer.Ordinal);
        for (var l = 0; l < ranking.Count; l++)
        {
            var slot = ranking[l] ?? throw new FlywheelValidationException($"ranking[{l}]", "must be a slot object");
            if (slot.ActionId is null || !ids.Contains(slot.ActionId))
            {
                throw new FlywheelValidationException($"ranking[{l}].actionId", $"'{slot.ActionId}' is not among the actions");
            }
            if (!served.Add(slot.ActionId))
            {
                throw new FlywheelValidationException($"ranking[{l}].actionId", $"'{slot.ActionId}' is served twice");
            }
            if (slot.Slot is { } number && number != l + 1)
            {
                throw new FlywheelValidationException($"ranking[{l}].slot", $"must be {l + 1}: slots are listed top first; got {number}");
            }
            if (!(slot.Probability > 0 && slot.Probability <= 1))
            {
                throw new FlywheelValidationException($"ranking[{l}].probability", $"must lie in (0, 1]; got {Format(slot.Probability)}");
            }
        }
        if (ChosenActionId != ranking[0].ActionId)
        {
            throw new FlywheelValidationException("chosenActionId", $"must be slot 1's action, '{ranking[0].ActionId}'");
        }
        SlotList("slotRewards", SlotRewards, ranking.Count, required: true, probabilities: false);
        SlotList("targetSlotProbabilities", TargetSlotProbabilities, ranking.Count, required: false, probabilities: true);
        SlotList("slotRewardEstimates", SlotRewardEstimates, ranking.Count, required: false, probabilities: false);
        SlotList("slotExpectedRewards", SlotExpectedRewards, ranking.Count, required: false, probabilities: false);
        if ((SlotRewardEstimates is null) != (SlotExpectedRewards is null))
        {
            throw new FlywheelValidationException(SlotRewardEstimates is null ? "slotRewardEstimates" : "slotExpectedRewards",
                "comes with slotRewardEstimates and slotExpectedRewards together: the cascade doubly robust estimate needs both");
        }
    }

    private static void SlotList(string field, IReadOnlyList<double>? values, int slots, bool required, bool probabilities)
    {
        if (values is null)
        {
            if (required)
            {
                throw new FlywheelValidationException(field, "is required with a ranking: one value per slot");
            }
            return;
        }
        if (values.Count != slots)
        {
            throw new FlywheelValidationException(field, $"must hold one value per slot ({slots}); got {values.Count}");
        }
        for (var l = 0; l < slots; l++)
        {
            if (!double.IsFinite(values[l]) || (probabilities && values[l] is < 0 or > 1))
            {
                throw new FlywheelValidationException($"{field}[{l}]", $"must be {(probabilities ? "a probability in [0, 1]" : "a finite number")}; got {Format(values[l])}");
            }
        }
    }

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}

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

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}

namespace Flywheel.Evaluation.Slates;

/// <summary>
/// One logged ranking, slot by slot from the top: the reward each slot earned and, for the policy that logged it
/// (behaviour) and the policy evaluated (target), the probabilities the slate estimators weigh it by
/// (docs/estimators.md, "Rankings").
/// </summary>
public sealed record LoggedSlate
{
    /// <summary>The reward of each slot, top first.</summary>
    public required IReadOnlyList<double> Rewards { get; init; }

    /// <summary>
    /// The behaviour policy's probability of the slate's first l + 1 actions, in their order, for each slot l: the
    /// product of the logged per-slot probabilities (each action given the actions above it). In (0, 1], never
    /// rising down the slate; the last is the probability of the whole slate.
    /// </summary>
    public required IReadOnlyList<double> BehaviorPrefix { get; init; }

    /// <summary>The target policy's probability of the same prefixes, in [0, 1] and never rising.</summary>
    public required IReadOnlyList<double> TargetPrefix { get; init; }

    /// <summary>
    /// The behaviour policy's probability of each slot's action at that slot, whatever is above it (the item-position
    /// marginal), in (0, 1]; only the independent estimators (<see cref="SlateEstimator.Iips"/>) need it.
    /// </summary>
    public IReadOnlyList<double>? BehaviorMarginal { get; init; }

    /// <summary>The target policy's item-position marginals, in [0, 1].</summary>
    public IReadOnlyList<double>? TargetMarginal { get; init; }

    /// <summary>
    /// A reward model's estimate Q̂_l of each slot's reward given the logged actions down to it (context included);
    /// only <see cref="SlateEstimator.CascadeDoublyRobust"/> needs it.
    /// </summary>
    public IReadOnlyList<double>? ModelReward { get; init; }

    /// <summary>
    /// The same model's expected estimate at each slot when the target policy fills it after the logged slots above:
    /// Σ_a π_e(a | x, a(1..l−1)) · Q̂_l(x, a(1..l−1), a). Only <see cref="SlateEstimator.CascadeDoublyRobust"/> needs it.
    /// </summary>
    public IReadOnlyList<double>? ModelRewardUnderTarget { get; init; }

    /// <summary>The slate's length.</summary>
    public int Slots => Rewards.Count;
}

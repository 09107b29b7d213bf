using Flywheel.Core;

namespace Flywheel.Evaluation;

/// <summary>
/// A policy to evaluate, for rows that carry no <see cref="LoggedDecision.TargetProbabilities"/>: it gives every
/// action of a decision its probability. Implementations must be deterministic.
/// </summary>
public interface ITargetPolicy
{
    /// <summary>The policy's name as reported (<c>uniform</c>).</summary>
    string Name { get; }

    /// <summary>
    /// Writes the probability of each action of <paramref name="decision"/>, in the order of its actions, into
    /// <paramref name="probabilities"/> (of length K): non-negative, summing to 1.
    /// </summary>
    void GetProbabilities(LoggedDecision decision, Span<double> probabilities);
}

/// <summary>The uniform policy: 1/K for each of a decision's K actions.</summary>
public sealed class UniformPolicy : ITargetPolicy
{
    private UniformPolicy()
    {
    }

    /// <summary>The one instance.</summary>
    public static UniformPolicy Instance { get; } = new();

    /// <inheritdoc />
    public string Name => "uniform";

    /// <inheritdoc />
    public void GetProbabilities(LoggedDecision decision, Span<double> probabilities)
    {
        ArgumentNullException.ThrowIfNull(decision);
        probabilities[..decision.Actions.Count].Fill(1.0 / decision.Actions.Count);
    }
}

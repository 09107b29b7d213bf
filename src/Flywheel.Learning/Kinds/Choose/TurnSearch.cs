using Flywheel.Core;

namespace Flywheel.Learning;

/// <summary>
/// The settings a turn tries beside the champion's: a small search over the learning rate, the interactions and
/// the exploration, one change at a time, so that the ledger says which change earned a promotion. The <c>choose</c>
/// kind's search (<see cref="ILoopKind.Candidates"/>).
/// </summary>
public static class TurnSearch
{
    /// <summary>The pair-of-context-features cross a turn adds or removes.</summary>
    public const string ContextPairs = "context*context*action";

    /// <summary>The candidates for a champion with <paramref name="learner"/> and <paramref name="exploration"/>.</summary>
    public static IReadOnlyList<CandidateSettings> Candidates(LearnerConfig learner, ExplorationConfig exploration)
    {
        ArgumentNullException.ThrowIfNull(learner);
        ArgumentNullException.ThrowIfNull(exploration);
        var list = new List<CandidateSettings>
        {
            new("learningRate×2", learner with { LearningRate = Math.Min(100, learner.EffectiveLearningRate * 2) }, exploration),
            new("learningRate÷2", learner with { LearningRate = learner.EffectiveLearningRate / 2 }, exploration),
        };
        if (!learner.Interactions.Contains(ContextPairs))
        {
            list.Add(new($"+{ContextPairs}", learner with { Interactions = [.. learner.Interactions, ContextPairs] }, exploration));
        }
        else if (learner.Interactions.Count > 1)
        {
            list.Add(new($"−{ContextPairs}", learner with { Interactions = learner.Interactions.Where(t => t != ContextPairs).ToList() }, exploration));
        }
        switch (exploration.Algorithm)
        {
            case ExplorationAlgorithm.EpsilonGreedy:
                list.Add(new("epsilon÷2", learner, exploration with { Epsilon = exploration.EffectiveEpsilon / 2 }));
                break;
            case ExplorationAlgorithm.SquareCb:
                list.Add(new("gamma×2", learner, exploration with { Gamma = exploration.Gamma * 2 }));
                break;
            case ExplorationAlgorithm.Softmax:
                list.Add(new("lambda×2", learner, exploration with { Lambda = exploration.Lambda * 2 }));
                break;
            case ExplorationAlgorithm.Bag:
                list.Add(new("bags×2", learner, exploration with { Bags = Math.Min(64, exploration.Bags * 2) }));
                break;
        }
        return list;
    }
}

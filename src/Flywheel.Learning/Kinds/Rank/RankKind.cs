using Flywheel.Core;

namespace Flywheel.Learning;

/// <summary>
/// The <c>rank</c> kind: order K of N actions into slots. One regressor learns each action's relevance from every
/// served slot's reward divided by that slot's examination probability (the position-based model's inverse propensity,
/// docs/loop-config.md "Rankings"), so it learns what users want rather than where things were shown; serving fills the
/// slots from the top by the loop's exploration (<see cref="RankSampler"/>).
/// </summary>
public sealed class RankKind : ILoopKind
{
    /// <summary>The one instance; the kind holds no state.</summary>
    public static RankKind Instance { get; } = new();

    private RankKind()
    {
    }

    /// <inheritdoc />
    public LoopKind Kind => LoopKind.Rank;

    /// <inheritdoc />
    public ILoopLearner CreateLearner(LearnerConfig learner, ExplorationConfig exploration, ulong seed = 0)
        => new RankLearner(new ChooseLearner(BanditLearner.For(learner, exploration, seed)), new ExaminationCounts());

    /// <inheritdoc />
    public ILoopLearner LoadLearner(ReadOnlySpan<byte> snapshot, LearnerConfig learner, ExplorationConfig exploration)
        => RankLearner.Load(snapshot, learner, exploration);

    /// <inheritdoc />
    public bool CanContinue(LoopConfig from, LoopConfig to) => ChooseKind.Instance.CanContinue(from, to);

    /// <inheritdoc />
    public IReadOnlyList<CandidateSettings> Candidates(LoopConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return TurnSearch.Candidates(config.Learner, config.Exploration);
    }

    /// <inheritdoc />
    public PreparedDecision Prepare(DecisionRecord decision, PreparedDecision? reuse = null) => ChooseKind.Instance.Prepare(decision, reuse);
}

using Flywheel.Core;

namespace Flywheel.Learning;

/// <summary>
/// The <c>choose</c> kind: pick one of N actions. A <see cref="BanditLearner"/> regresses each action's cost on hashed
/// (context, action) features, and the loop's exploration turns the predicted costs into the served distribution.
/// </summary>
public sealed class ChooseKind : ILoopKind
{
    /// <summary>The one instance; the kind holds no state.</summary>
    public static ChooseKind Instance { get; } = new();

    private ChooseKind()
    {
    }

    /// <inheritdoc />
    public LoopKind Kind => LoopKind.Choose;

    /// <summary>Regressors the exploration needs: one per bag when bagging, else one.</summary>
    public static int BagsOf(ExplorationConfig exploration)
    {
        ArgumentNullException.ThrowIfNull(exploration);
        return exploration.Algorithm == ExplorationAlgorithm.Bag ? exploration.Bags : 1;
    }

    /// <inheritdoc />
    public ILoopLearner CreateLearner(LearnerConfig learner, ExplorationConfig exploration, ulong seed = 0)
        => new ChooseLearner(BanditLearner.For(learner, exploration, seed));

    /// <inheritdoc />
    public ILoopLearner LoadLearner(ReadOnlySpan<byte> snapshot, LearnerConfig learner, ExplorationConfig exploration)
        => new ChooseLearner(ModelSnapshot.Load(snapshot, learner, exploration));

    /// <inheritdoc />
    public bool CanContinue(LoopConfig from, LoopConfig to)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        return ModelSnapshot.Fingerprint(from.Learner) == ModelSnapshot.Fingerprint(to.Learner)
            && BagsOf(from.Exploration) == BagsOf(to.Exploration);
    }

    /// <inheritdoc />
    public IReadOnlyList<CandidateSettings> Candidates(LoopConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return TurnSearch.Candidates(config.Learner, config.Exploration);
    }

    /// <inheritdoc />
    public PreparedDecision Prepare(DecisionRecord decision, PreparedDecision? reuse = null)
    {
        ArgumentNullException.ThrowIfNull(decision);
        var prepared = reuse as PreparedChoice ?? new PreparedChoice();
        prepared.Set(decision);
        return prepared;
    }
}

/// <summary>A logged decision with its context and actions hashed once.</summary>
internal sealed class PreparedChoice : PreparedDecision
{
    public HashedFeatureSet Context { get; private set; } = null!;

    public HashedFeatureSet[] Actions { get; private set; } = [];

    public override int ActionCount => Actions.Length;

    public void Set(DecisionRecord decision)
    {
        var actions = decision.Actions;
        if (Actions.Length != actions.Count)
        {
            Actions = new HashedFeatureSet[actions.Count];
        }
        for (var i = 0; i < actions.Count; i++)
        {
            Actions[i] = HashedFeatureSet.FromAction(actions[i]);
        }
        Context = HashedFeatureSet.FromContext(decision.Context);
    }
}

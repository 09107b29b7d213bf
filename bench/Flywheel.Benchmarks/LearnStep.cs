using Flywheel.Core;
using Flywheel.Learning;

namespace Flywheel.Benchmarks;

#if FLYWHEEL_BEFORE_SEAM
/// <summary>
/// The engine's learn step as it was before the loop-kind seam (the engine featurized a stored decision itself and
/// updated its <see cref="BanditLearner"/>). Compiled only when bench/compare.sh builds this suite against a commit
/// from before the seam, so both sides run the same benchmark code.
/// </summary>
internal sealed class LearnStep(LoopConfig config)
{
    private readonly BanditLearner _learner = BanditLearner.For(config.Learner, config.Exploration);
    private readonly Featurizer _featurizer = new(config.Learner);
    private readonly FeatureVector _vector = new();

    public void Learn(DecisionRecord decision, double reward, ExplorationConfig exploration)
    {
        var chosen = -1;
        for (var i = 0; i < decision.Actions.Count; i++)
        {
            if (decision.Actions[i].Id == decision.ChosenActionId)
            {
                chosen = i;
                break;
            }
        }
        if (chosen < 0)
        {
            return;
        }
        _learner.Unweighted = exploration.Algorithm == ExplorationAlgorithm.SquareCb;
        _vector.Clear();
        _featurizer.SetContext(HashedFeatureSet.FromContext(decision.Context));
        if (_learner.Config.Reduction is Reduction.Ips or Reduction.Dr)
        {
            foreach (var action in decision.Actions)
            {
                _featurizer.AddAction(HashedFeatureSet.FromAction(action), _vector);
            }
            _learner.Learn(_vector, chosen, (float)-reward, decision.ChosenProbability);
            return;
        }
        _featurizer.AddAction(HashedFeatureSet.FromAction(decision.Actions[chosen]), _vector);
        _learner.Learn(_vector.Indices(0), _vector.Values(0), (float)-reward, decision.ChosenProbability, decision.Actions.Count);
    }
}
#else
/// <summary>The engine's learn step: the loop kind's learner, fed one stored decision and its reward.</summary>
internal sealed class LearnStep(LoopConfig config)
{
    private readonly ILoopLearner _learner = LoopKinds.For(config).CreateLearner(config.Learner, config.Exploration);

    public void Learn(DecisionRecord decision, double reward, ExplorationConfig exploration) => _learner.Learn(decision, reward, exploration);
#if !FLYWHEEL_BEFORE_SPARSE

    public bool IsDense => ((ChooseLearner)_learner).Learner.Regressor.IsDense;

    public void Densify() => ((ChooseLearner)_learner).Learner.Densify();
#endif
}
#endif

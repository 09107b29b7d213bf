using Flywheel.Core;
using Flywheel.Learning;

namespace Flywheel.Evaluation;

/// <summary>
/// The reward model q̂ fitted when rows carry no reward estimates: Flywheel's own learner (<see cref="BanditLearner"/>
/// with the <c>dm</c> reduction: squared-loss updates of f(x, a) towards the observed cost −r, importance 1) on the
/// rows' context and action features, trained progressively in file order: each row is scored before it is learned
/// from, so no estimate has seen its own reward. Not thread-safe.
/// </summary>
internal sealed class FittedRewardModel
{
    private readonly BanditLearner _learner;
    private readonly Featurizer _featurizer;
    private readonly FeatureVector _features = new();
    private float[] _costs = new float[16];

    public FittedRewardModel(LearnerConfig config)
    {
        var dm = config with { Reduction = Reduction.Dm };
        // An estimate of value, not a decision: plain squared loss, never clipped (PredictionClip.Floor would let the
        // best action's predicted cost run below every cost seen).
        _learner = new BanditLearner(dm, clip: PredictionClip.None);
        _featurizer = new Featurizer(dm);
    }

    /// <summary>Rows learned from.</summary>
    public long Examples => _learner.Examples;

    /// <summary>
    /// Writes q̂(x, a) for each action of <paramref name="decision"/> into <paramref name="estimates"/> (when not
    /// empty), then learns from the logged action's reward.
    /// </summary>
    public void PredictThenLearn(LoggedDecision decision, int chosen, Span<double> estimates)
    {
        var k = decision.Actions.Count;
        _featurizer.SetContext(HashedFeatureSet.FromContext(decision.Context));
        _features.Clear();
        foreach (var action in decision.Actions)
        {
            _featurizer.AddAction(HashedFeatureSet.FromAction(action), _features);
        }
        if (!estimates.IsEmpty)
        {
            if (_costs.Length < k)
            {
                _costs = new float[Math.Max(k, _costs.Length * 2)];
            }
            _learner.Predict(_features, _costs);
            for (var a = 0; a < k; a++)
            {
                estimates[a] = -(double)_costs[a];
            }
        }
        _learner.Learn(_features, chosen, (float)-decision.Reward, decision.Probability);
    }
}

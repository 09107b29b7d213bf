using Flywheel.Core;

namespace Flywheel.Learning;

/// <summary>The <c>choose</c> kind's learner: a <see cref="BanditLearner"/> with its own featurizer. Not thread-safe.</summary>
internal sealed class ChooseLearner(BanditLearner learner) : ILoopLearner
{
    // Built on first use: a restored loop that never learns or replays keeps none of these buffers.
    private Featurizer? _featurizer;
    private FeatureVector? _vector;
    private float[] _bagCosts = [];

    public BanditLearner Learner { get; } = learner;

    private Featurizer Featurizer => _featurizer ??= new Featurizer(Learner.Config);

    private FeatureVector Vector => _vector ??= new FeatureVector();

    public long Examples => Learner.Examples;

    public void Learn(DecisionRecord decision, RewardRecord reward, LoopConfig config)
    {
        ArgumentNullException.ThrowIfNull(reward);
        ArgumentNullException.ThrowIfNull(config);
        Learn(decision, reward.Reward, config.Exploration);
    }

    public void Learn(DecisionRecord decision, double reward, ExplorationConfig exploration)
    {
        ArgumentNullException.ThrowIfNull(decision);
        ArgumentNullException.ThrowIfNull(exploration);
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
        // The exploration may have changed since the learner was built; its weights stay valid, its weighting follows.
        Learner.Unweighted = exploration.Algorithm == ExplorationAlgorithm.SquareCb;
        Vector.Clear();
        Featurizer.SetContext(HashedFeatureSet.FromContext(decision.Context));
        if (Learner.Config.Reduction is Reduction.Ips or Reduction.Dr)
        {
            // IPS and DR move every action towards its cost-sensitive target, so they need them all.
            foreach (var action in decision.Actions)
            {
                Featurizer.AddAction(HashedFeatureSet.FromAction(action), Vector);
            }
            Learner.Learn(Vector, chosen, (float)-reward, decision.ChosenProbability);
            return;
        }
        Featurizer.AddAction(HashedFeatureSet.FromAction(decision.Actions[chosen]), Vector);
        Learner.Learn(Vector.Indices(0), Vector.Values(0), (float)-reward, decision.ChosenProbability, decision.Actions.Count);
    }

    public void Learn(PreparedDecision decision, int chosen, double reward, double probability, int repeats = 1)
    {
        var row = (PreparedChoice)decision;
        if (Learner.Config.Reduction is Reduction.Ips or Reduction.Dr)
        {
            // These reductions move every action, so they need every action's features.
            Featurize(row);
            for (var r = 0; r < repeats; r++)
            {
                Learner.Learn(Vector, chosen, (float)-reward, probability);
            }
            return;
        }
        Vector.Clear();
        Featurizer.SetContext(row.Context);
        Featurizer.AddAction(row.Actions[chosen], Vector);
        for (var r = 0; r < repeats; r++)
        {
            Learner.Learn(Vector.Indices(0), Vector.Values(0), (float)-reward, probability, row.Actions.Length);
        }
    }

    public void Score(PreparedDecision decision, ExplorationConfig exploration, Span<float> costs, Span<double> pmf)
    {
        var row = (PreparedChoice)decision;
        Featurize(row);
        var k = row.Actions.Length;
        if (_bagCosts.Length < k * Learner.Bags)
        {
            _bagCosts = new float[Math.Max(16, k * Learner.Bags * 2)];
        }
        var bagCosts = _bagCosts.AsSpan(0, k * Learner.Bags);
        Learner.Predict(Vector, costs, bagCosts);
        Exploration.Distribution(exploration, costs[..k], Learner.Examples, pmf[..k], bagCosts);
    }

    public ILoopPolicy Publish(int version, ILoopPolicy? previous = null)
        => new ChoosePolicy(Learner.ToServingModel(version), previous is ChoosePolicy p && p.Featurizers.Config == Learner.Config ? p.Featurizers : new FeaturizerPool(Learner.Config));

    public byte[] Save() => ModelSnapshot.Save(Learner);

    public void Refresh(bool keepWeights = true) => Learner.Refresh(keepWeights);

    private void Featurize(PreparedChoice row)
    {
        Vector.Clear();
        Featurizer.SetContext(row.Context);
        foreach (var action in row.Actions)
        {
            Featurizer.AddAction(action, Vector);
        }
    }
}

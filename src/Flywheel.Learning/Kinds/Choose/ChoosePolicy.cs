using System.Collections.Concurrent;
using Flywheel.Core;

namespace Flywheel.Learning;

/// <summary>The <c>choose</c> kind's serving model: fixed weights and a pool of featurizers. Thread-safe.</summary>
internal sealed class ChoosePolicy(ServingModel model, FeaturizerPool featurizers) : ILoopPolicy
{
    /// <summary>Above this many (action, bag) scores the per-bag costs go to the heap rather than the stack.</summary>
    private const int StackBagCosts = 256;

    /// <summary>
    /// A scorer whose buffers grew past this many features goes back to the garbage collector, not to the pool: one
    /// unusually large decision must not keep its memory for the life of the model.
    /// </summary>
    private const int PooledFeatures = 1 << 16;

    public ServingModel Model { get; } = model;

    public FeaturizerPool Featurizers { get; } = featurizers;

    public int Version => Model.Version;

    public long Examples => Model.Examples;

    public void Score(ExplorationConfig exploration, Features context, IReadOnlyList<ActionCandidate> actions, Span<float> costs, Span<double> pmf)
    {
        ArgumentNullException.ThrowIfNull(exploration);
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(actions);
        var k = actions.Count;
        var size = k * Model.Bags;
        var bagCosts = size <= StackBagCosts ? stackalloc float[size] : new float[size];
        var scorer = Featurizers.Rent();
        try
        {
            var vector = scorer.Features;
            vector.Clear();
            scorer.Featurizer.SetContext(HashedFeatureSet.FromContext(context));
            for (var i = 0; i < k; i++)
            {
                scorer.Featurizer.AddAction(HashedFeatureSet.FromAction(actions[i]), vector);
            }
            Model.Predict(vector, costs, bagCosts);
        }
        finally
        {
            if (scorer.Features.Count <= PooledFeatures)
            {
                Featurizers.Return(scorer);
            }
        }
        Exploration.Distribution(exploration, costs[..k], Model.Examples, pmf[..k], bagCosts);
    }

    public long CountFeatures(Features context, IReadOnlyList<ActionCandidate> actions)
    {
        var scorer = Featurizers.Rent();
        try
        {
            return scorer.Featurizer.CountFeatures(context, actions);
        }
        finally
        {
            Featurizers.Return(scorer);
        }
    }
}

/// <summary>A featurizer with its output buffer: not thread-safe, grown to fit, so deciders borrow one.</summary>
internal sealed class Scorer(LearnerConfig config)
{
    public Featurizer Featurizer { get; } = new(config);

    public FeatureVector Features { get; } = new();
}

/// <summary>Scorers for one learner config, shared by the policies published from one learner.</summary>
internal sealed class FeaturizerPool(LearnerConfig config)
{
    private readonly ConcurrentBag<Scorer> _pool = [];

    public LearnerConfig Config { get; } = config;

    public Scorer Rent() => _pool.TryTake(out var s) ? s : new Scorer(Config);

    public void Return(Scorer scorer) => _pool.Add(scorer);
}

using Flywheel.Core;

namespace Flywheel.Learning;

/// <summary>
/// The contextual-bandit learner: one regressor of cost over (context, action) features, updated by the reduction
/// of ALGORITHMS §0 (<c>dm</c>: unweighted; <c>mtr</c>: importance 1/(p·K) as in VW). Not thread-safe.
/// </summary>
public sealed class BanditLearner
{
    /// <summary>Creates an untrained learner.</summary>
    public BanditLearner(LearnerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.Reduction is not (Reduction.Dm or Reduction.Mtr))
        {
            throw new NotSupportedException($"Reduction '{LoopConfigJson.Name(config.Reduction)}' is not supported yet; use dm or mtr.");
        }
        Config = config;
        Regressor = new OnlineRegressor(config.Bits, config.LearningRate, config.PowerT);
    }

    /// <summary>The settings.</summary>
    public LearnerConfig Config { get; }

    /// <summary>The regressor.</summary>
    public OnlineRegressor Regressor { get; }

    /// <summary>Examples learned from.</summary>
    public long Examples { get; internal set; }

    /// <summary>Sum of the action-set sizes of the examples learned from (for the <c>mtr</c> weight).</summary>
    public long ActionsSeen { get; internal set; }

    /// <summary>Predicted cost of one action's features.</summary>
    public float Predict(ReadOnlySpan<int> indices, ReadOnlySpan<float> values) => Regressor.Predict(indices, values);

    /// <summary>Learns that the chosen action, served with <paramref name="probability"/> among <paramref name="actionCount"/>, cost <paramref name="cost"/>.</summary>
    public void Learn(ReadOnlySpan<int> indices, ReadOnlySpan<float> values, float cost, double probability, int actionCount)
    {
        Examples++;
        ActionsSeen += actionCount;
        var importance = 1f;
        if (Config.Reduction == Reduction.Mtr)
        {
            var p = probability > 0 ? probability : 1e-3;
            importance = (float)(1 / p * ((double)Examples / ActionsSeen));
        }
        Regressor.Update(indices, values, cost, importance);
    }

    /// <summary>An immutable copy of the weights for serving.</summary>
    public ServingModel ToServingModel(int version) => new(Regressor.CopyWeights(), version, Examples);
}

/// <summary>An immutable weight table that deciders read while the learner moves on. Thread-safe.</summary>
public sealed class ServingModel
{
    private readonly float[] _weights;

    /// <summary>Wraps a weight table.</summary>
    public ServingModel(float[] weights, int version, long examples)
    {
        _weights = weights;
        Version = version;
        Examples = examples;
    }

    /// <summary>The model version.</summary>
    public int Version { get; }

    /// <summary>Examples the weights have learned from.</summary>
    public long Examples { get; }

    /// <summary>An untrained model of <paramref name="bits"/> bits.</summary>
    public static ServingModel Empty(int bits, int version) => new(new float[1 << bits], version, 0);

    /// <summary>Predicted cost of one action's features.</summary>
    public float Predict(ReadOnlySpan<int> indices, ReadOnlySpan<float> values)
    {
        var w = _weights;
        var sum = 0f;
        for (var i = 0; i < indices.Length; i++)
        {
            sum += w[indices[i]] * values[i];
        }
        return sum;
    }
}

using System.Runtime.CompilerServices;
using Flywheel.Core;

namespace Flywheel.Learning;

/// <summary>
/// The contextual-bandit learner: regressors of cost over (context, action) features, updated by the reduction of
/// docs/estimators.md and docs/loop-config.md. <c>dm</c>: one unweighted update on the chosen action. <c>mtr</c>: the same with importance
/// 1/(p·K) as in VW. <c>dr</c>: a separate reward model q̂ learns the cost with importance 1/p, and every action moves
/// towards its doubly-robust target q̂(a) + 1{a chosen}·(c − q̂(a))/p. <c>ips</c>: every action towards its
/// cost-sensitive target, c/p for the chosen one and 0 for the others. With <see cref="ExplorationAlgorithm.Bag"/> there is one regressor per bag, each
/// updated Poisson(1) times per example (online bootstrap). Not thread-safe.
/// </summary>
public sealed class BanditLearner
{
    private readonly OnlineRegressor[] _bags;
    private readonly OnlineRegressor? _rewardModel;
    private readonly ulong _seed;

    /// <summary>Creates an untrained learner with <paramref name="bags"/> regressors (1 unless bagging).</summary>
    /// <param name="config">The learner settings.</param>
    /// <param name="bags">Regressors: one per bag when bagging, else 1.</param>
    /// <param name="seed">Seed of the bootstrap draws.</param>
    /// <param name="unweighted">
    /// Learn as if every logged probability were 1 (SquareCB's regression oracle, as VW does): the inverse-gap
    /// weighting already explores, so importance weights would only add variance.
    /// </param>
    /// <param name="clip">The policy regressors' clipping; null for the reduction's (<see cref="ClipFor"/>).</param>
    public BanditLearner(LearnerConfig config, int bags = 1, ulong seed = 0, bool unweighted = false, PredictionClip? clip = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentOutOfRangeException.ThrowIfLessThan(bags, 1);
        Config = config;
        _seed = seed;
        Unweighted = unweighted;
        _bags = new OnlineRegressor[bags];
        for (var b = 0; b < bags; b++)
        {
            _bags[b] = new OnlineRegressor(config.Bits, config.EffectiveLearningRate, config.EffectivePowerT, config.L2, clip ?? ClipFor(config.Reduction), config.Forgetting);
        }
        if (config.Reduction == Reduction.Dr)
        {
            _rewardModel = new OnlineRegressor(config.Bits, config.EffectiveLearningRate, config.EffectivePowerT, config.L2, forgetting: config.Forgetting);
        }
    }

    /// <summary>
    /// The clipping of the policy regressors, chosen by measurement on the replay sets (bench/RESULTS.md): <c>mtr</c>
    /// clamps to the cost range as VW does, <c>dm</c> only raises predictions below the lowest cost, and <c>ips</c> and
    /// <c>dr</c>, whose targets are importance-scaled estimates rather than costs, do not clip.
    /// </summary>
    public static PredictionClip ClipFor(Reduction reduction) => reduction switch
    {
        Reduction.Mtr => PredictionClip.Range,
        Reduction.Dm => PredictionClip.Floor,
        _ => PredictionClip.None,
    };

    /// <summary>A learner shaped for a loop's exploration (one regressor per bag when bagging).</summary>
    public static BanditLearner For(LearnerConfig learner, ExplorationConfig exploration, ulong seed = 0)
    {
        ArgumentNullException.ThrowIfNull(exploration);
        return new BanditLearner(learner, exploration.Algorithm == ExplorationAlgorithm.Bag ? exploration.Bags : 1, seed,
            unweighted: exploration.Algorithm == ExplorationAlgorithm.SquareCb);
    }

    /// <summary>The settings.</summary>
    public LearnerConfig Config { get; }

    /// <summary>The first (or only) regressor.</summary>
    public OnlineRegressor Regressor => _bags[0];

    /// <summary>Every regressor, one per bag.</summary>
    public IReadOnlyList<OnlineRegressor> Regressors => _bags;

    /// <summary>The separate reward model q̂ of the <c>dr</c> reduction (null otherwise).</summary>
    public OnlineRegressor? RewardModel => _rewardModel;

    /// <summary>Number of regressors.</summary>
    public int Bags => _bags.Length;

    /// <summary>True when the learner ignores logged probabilities (SquareCB); the weights mean the same either way.</summary>
    public bool Unweighted { get; set; }

    /// <summary>Seed of the bootstrap draws.</summary>
    public ulong Seed => _seed;

    /// <summary>Examples learned from.</summary>
    public long Examples { get; internal set; }

    /// <summary>Sum of the action-set sizes of the examples learned from (for the <c>mtr</c> weight).</summary>
    public long ActionsSeen { get; internal set; }

    /// <summary>Predicted cost of one action's features (the first regressor).</summary>
    public float Predict(ReadOnlySpan<int> indices, ReadOnlySpan<float> values) => _bags[0].Predict(indices, values);

    /// <summary>
    /// Predicted costs of every action in <paramref name="features"/>: the mean over bags in <paramref name="costs"/>,
    /// and each bag's (bag-major) in <paramref name="bagCosts"/> when it is given.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Predict(FeatureVector features, Span<float> costs, Span<float> bagCosts = default)
    {
        ArgumentNullException.ThrowIfNull(features);
        var k = features.Actions;
        if (_bags.Length == 1)
        {
            for (var a = 0; a < k; a++)
            {
                costs[a] = _bags[0].Predict(features.Indices(a), features.Values(a));
            }
            if (!bagCosts.IsEmpty)
            {
                costs[..k].CopyTo(bagCosts);
            }
            return;
        }
        costs[..k].Clear();
        for (var b = 0; b < _bags.Length; b++)
        {
            for (var a = 0; a < k; a++)
            {
                var c = _bags[b].Predict(features.Indices(a), features.Values(a));
                costs[a] += c / _bags.Length;
                if (!bagCosts.IsEmpty)
                {
                    bagCosts[b * k + a] = c;
                }
            }
        }
    }

    /// <summary>
    /// Learns that action <paramref name="chosen"/> of <paramref name="features"/> (which holds every candidate action),
    /// served with <paramref name="probability"/>, cost <paramref name="cost"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Learn(FeatureVector features, int chosen, float cost, double probability)
    {
        ArgumentNullException.ThrowIfNull(features);
        var k = features.Actions;
        ArgumentOutOfRangeException.ThrowIfNegative(chosen);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(chosen, k);
        Examples++;
        ActionsSeen += k;
        var p = Unweighted ? 1.0 : probability > 0 ? probability : 1e-3;
        if (_rewardModel is not null)
        {
            LearnDoublyRobust(features, chosen, cost, p, k);
            return;
        }
        for (var b = 0; b < _bags.Length; b++)
        {
            var repeats = _bags.Length == 1 ? 1 : PoissonOne(b);
            for (var r = 0; r < repeats; r++)
            {
                Update(_bags[b], features, chosen, cost, p, k);
            }
        }
    }

    /// <summary>Learns from the chosen action's features alone; valid for every reduction but <c>ips</c>.</summary>
    public void Learn(ReadOnlySpan<int> indices, ReadOnlySpan<float> values, float cost, double probability, int actionCount)
    {
        if (Config.Reduction is Reduction.Ips or Reduction.Dr)
        {
            throw new InvalidOperationException($"The {LoopConfigJson.Name(Config.Reduction)} reduction updates every action: pass all of them.");
        }
        Examples++;
        ActionsSeen += actionCount;
        var p = Unweighted ? 1.0 : probability > 0 ? probability : 1e-3;
        for (var b = 0; b < _bags.Length; b++)
        {
            var repeats = _bags.Length == 1 ? 1 : PoissonOne(b);
            for (var r = 0; r < repeats; r++)
            {
                UpdateChosen(_bags[b], indices, values, cost, p);
            }
        }
    }

    /// <summary>
    /// Doubly robust, as VW's cb_adf does it: a separate reward model q̂ learns the observed cost with importance 1/p;
    /// then every action of the policy regressor moves towards q̂(a), plus (c − q̂(a))/p for the chosen one.
    /// </summary>
    private void LearnDoublyRobust(FeatureVector features, int chosen, float cost, double p, int k)
    {
        var reward = _rewardModel!;
        Span<float> estimates = k <= 256 ? stackalloc float[k] : new float[k];
        for (var a = 0; a < k; a++)
        {
            estimates[a] = reward.Predict(features.Indices(a), features.Values(a));
        }
        reward.Update(features.Indices(chosen), features.Values(chosen), cost, (float)(1 / p));
        estimates[chosen] = (float)(estimates[chosen] + (cost - estimates[chosen]) / p);
        for (var b = 0; b < _bags.Length; b++)
        {
            var repeats = _bags.Length == 1 ? 1 : PoissonOne(b);
            for (var r = 0; r < repeats; r++)
            {
                for (var a = 0; a < k; a++)
                {
                    _bags[b].Update(features.Indices(a), features.Values(a), estimates[a], 1f);
                }
            }
        }
    }

    private void Update(OnlineRegressor regressor, FeatureVector features, int chosen, float cost, double p, int k)
    {
        if (Config.Reduction != Reduction.Ips)
        {
            UpdateChosen(regressor, features.Indices(chosen), features.Values(chosen), cost, p);
            return;
        }
        for (var a = 0; a < k; a++)
        {
            regressor.Update(features.Indices(a), features.Values(a), a == chosen ? (float)(cost / p) : 0f, 1f);
        }
    }

    private void UpdateChosen(OnlineRegressor regressor, ReadOnlySpan<int> indices, ReadOnlySpan<float> values, float cost, double p)
    {
        switch (Config.Reduction)
        {
            case Reduction.Mtr:
                regressor.Update(indices, values, cost, (float)(1 / p * ((double)Examples / ActionsSeen)));
                break;
            default:
                regressor.Update(indices, values, cost, 1f);
                break;
        }
    }

    // Poisson(1) by inversion of a uniform drawn from (seed, example, bag), so the bootstrap is reproducible.
    private int PoissonOne(int bag)
    {
        var u = Exploration.UniformFor(_seed ^ (0x9E3779B97F4A7C15UL * (ulong)(bag + 1)), Examples);
        var term = Math.Exp(-1);
        var cumulative = term;
        var k = 0;
        while (u > cumulative && k < 20)
        {
            k++;
            term /= k;
            cumulative += term;
        }
        return k;
    }

    /// <summary>
    /// Forgets the adaptive state: every sum of squared gradients, the normalisation sums and the example counts start
    /// again from zero, so the next updates take large steps (as at the start) and SquareCB explores as widely as after
    /// the first examples; the weights stay unless <paramref name="keepWeights"/> is false. For a learner meant to follow
    /// a world that has changed.
    /// </summary>
    public void Refresh(bool keepWeights = true)
    {
        foreach (var regressor in _rewardModel is null ? _bags : [.. _bags, _rewardModel])
        {
            regressor.Refresh(keepWeights);
        }
        Examples = 0;
        ActionsSeen = 0;
    }

    /// <summary>An immutable copy of the weights for serving (sparse while the regressors are).</summary>
    public ServingModel ToServingModel(int version)
    {
        var tables = new ServedWeights[_bags.Length];
        for (var b = 0; b < tables.Length; b++)
        {
            tables[b] = _bags[b].Serve();
        }
        return new ServingModel(tables, version, Examples);
    }

    /// <summary>Turns every regressor dense; for the benchmarks and the tests that compare the two forms.</summary>
    internal void Densify()
    {
        foreach (var regressor in _rewardModel is null ? _bags : [.. _bags, _rewardModel])
        {
            regressor.Densify();
        }
    }
}

/// <summary>
/// An immutable set of weight tables (one per bag) that deciders read while the learner moves on; each table is dense
/// or sparse as its regressor was when published. Thread-safe.
/// </summary>
public sealed class ServingModel
{
    private readonly ServedWeights[] _tables;

    /// <summary>Wraps one weight table.</summary>
    public ServingModel(float[] weights, int version, long examples)
        : this([weights], version, examples)
    {
    }

    /// <summary>Wraps one weight table per bag.</summary>
    public ServingModel(float[][] weights, int version, long examples)
        : this(Dense(weights), version, examples)
    {
    }

    internal ServingModel(ServedWeights[] tables, int version, long examples)
    {
        _tables = tables;
        Version = version;
        Examples = examples;
    }

    private static ServedWeights[] Dense(float[][] weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        return weights.Select(w => new ServedWeights(w.Length, w)).ToArray();
    }

    /// <summary>The model version.</summary>
    public int Version { get; }

    /// <summary>Examples the weights have learned from.</summary>
    public long Examples { get; }

    /// <summary>Number of weight tables.</summary>
    public int Bags => _tables.Length;

    /// <summary>True when every table is dense (false while the learner it came from was sparse).</summary>
    public bool IsDense => _tables.All(t => t.IsDense);

    /// <summary>An untrained model of <paramref name="bits"/> bits.</summary>
    public static ServingModel Empty(int bits, int version, int bags = 1)
        => new(Enumerable.Range(0, bags).Select(_ => ServedWeights.Empty(1 << bits)).ToArray(), version, 0);

    /// <summary>Predicted cost of one action's features (the first table).</summary>
    public float Predict(ReadOnlySpan<int> indices, ReadOnlySpan<float> values) => Predict(0, indices, values);

    /// <summary>Predicted cost of one action's features under bag <paramref name="bag"/>.</summary>
    public float Predict(int bag, ReadOnlySpan<int> indices, ReadOnlySpan<float> values)
    {
        var table = _tables[bag];
        foreach (var index in indices)
        {
            if ((uint)index >= (uint)table.Slots)
            {
                throw new ArgumentOutOfRangeException(nameof(indices), index, "index outside the weight table");
            }
        }
        return table.Predict(indices, values);
    }

    /// <summary>Predicted costs of every action: the mean over bags, and each bag's (bag-major) when asked.</summary>
    public void Predict(FeatureVector features, Span<float> costs, Span<float> bagCosts = default)
    {
        ArgumentNullException.ThrowIfNull(features);
        var k = features.Actions;
        costs[..k].Clear();
        for (var b = 0; b < _tables.Length; b++)
        {
            for (var a = 0; a < k; a++)
            {
                var c = Predict(b, features.Indices(a), features.Values(a));
                costs[a] += _tables.Length == 1 ? c : c / _tables.Length;
                if (!bagCosts.IsEmpty)
                {
                    bagCosts[b * k + a] = c;
                }
            }
        }
    }
}

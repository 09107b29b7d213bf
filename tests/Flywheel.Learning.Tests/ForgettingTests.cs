using Flywheel.Core;

namespace Flywheel.Learning.Tests;

public sealed class ForgettingTests
{
    private static readonly int[] Slot = [3];
    private static readonly float[] One = [1f];

    /// <summary>Learns label +1 for a long time, then −1 for <paramref name="after"/> updates; answers the prediction.</summary>
    private static float AfterFlip(OnlineRegressor regressor, int before, int after)
    {
        for (var i = 0; i < before; i++)
        {
            regressor.Update(Slot, One, 1f, 1f);
        }
        for (var i = 0; i < after; i++)
        {
            regressor.Update(Slot, One, -1f, 1f);
        }
        return regressor.Predict(Slot, One);
    }

    [Fact]
    public void Update_Forgetting_FollowsAChangedLabelFaster()
    {
        var remembering = AfterFlip(new OnlineRegressor(4, learningRate: 0.05, powerT: 0.5), 20_000, 200);
        var forgetting = AfterFlip(new OnlineRegressor(4, learningRate: 0.05, powerT: 0.5, forgetting: 0.01), 20_000, 200);

        // Measured: about −0.33 with forgetting, +0.02 without (it has barely left +1's side after 200 updates).
        Assert.True(forgetting < remembering - 0.25f, $"with forgetting {forgetting:F4} should be well nearer −1 than {remembering:F4}");
        Assert.True(forgetting < 0, $"{forgetting:F4}");
    }

    [Fact]
    public void Update_ZeroForgetting_IsTheUsualUpdate()
    {
        var usual = new OnlineRegressor(6, learningRate: 0.3, powerT: 0.65);
        var zero = new OnlineRegressor(6, learningRate: 0.3, powerT: 0.65, forgetting: 0);
        var random = new Random(4);
        for (var i = 0; i < 2000; i++)
        {
            int[] idx = [random.Next(64), random.Next(64)];
            float[] val = [(float)random.NextDouble(), 1f];
            var label = (float)random.NextDouble();
            usual.Update(idx, val, label, 1f);
            zero.Update(idx, val, label, 1f);
        }

        Assert.Equal(usual.CopyWeights(), zero.CopyWeights());
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.0)]
    [InlineData(double.NaN)]
    public void Ctor_ForgettingOutsideZeroToOne_Throws(double forgetting)
        => Assert.Throws<ArgumentOutOfRangeException>(() => new OnlineRegressor(4, forgetting: forgetting));

    [Fact]
    public void Refresh_KeepsWeightsAndRestartsTheAdaptiveRates()
    {
        var regressor = new OnlineRegressor(4, learningRate: 0.05, powerT: 0.5);
        AfterFlip(regressor, 20_000, 0);
        var learned = regressor.Predict(Slot, One);
        var stale = new OnlineRegressor(4, learningRate: 0.05, powerT: 0.5);
        AfterFlip(stale, 20_000, 0);

        regressor.Refresh();
        Assert.Equal(learned, regressor.Predict(Slot, One));
        for (var i = 0; i < 20; i++)
        {
            regressor.Update(Slot, One, -1f, 1f);
            stale.Update(Slot, One, -1f, 1f);
        }

        // Measured: about 0.64 refreshed against 0.77 stale.
        Assert.True(regressor.Predict(Slot, One) < stale.Predict(Slot, One) - 0.1f, $"refreshed {regressor.Predict(Slot, One):F4}, stale {stale.Predict(Slot, One):F4}");
        Assert.Equal(0, regressor.Forgetting);
    }

    [Fact]
    public void Refresh_WithoutWeights_ForgetsEverything()
    {
        var regressor = new OnlineRegressor(4);
        AfterFlip(regressor, 100, 0);

        regressor.Refresh(keepWeights: false);

        Assert.Equal(0f, regressor.Predict(Slot, One));
        Assert.Equal(0, regressor.TotalWeight);
    }

    [Fact]
    public void BanditLearnerRefresh_RestartsExampleCountsSoSquareCbExploresAgain()
    {
        var learner = new BanditLearner(new LearnerConfig { Bits = 16 });
        for (var i = 0; i < 500; i++)
        {
            learner.Learn(Slot, One, -1f, 0.5, actionCount: 4);
        }
        var before = learner.Predict(Slot, One);

        learner.Refresh();

        Assert.Equal(0, learner.Examples);
        Assert.Equal(0, learner.ActionsSeen);
        Assert.Equal(before, learner.Predict(Slot, One));
        learner.Refresh(keepWeights: false);
        Assert.Equal(0f, learner.Predict(Slot, One));
    }

    [Fact]
    public void Fingerprint_ZeroForgetting_KeepsTheFingerprintOfEarlierSnapshots()
    {
        var config = new LearnerConfig();

        Assert.Equal(ModelSnapshot.Fingerprint(config), ModelSnapshot.Fingerprint(config with { Forgetting = 0 }));
        Assert.NotEqual(ModelSnapshot.Fingerprint(config), ModelSnapshot.Fingerprint(config with { Forgetting = 0.001 }));
    }

    [Fact]
    public void Snapshot_WithForgetting_RoundTrips()
    {
        var config = new LearnerConfig { Bits = 16, Forgetting = 0.002 };
        var learner = new BanditLearner(config);
        for (var i = 0; i < 50; i++)
        {
            learner.Learn(Slot, One, i % 2 == 0 ? -1f : 0f, 0.5, actionCount: 3);
        }

        var restored = ModelSnapshot.Load(ModelSnapshot.Save(learner), config, new ExplorationConfig());

        Assert.Equal(learner.Predict(Slot, One), restored.Predict(Slot, One));
        Assert.Equal(0.002, restored.Regressor.Forgetting);
        Assert.Throws<ModelSnapshotException>(() => ModelSnapshot.Load(ModelSnapshot.Save(learner), config with { Forgetting = 0 }, new ExplorationConfig()));
    }
}

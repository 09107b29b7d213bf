using Flywheel.Learning;

namespace Flywheel.Learning.Tests;

public class OnlineRegressorTests
{
    [Fact]
    public void Update_FirstExample_MatchesTheHandComputedInvariantStep()
    {
        // One feature x = 1, label 1, importance 1, l = 0.5: g² = 4, G = 4, N = 1, r = 1/2, S = T = 1, M = 1,
        // π = 0.5, η = 0.5, u = (1 − e^(−0.5)) / 0.5, w = M·u·r·x = 1 − e^(−0.5).
        var regressor = new OnlineRegressor(bits: 4);
        regressor.Update([3], [1f], label: 1f, importance: 1f);
        Assert.Equal(1 - Math.Exp(-0.5), regressor.Predict([3], [1f]), 6);
    }

    [Fact]
    public void Update_ScaledFeature_NormalizationMakesThePredictionScaleFree()
    {
        var small = new OnlineRegressor(bits: 4);
        var large = new OnlineRegressor(bits: 4);
        for (var i = 0; i < 50; i++)
        {
            small.Update([1, 2], [0.5f, 1f], 2f, 1f);
            large.Update([1, 2], [500f, 1f], 2f, 1f);
        }
        Assert.Equal(small.Predict([1, 2], [0.5f, 1f]), large.Predict([1, 2], [500f, 1f]), 3);
    }

    [Fact]
    public void Update_LinearTarget_Converges()
    {
        var random = new Random(674386);
        var regressor = new OnlineRegressor(bits: 8);
        double lastError = 0;
        for (var i = 0; i < 20_000; i++)
        {
            var x1 = (float)random.NextDouble();
            var x2 = (float)(random.NextDouble() * 10);
            var y = 3 * x1 - 0.5f * x2 + 1;
            var error = Math.Abs(regressor.Predict([1, 2, 3], [x1, x2, 1]) - y);
            if (i >= 19_000)
            {
                lastError += error / 1000;
            }
            regressor.Update([1, 2, 3], [x1, x2, 1], y, 1);
        }
        Assert.True(lastError < 0.05, $"mean absolute error {lastError}");
    }

    [Fact]
    public void Update_ZeroImportance_ChangesNothing()
    {
        var regressor = new OnlineRegressor(bits: 4);
        regressor.Update([1], [1f], 5f, 0f);
        Assert.Equal(0f, regressor.Predict([1], [1f]));
    }

    [Fact]
    public void Update_ImportanceWeight_MovesFurtherThanWeightOne()
    {
        var one = new OnlineRegressor(bits: 4);
        var ten = new OnlineRegressor(bits: 4);
        one.Update([1], [1f], 1f, 1f);
        ten.Update([1], [1f], 1f, 10f);
        Assert.True(ten.Predict([1], [1f]) > one.Predict([1], [1f]));
        Assert.True(ten.Predict([1], [1f]) <= 1f, "the invariant update never overshoots the label");
    }
}

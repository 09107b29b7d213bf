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

    [Fact]
    public void Update_ImportanceAboveOne_StepsFurtherButAddsToTheAdaptiveSumOnlyOnce()
    {
        var one = new OnlineRegressor(bits: 4);
        var twenty = new OnlineRegressor(bits: 4);
        var half = new OnlineRegressor(bits: 4);
        one.Update([1, 2], [1f, 3f], 1f, 1f);
        twenty.Update([1, 2], [1f, 3f], 1f, 20f);
        half.Update([1, 2], [1f, 3f], 1f, 0.5f);
        Assert.Equal(one.Gradients[1], twenty.Gradients[1]);
        Assert.Equal(one.Gradients[2], twenty.Gradients[2]);
        Assert.Equal(one.Gradients[2] / 2, half.Gradients[2], 5);
        Assert.True(twenty.Predict([1, 2], [1f, 3f]) > one.Predict([1, 2], [1f, 3f]));
        Assert.Equal(20, twenty.TotalWeight);
    }

    [Fact]
    public void Update_ClipToLabelRange_LeavesAPredictionBeyondTheLabelAlone()
    {
        // Feature 1 alone is pushed to 1; then slots 1 and 2 together predict about 2, beyond every label seen (0 and 1).
        var clipped = new OnlineRegressor(bits: 4, clip: PredictionClip.Range);
        var plain = new OnlineRegressor(bits: 4);
        foreach (var r in new[] { clipped, plain })
        {
            r.Update([3], [1f], 0f, 1f);
            for (var i = 0; i < 20; i++)
            {
                r.Update([1], [1f], 1f, 1f);
                r.Update([2], [1f], 1f, 1f);
            }
        }
        Assert.Equal(0f, clipped.MinLabel);
        Assert.Equal(1f, clipped.MaxLabel);
        var before = clipped.Predict([1, 2], [1f, 1f]);
        Assert.True(before > 1.5f, $"prediction {before}");
        clipped.Update([1, 2], [1f, 1f], 1f, 1f);
        plain.Update([1, 2], [1f, 1f], 1f, 1f);
        Assert.Equal(before, clipped.Predict([1, 2], [1f, 1f]));
        Assert.True(plain.Predict([1, 2], [1f, 1f]) < before, "without clipping the update pulls the prediction back to 1");
    }

    [Fact]
    public void Update_ClipToLabelRange_MeasuresTheErrorFromTheClippedPrediction()
    {
        // A prediction of −1 against label 1, with labels seen in [0, 1], moves as far as one from 0 would.
        var fromMinusOne = new OnlineRegressor(bits: 4, clip: PredictionClip.Range);
        var fromZero = new OnlineRegressor(bits: 4, clip: PredictionClip.Range);
        fromMinusOne.Weights[5] = -1f;
        fromMinusOne.Norms[5] = 1f;
        fromZero.Norms[5] = 1f;
        foreach (var r in new[] { fromMinusOne, fromZero })
        {
            r.Update([6], [1f], 0f, 1f);
            r.Update([5], [1f], 1f, 1f);
        }
        Assert.Equal(fromZero.Predict([5], [1f]) - 0f, fromMinusOne.Predict([5], [1f]) - -1f, 6);
    }

    [Fact]
    public void Update_ClipFloor_LeavesACostBelowTheLowestAloneButPullsOneAboveTheHighestBack()
    {
        // Labels seen: 0 and 1. Slot 1 is pushed to about −1 by hand, slot 2 to about 2.
        var floor = new OnlineRegressor(bits: 4, clip: PredictionClip.Floor);
        floor.Update([3], [1f], 0f, 1f);
        floor.Update([4], [1f], 1f, 1f);
        floor.Weights[1] = -1f;
        floor.Norms[1] = 1f;
        floor.Weights[2] = 2f;
        floor.Norms[2] = 1f;
        floor.Update([1], [1f], 0f, 1f);
        floor.Update([2], [1f], 1f, 1f);
        Assert.Equal(-1f, floor.Predict([1], [1f]));
        Assert.True(floor.Predict([2], [1f]) < 2f, "above the highest label the fit is plain squared loss");
        Assert.Equal((0f, 1f), (floor.MinLabel, floor.MaxLabel));
    }
}

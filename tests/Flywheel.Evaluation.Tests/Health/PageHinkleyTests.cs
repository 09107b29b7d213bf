using Flywheel.Evaluation.Health;

namespace Flywheel.Evaluation.Tests.Health;

public class PageHinkleyTests
{
    [Fact]
    public void Add_HandTrace_StateAfterEachStep()
    {
        // δ = 0.5, λ = 3, α = 0.5, at least 3 values; x̄_t = x̄ + (x − x̄)/t, S_t = max(0, α·S + (x − x̄_t − δ)).
        var detector = new PageHinkley(delta: 0.5, lambda: 3, alpha: 0.5, minimumSamples: 3);
        (double X, double Mean, double Sum, bool Drift)[] trace =
        [
            (1, 1, 0, false),       // x̄ = 1; S = max(0, 0 + 1 − 1 − .5) = 0
            (1, 1, 0, false),       // x̄ = 1; S = 0
            (1, 1, 0, false),       // x̄ = 1; S = 0 (t = 3 may signal, but S ≤ λ)
            (5, 2, 2.5, false),     // x̄ = 1 + 4/4 = 2; S = max(0, 0 + 5 − 2 − .5) = 2.5 ≤ 3
            (5, 2.6, 3.15, true),   // x̄ = 2 + 3/5 = 2.6; S = .5·2.5 + (5 − 2.6 − .5) = 1.25 + 1.9 = 3.15 > 3: drift
            (5, 5, 0, false),       // reset first: t = 1, x̄ = 5, S = max(0, 5 − 5 − .5) = 0
            (0, 2.5, 0, false),     // x̄ = 5 − 5/2 = 2.5; S = max(0, 0 + 0 − 2.5 − .5) = 0: a drop never counts
        ];
        for (var i = 0; i < trace.Length; i++)
        {
            var (x, mean, sum, drift) = trace[i];
            Assert.Equal(drift, detector.Add(x));
            Assert.Equal(mean, detector.Mean, 1e-12);
            Assert.Equal(sum, detector.Sum, 1e-12);
            Assert.Equal(drift, detector.DriftDetected);
        }
        Assert.Equal(2, detector.Count);
        Assert.Equal(1, detector.Detections);
    }

    [Fact]
    public void Add_BeforeMinimumSamples_NeverSignals()
    {
        // The same stream as the hand trace, but with drift allowed only from the 6th value: S = 3.15 at t = 5 is
        // ignored, and at t = 6 S = .5·3.15 + (5 − 3 − .5) = 3.075 > 3 signals.
        var detector = new PageHinkley(delta: 0.5, lambda: 3, alpha: 0.5, minimumSamples: 6);
        double[] values = [1, 1, 1, 5, 5];
        foreach (var x in values)
        {
            Assert.False(detector.Add(x));
        }
        Assert.Equal(3.15, detector.Sum, 1e-12);
        Assert.True(detector.Add(5));
        Assert.Equal(3.075, detector.Sum, 1e-12);
    }

    [Fact]
    public void ForDrops_MirroredTrace_SignalsTheDrop()
    {
        // Feeding −x: 1 1 1 −3 −3 becomes −1 −1 −1 3 3, whose S runs 0 0 0 2.5 3.15 as in the hand trace.
        var detector = PageHinkley.ForDrops(delta: 0.5, lambda: 3, alpha: 0.5, minimumSamples: 3);
        double[] values = [1, 1, 1, -3];
        foreach (var x in values)
        {
            Assert.False(detector.Add(x));
        }
        Assert.Equal(0, detector.Mean, 1e-12);
        Assert.Equal(2.5, detector.Sum, 1e-12);
        Assert.True(detector.Add(-3));
        Assert.True(detector.DetectsDrops);
        // The same values upward never signal on an increase detector.
        var up = new PageHinkley(delta: 0.5, lambda: 3, alpha: 0.5, minimumSamples: 3);
        Assert.DoesNotContain(true, new[] { 1.0, 1, 1, -3, -3 }.Select(up.Add));
    }

    [Fact]
    public void Add_StationaryStream_NoDrift()
    {
        // N(0.5, 0.1²): each step adds x − x̄ − δ, mean −δ, so S is a walk pulled down to 0 and stays far below 50.
        var detector = new PageHinkley();
        var random = new Random(1403);
        for (var i = 0; i < 20_000; i++)
        {
            Assert.False(detector.Add(Gaussian(random, 0.5, 0.1)), $"false alarm at {i}");
        }
        Assert.InRange(detector.Sum, 0, 5);
    }

    [Fact]
    public void Add_MeanShiftUp_DetectedSoonAfter()
    {
        // After 5,000 values at mean 0.5 the mean jumps to 0.8: S grows by about 0.3 − δ − (x̄ − 0.5) ≈ 0.29 a step,
        // so it passes λ = 50 after roughly 50/0.29 ≈ 175 values.
        var detector = new PageHinkley();
        var random = new Random(1404);
        for (var i = 0; i < 5_000; i++)
        {
            Assert.False(detector.Add(Gaussian(random, 0.5, 0.1)));
        }
        var delay = FirstDetection(detector, random, mean: 0.8, limit: 1_000);
        Assert.InRange(delay, 150, 210);
    }

    [Fact]
    public void ForDrops_RewardFalls_DetectedSoonAfter()
    {
        var detector = PageHinkley.ForDrops();
        var random = new Random(1405);
        for (var i = 0; i < 5_000; i++)
        {
            Assert.False(detector.Add(Gaussian(random, 0.66, 0.1)));
        }
        // A fall from 0.66 to 0.38: ≈ 0.28 − δ a step, about 50/0.275 ≈ 180 values.
        var delay = FirstDetection(detector, random, mean: 0.38, limit: 1_000);
        Assert.InRange(delay, 150, 220);
        // An increase detector on the same fall stays silent.
        var up = new PageHinkley();
        var replay = new Random(1405);
        for (var i = 0; i < 6_000; i++)
        {
            Assert.False(up.Add(Gaussian(replay, i < 5_000 ? 0.66 : 0.38, 0.1)));
        }
    }

    [Fact]
    public void Constructor_InvalidArguments_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PageHinkley(delta: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PageHinkley(lambda: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PageHinkley(alpha: 1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PageHinkley(minimumSamples: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PageHinkley().Add(double.NaN));
    }

    /// <summary>Feeds N(mean, 0.1²) values until drift; returns how many it took.</summary>
    private static int FirstDetection(PageHinkley detector, Random random, double mean, int limit)
    {
        for (var i = 1; i <= limit; i++)
        {
            if (detector.Add(Gaussian(random, mean, 0.1)))
            {
                return i;
            }
        }
        return int.MaxValue;
    }

    // Box–Muller on a seeded generator.
    private static double Gaussian(Random random, double mean, double sd)
        => mean + sd * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}

using Flywheel.Evaluation.Health;

namespace Flywheel.Evaluation.Tests.Health;

public class LearningCurveTests
{
    private const double TrueA = 2;
    private const double TrueC = 0.1;
    private const double RelativeNoise = 0.01;

    public static TheoryData<double, int, int> NoisyCurves()
    {
        var data = new TheoryData<double, int, int>();
        foreach (var b in new[] { 0.07, 0.1, 0.2, 0.35, 0.5 })
        {
            foreach (var (points, seed) in new[] { (10, 1401), (15, 1402), (20, 1403), (12, 1404), (18, 1405) })
            {
                data.Add(b, points, seed);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(NoisyCurves))]
    public void Fit_NoisyPowerLaw_RecoversExponentWithin005(double b, int points, int seed)
    {
        // loss(n) = 2·n^(−b) + 0.1 at `points` log-spaced n from 100 to 10⁶, each loss off by 1% Gaussian noise.
        var (n, loss) = Curve(b, points, seed);
        var fit = LearningCurve.Fit(n, loss);

        Assert.InRange(fit.B, b - 0.05, b + 0.05);
        // c is only as sharp as the data come close to the floor: within half the reducible loss left at the last n
        // (2·10⁶^(−b): 0.76 at b = 0.07, 0.002 at b = 0.5), plus three noise SDs of the floor itself.
        var cTolerance = 0.5 * TrueA * Math.Pow(1e6, -b) + 3 * RelativeNoise * TrueC;
        Assert.InRange(fit.C, TrueC - cTolerance, TrueC + cTolerance);
        // Least squares: the fit is at least as close to the points as the true curve is.
        Assert.True(Sse(n, loss, fit.A, fit.B, fit.C) <= Sse(n, loss, TrueA, b, TrueC) * (1 + 1e-9));
        Assert.Equal(1e6, fit.LastExamples);
        // The predicted gain of doubling 10⁶ is near the true 2·10⁶^(−b)·(1 − 2^(−b)); 25% because at b = 0.5 that
        // gain (0.0006) is below the noise of a single point (0.001).
        var trueGain = TrueA * Math.Pow(1e6, -b) * (1 - Math.Pow(2, -b));
        Assert.InRange(fit.DoublingGain, 0.75 * trueGain, 1.25 * trueGain);
    }

    [Fact]
    public void Fit_ExactCurve_RecoversEveryParameter()
    {
        double[] n = [100, 300, 1_000, 3_000, 10_000, 30_000, 100_000];
        var loss = n.Select(x => 1.5 * Math.Pow(x, -0.3) + 0.2).ToArray();
        var fit = LearningCurve.Fit(n, loss);
        Assert.Equal(0.3, fit.B, 1e-6);
        Assert.Equal(1.5, fit.A, 1e-4);
        Assert.Equal(0.2, fit.C, 1e-6);
        Assert.True(fit.Residual < 1e-8);
        Assert.Equal(fit.Predict(100), loss[0], 1e-8);
    }

    [Fact]
    public void Fit_NoFloor_KeepsCAtZero()
    {
        // loss = n^(−0.5): the free 2×2 solution wants c ≈ 0 (or a hair below); c ≥ 0 holds.
        double[] n = [10, 40, 160, 640, 2_560];
        var loss = n.Select(x => Math.Pow(x, -0.5)).ToArray();
        var fit = LearningCurve.Fit(n, loss);
        Assert.True(fit.C >= 0);
        Assert.Equal(0, fit.C, 1e-6);
        Assert.Equal(0.5, fit.B, 1e-4);
    }

    [Fact]
    public void DoublingGain_HandExample_MatchesFormula()
    {
        // a = 1, b = 0.5, c = 0.05, last n = 10,000: loss(n) − loss(2n) = 10,000^(−0.5)·(1 − 2^(−0.5))
        // = 0.01·(1 − 0.70710678) = 0.0029289322.
        var fit = new LearningCurveFit(1, 0.5, 0.05, 0, 10_000);
        Assert.Equal(0.0029289321881345248, fit.DoublingGain, 1e-15);
        Assert.Equal(fit.Predict(10_000) - fit.Predict(20_000), fit.DoublingGain, 1e-15);
        Assert.True(fit.IsPlateau(0.005));
        Assert.False(fit.IsPlateau(0.001));
    }

    [Fact]
    public void DoublingGain_OfAFit_IsLossAtLastNMinusLossAtTwiceIt()
    {
        var (n, loss) = Curve(0.2, 12, 1406);
        var fit = LearningCurve.Fit(n, loss);
        Assert.Equal(fit.Predict(1e6) - fit.Predict(2e6), fit.DoublingGain, 1e-12);
        Assert.Equal(fit.A * Math.Pow(1e6, -fit.B) * (1 - Math.Pow(2, -fit.B)), fit.DoublingGain, 1e-15);
    }

    [Fact]
    public void Fit_FlatOrRisingLoss_IsAFlatCurveAndAPlateau()
    {
        // No decrease to explain: a = 0 (and b reported as 0), c the mean loss, doubling gains nothing.
        double[] n = [100, 200, 400, 800, 1_600];
        double[] loss = [0.30, 0.31, 0.30, 0.32, 0.33];
        var fit = LearningCurve.Fit(n, loss);
        Assert.Equal(0, fit.A);
        Assert.Equal(0, fit.B);
        Assert.Equal(0.312, fit.C, 1e-12);
        Assert.Equal(0, fit.DoublingGain);
        Assert.True(fit.IsPlateau(0.001));
    }

    [Fact]
    public void Fit_PointOrder_DoesNotMatter()
    {
        var (n, loss) = Curve(0.35, 10, 1407);
        var sorted = LearningCurve.Fit(n, loss);
        Array.Reverse(n);
        Array.Reverse(loss);
        var reversed = LearningCurve.Fit(n, loss);
        Assert.Equal(sorted.B, reversed.B, 1e-9);
        Assert.Equal(sorted.C, reversed.C, 1e-9);
    }

    [Fact]
    public void Fit_BadInput_Throws()
    {
        Assert.Throws<ArgumentException>(() => LearningCurve.Fit([10, 20, 40], [0.5, 0.4, 0.35]));
        Assert.Throws<ArgumentException>(() => LearningCurve.Fit([10, 20, 40, 0], [0.5, 0.4, 0.35, 0.3]));
        Assert.Throws<ArgumentException>(() => LearningCurve.Fit([10, -20, 40, 80], [0.5, 0.4, 0.35, 0.3]));
        Assert.Throws<ArgumentException>(() => LearningCurve.Fit([10, 20, 40, double.PositiveInfinity], [0.5, 0.4, 0.35, 0.3]));
        Assert.Throws<ArgumentException>(() => LearningCurve.Fit([10, 20, 40, 80], [0.5, 0.4, double.NaN, 0.3]));
        Assert.Throws<ArgumentException>(() => LearningCurve.Fit([10, 20, 40, 80], [0.5, 0.4, 0.3]));
        // Four points but only two distinct n: three parameters cannot be told apart.
        Assert.Throws<ArgumentException>(() => LearningCurve.Fit([10, 10, 20, 20], [0.5, 0.49, 0.4, 0.41]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LearningCurveFit(1, 0.5, 0, 0, 100).IsPlateau(-1));
    }

    /// <summary>2·n^(−b) + 0.1 at log-spaced n in [100, 10⁶], times (1 + 1%·N(0, 1)) noise from a seeded generator.</summary>
    private static (double[] N, double[] Loss) Curve(double b, int points, int seed)
    {
        var random = new Random(seed);
        var n = new double[points];
        var loss = new double[points];
        for (var i = 0; i < points; i++)
        {
            n[i] = Math.Round(100 * Math.Pow(10, 4.0 * i / (points - 1)));
            var z = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            loss[i] = (TrueA * Math.Pow(n[i], -b) + TrueC) * (1 + RelativeNoise * z);
        }
        return (n, loss);
    }

    private static double Sse(double[] n, double[] loss, double a, double b, double c)
        => n.Select((x, i) => loss[i] - a * Math.Pow(x, -b) - c).Sum(r => r * r);
}

using Flywheel.Evaluation.Answers;
using Xunit.Abstractions;

namespace Flywheel.Evaluation.Tests.Answers;

public sealed class RaschFitTests(ITestOutputHelper output)
{
    [Fact]
    public void Fit_SimulatedRaschData_RecoversTheDifficultiesAndTheSpread()
    {
        var world = RaschWorld.Simulate(people: 1000, items: 20, seed: 7, spread: 1.2);
        var fit = RaschFit.Fit(world.Answers);

        var estimated = RaschWorld.Centred([.. Enumerable.Range(0, 20).Select(j => fit.Difficulty($"i{j}"))]);
        var truth = RaschWorld.Centred(world.Difficulties);
        var pearson = AnswerReplay.Pearson(estimated, truth);
        var rmse = RaschWorld.Rmse(estimated, truth);
        // How far each estimate lies from the truth, in its own standard errors: about 1 when the errors are honest.
        var z = Math.Sqrt(Enumerable.Range(0, 20).Average(j => Math.Pow((estimated[j] - truth[j]) / fit.Items.Single(i => i.ItemId == $"i{j}").StandardError, 2)));
        output.WriteLine($"1,000 people x 20 items: Pearson {pearson:F4}, RMSE {rmse:F3} logits, spread {fit.AbilitySpread:F3} (true 1.2), RMS z {z:F2}, {fit.Iterations} iterations");

        Assert.True(fit.Converged);
        Assert.Equal(20_000, fit.Responses);
        Assert.Equal(1000, fit.Persons);
        Assert.True(pearson >= 0.98, $"Pearson {pearson}");
        Assert.True(rmse < 0.15, $"RMSE {rmse}");
        Assert.InRange(fit.AbilitySpread, 1.1, 1.3);
        Assert.InRange(z, 0.5, 1.6);
        // Abilities: posterior means, shrunk towards 0 but in order.
        var abilities = Enumerable.Range(0, 1000).Select(p => fit.Ability($"u{p}")).ToArray();
        Assert.True(AnswerReplay.Pearson(abilities, world.Abilities) > 0.85);
    }

    [Fact]
    public void Fit_NoAbilitySpread_EachDifficultyIsTheLogOddsOfAWrongAnswer()
    {
        // Everyone equally able: P(right) = σ(−b), so b = ln(wrong/right): 3 of 4 right gives ln(1/3) = −1.0986.
        List<Answer> answers =
        [
            new("u1", "easy", true), new("u2", "easy", true), new("u3", "easy", true), new("u4", "easy", false),
            new("u1", "even", true), new("u2", "even", false),
            new("u1", "hard", false), new("u2", "hard", false), new("u3", "hard", true), new("u4", "hard", false),
        ];
        var fit = RaschFit.Fit(answers, new RaschFitOptions { AbilitySpread = 0, DifficultyPrior = double.PositiveInfinity });
        Assert.Equal(-1.0986122886681098, fit.Difficulty("easy"), 9);
        Assert.Equal(0, fit.Difficulty("even"), 9);
        Assert.Equal(1.0986122886681098, fit.Difficulty("hard"), 9);
        // The standard error of a log odds: 1/√(n p (1 − p)) = 1/√(4 · 3/4 · 1/4).
        Assert.Equal(1 / Math.Sqrt(0.75), fit.Items.Single(i => i.ItemId == "easy").StandardError, 9);
        Assert.Equal(0, fit.AbilitySpread);
        Assert.True(double.IsNaN(fit.Difficulty("unknown")));
    }

    [Fact]
    public void Fit_OneAnswerPerLearner_SolvesTheMarginalEquation()
    {
        // Each learner answers one item, so the posterior is the prior and the fit must solve ∫σ(θ − b) dN(0, 1) = share
        // right. The reference integral here is a plain trapezoid sum, independent of the fit's quadrature.
        var answers = new List<Answer>();
        for (var p = 0; p < 100; p++)
        {
            answers.Add(new($"a{p}", "a", p < 70));
            answers.Add(new($"b{p}", "b", p < 30));
        }
        var fit = RaschFit.Fit(answers, new RaschFitOptions { AbilitySpread = 1, DifficultyPrior = double.PositiveInfinity });
        var expected = SolveMarginal(0.7);
        output.WriteLine($"b(70% right) = {fit.Difficulty("a"):F8}, reference {expected:F8}, {fit.Iterations} iterations");
        Assert.True(fit.Converged);
        Assert.Equal(expected, fit.Difficulty("a"), 5);
        Assert.Equal(-fit.Difficulty("a"), fit.Difficulty("b"), 9);
    }

    [Fact]
    public void Fit_ItemEveryoneGotRight_StaysFinite_AndCountsFirstAnswersOnly()
    {
        var world = RaschWorld.Simulate(people: 200, items: 5, seed: 3);
        var answers = world.Answers.Concat(Enumerable.Range(0, 200).Select(p => new Answer($"u{p}", "trivial", true)))
            .Append(new Answer("u0", "i0", !world.Answers.First(a => a.UserId == "u0" && a.ItemId == "i0").Correct)) // a repeat: ignored
            .ToList();
        var fit = RaschFit.Fit(answers);
        var trivial = fit.Items.Single(i => i.ItemId == "trivial");
        Assert.True(fit.Converged);
        Assert.True(double.IsFinite(trivial.Difficulty) && trivial.Difficulty < fit.Items.Where(i => i.ItemId != "trivial").Min(i => i.Difficulty));
        Assert.Equal(200, trivial.Answers);
        Assert.Equal(200, fit.Items.Single(i => i.ItemId == "i0").Answers);
        Assert.Equal(1200, fit.Responses);
    }

    [Fact]
    public void Fit_IsDeterministic()
    {
        var world = RaschWorld.Simulate(people: 300, items: 8, seed: 11, share: 0.7);
        var a = RaschFit.Fit(world.Answers);
        var b = RaschFit.Fit(world.Answers);
        Assert.Equal(a.Items, b.Items);
        Assert.Equal(a.AbilitySpread, b.AbilitySpread);
        Assert.Equal(a.LogLikelihood, b.LogLikelihood);
    }

    [Fact]
    public void Predict_AveragesOverTheLearnersPosterior()
    {
        var world = RaschWorld.Simulate(people: 400, items: 10, seed: 5);
        var fit = RaschFit.Fit(world.Answers);
        var p = fit.Predict("u1", "i3");
        var plugIn = 1 / (1 + Math.Exp(-(fit.Ability("u1") - fit.Difficulty("i3"))));
        Assert.InRange(p, 0, 1);
        Assert.True(Math.Abs(p - 0.5) < Math.Abs(plugIn - 0.5), "the posterior's spread pulls the prediction towards 1/2");
        // A stranger is drawn from the population; an unknown item has difficulty 0.
        Assert.Equal(0.5, fit.Predict("stranger", "unknown"), 12);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    [InlineData(41)]
    [InlineData(101)]
    public void GaussHermite_IntegratesNormalMomentsExactly(int n)
    {
        var (nodes, weights) = RaschFit.GaussHermite(n);
        Assert.Equal(n, nodes.Length);
        Assert.Equal(1, weights.Sum(), 12);
        // E X^(2m) = (2m − 1)!!, exact while 2m < 2n.
        double[] moments = [1, 1, 3, 15, 105, 945];
        for (var m = 0; m < Math.Min(n, moments.Length); m++)
        {
            var sum = nodes.Zip(weights, (x, w) => w * Math.Pow(x, 2 * m)).Sum();
            Assert.Equal(moments[m], sum, 8);
            var odd = nodes.Zip(weights, (x, w) => w * Math.Pow(x, 2 * m + 1)).Sum();
            Assert.Equal(0, odd, 8);
        }
        if (n == 2)
        {
            Assert.Equal([-1.0, 1.0], nodes.Select(x => Math.Round(x, 12)));
        }
    }

    [Fact]
    public void Fit_BadOptionsOrNoAnswers_Throw()
    {
        List<Answer> one = [new("u", "i", true)];
        Assert.Throws<ArgumentException>(() => RaschFit.Fit([]));
        Assert.Throws<ArgumentException>(() => RaschFit.Fit(one, new RaschFitOptions { QuadraturePoints = 2 }));
        Assert.Throws<ArgumentException>(() => RaschFit.Fit(one, new RaschFitOptions { Tolerance = 0 }));
        Assert.Throws<ArgumentException>(() => RaschFit.Fit(one, new RaschFitOptions { AbilitySpread = -1 }));
        Assert.Throws<ArgumentException>(() => RaschFit.Fit(one, new RaschFitOptions { DifficultyPrior = 0 }));
    }

    /// <summary>b with ∫σ(z − b)φ(z) dz = share, by bisection over a trapezoid sum on [−12, 12].</summary>
    private static double SolveMarginal(double share)
    {
        static double Marginal(double b)
        {
            const int steps = 48_000;
            const double h = 24.0 / steps;
            var sum = 0.0;
            for (var i = 0; i <= steps; i++)
            {
                var z = -12 + i * h;
                var f = Math.Exp(-z * z / 2) / Math.Sqrt(2 * Math.PI) / (1 + Math.Exp(-(z - b)));
                sum += i is 0 or steps ? f / 2 : f;
            }
            return sum * h;
        }
        double lo = -5, hi = 5;
        for (var i = 0; i < 100; i++)
        {
            var mid = (lo + hi) / 2;
            if (Marginal(mid) > share)
            {
                lo = mid;
            }
            else
            {
                hi = mid;
            }
        }
        return (lo + hi) / 2;
    }
}

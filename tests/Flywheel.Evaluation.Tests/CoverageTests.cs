using System.Globalization;
using System.Text;
using Xunit.Abstractions;
using Flywheel.Core;

namespace Flywheel.Evaluation.Tests;

/// <summary>
/// Do the intervals cover? Simulated sparse-click logs whose target-policy value is known exactly (from the
/// simulator's click probabilities over a finite set of contexts), replicated with fixed seeds.
/// </summary>
public class CoverageTests(ITestOutputHelper output)
{
    private const int Actions = 8;
    private const int Features = 4;
    private const int Contexts = 64;
    private const int Replications = 200;

    private static readonly string[] Names = ["ips", "ips-cp", "snips", "dm", "dr"];

    private enum Logging { Uniform, EpsilonGreedy, Softmax }

    private sealed record Config(string Name, double ClickRate, Logging Logging, double Epsilon, double LogTemperature, double TargetTemperature, int Rows);

    /// <summary>One world: click probabilities, the logging and target policies, two reward models and the truth.</summary>
    private sealed class World
    {
        public readonly double[,] Click = new double[Contexts, Actions];
        public readonly double[,] Log = new double[Contexts, Actions];
        public readonly double[,] Target = new double[Contexts, Actions];
        public readonly double[,] Model = new double[Contexts, Actions];   // noisy and 50% optimistic
        public readonly double[] ModelPolicy = new double[Contexts];        // q̂(x, π) of Model
        public readonly double Truth;

        public World(Config c, int seed)
        {
            var random = new Random(seed);
            var theta = Matrix(random, Actions, Features, 1);
            var x = Matrix(random, Contexts, Features, 1);
            var logScore = new double[Contexts, Actions];
            var targetScore = new double[Contexts, Actions];
            for (var i = 0; i < Contexts; i++)
            {
                for (var a = 0; a < Actions; a++)
                {
                    var s = 0.0;
                    for (var f = 0; f < Features; f++)
                    {
                        s += theta[a, f] * x[i, f];
                    }
                    // The mean of 2·σ(s) over symmetric scores is 1, so the overall click rate is about ClickRate.
                    Click[i, a] = c.ClickRate * 2 / (1 + Math.Exp(-s));
                    logScore[i, a] = s + Gaussian(random);            // the logging model knows less
                    targetScore[i, a] = s + 0.5 * Gaussian(random);   // the candidate knows more
                    Model[i, a] = Math.Min(1, Click[i, a] * 1.5 * Math.Exp(0.5 * Gaussian(random)));
                }
            }
            for (var i = 0; i < Contexts; i++)
            {
                switch (c.Logging)
                {
                    case Logging.Uniform:
                        for (var a = 0; a < Actions; a++)
                        {
                            Log[i, a] = 1.0 / Actions;
                        }
                        Greedy(targetScore, i, Target, 0);
                        break;
                    case Logging.EpsilonGreedy:
                        Greedy(logScore, i, Log, c.Epsilon);
                        Greedy(targetScore, i, Target, 0);
                        break;
                    default:
                        Softmax(logScore, i, Log, c.LogTemperature);
                        Softmax(targetScore, i, Target, c.TargetTemperature);
                        break;
                }
            }
            var truth = 0.0;
            for (var i = 0; i < Contexts; i++)
            {
                for (var a = 0; a < Actions; a++)
                {
                    truth += Target[i, a] * Click[i, a];
                    ModelPolicy[i] += Target[i, a] * Model[i, a];
                }
            }
            Truth = truth / Contexts;
        }

        private static double[,] Matrix(Random random, int rows, int columns, double scale)
        {
            var m = new double[rows, columns];
            for (var i = 0; i < rows; i++)
            {
                for (var j = 0; j < columns; j++)
                {
                    m[i, j] = scale * Gaussian(random);
                }
            }
            return m;
        }

        private static void Greedy(double[,] score, int i, double[,] into, double epsilon)
        {
            var best = 0;
            for (var a = 1; a < Actions; a++)
            {
                best = score[i, a] > score[i, best] ? a : best;
            }
            for (var a = 0; a < Actions; a++)
            {
                into[i, a] = epsilon / Actions + (a == best ? 1 - epsilon : 0);
            }
        }

        private static void Softmax(double[,] score, int i, double[,] into, double temperature)
        {
            var max = double.NegativeInfinity;
            for (var a = 0; a < Actions; a++)
            {
                max = Math.Max(max, score[i, a]);
            }
            var total = 0.0;
            for (var a = 0; a < Actions; a++)
            {
                into[i, a] = Math.Exp((score[i, a] - max) / temperature);
                total += into[i, a];
            }
            for (var a = 0; a < Actions; a++)
            {
                into[i, a] /= total;
            }
        }
    }

    private static double Gaussian(Random random)
        => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    /// <summary>The old intervals: V ± z·s/√n over the per-row terms of docs/estimators.md, for the contrast table.</summary>
    private struct OldGaussian
    {
        private double _n, _sw, _swr, _sw2, _sw2r, _sw2r2;
        private double _ips, _ips2, _dm, _dm2, _dr, _dr2;

        public void Add(double w, double r, double qp, double qa)
        {
            _n++;
            _sw += w;
            _swr += w * r;
            _sw2 += w * w;
            _sw2r += w * w * r;
            _sw2r2 += w * w * r * r;
            _ips += w * r;
            _ips2 += w * r * w * r;
            _dm += qp;
            _dm2 += qp * qp;
            var dr = qp + w * (r - qa);
            _dr += dr;
            _dr2 += dr * dr;
        }

        public readonly Estimate[] Get()
        {
            var snips = _swr / _sw;
            var meanW = _sw / _n;
            var snipsSquares = (_sw2r2 - 2 * snips * _sw2r + snips * snips * _sw2) / (meanW * meanW);
            var ips = Of(_ips, _ips2);
            return [ips, ips, Estimate.Gaussian(snips, snipsSquares, (long)_n), Of(_dm, _dm2), Of(_dr, _dr2)];
        }

        private readonly Estimate Of(double sum, double squares) => Estimate.Gaussian(sum / _n, squares - sum * sum / _n, (long)_n);
    }

    private static Estimate OldClopperPearson(in OffPolicyAccumulator a)
    {
        var e = a.GetEstimates();
        var trials = a.Count / e.MaxWeight;
        var (lower, upper) = ClopperPearson.Interval(Math.Min(trials, a.SumOfWeightedRewards / e.MaxWeight), trials);
        return new Estimate(e.Ips.Value, lower, upper);
    }

    private static Estimate[] New(OffPolicyEstimates e) => [e.Ips, e.IpsClopperPearson!.Value, e.Snips, e.Dm, e.Dr];

    /// <summary>Coverage counts per estimator (new, old) for the noisy model and the all-zero model, and median widths.</summary>
    private sealed record Outcome(int[] NewModel, int[] NewZero, int[] OldModel, int[] OldZero, double[] NewWidth, double[] OldWidth, double Truth, double MeanClicks);

    private static Outcome Run(Config c, int configSeed)
    {
        var world = new World(c, configSeed);
        int[] newModel = new int[5], newZero = new int[5], oldModel = new int[5], oldZero = new int[5];
        var newWidths = new double[5][];
        var oldWidths = new double[5][];
        for (var k = 0; k < 5; k++)
        {
            newWidths[k] = new double[Replications];
            oldWidths[k] = new double[Replications];
        }
        var clicks = 0L;
        for (var rep = 0; rep < Replications; rep++)
        {
            var random = new Random(configSeed * 1000 + rep);
            var model = new OffPolicyAccumulator();
            var zero = new OffPolicyAccumulator();
            var oldM = new OldGaussian();
            var oldZ = new OldGaussian();
            for (var row = 0; row < c.Rows; row++)
            {
                var i = random.Next(Contexts);
                var u = random.NextDouble();
                var a = 0;
                var cumulative = world.Log[i, 0];
                while (a < Actions - 1 && u >= cumulative)
                {
                    cumulative += world.Log[i, ++a];
                }
                var r = random.NextDouble() < world.Click[i, a] ? 1.0 : 0.0;
                clicks += (long)r;
                var w = world.Target[i, a] / world.Log[i, a];
                model.Add(w, r, world.ModelPolicy[i], world.Model[i, a]);
                zero.Add(w, r, 0, 0);
                oldM.Add(w, r, world.ModelPolicy[i], world.Model[i, a]);
                oldZ.Add(w, r, 0, 0);
            }
            var nm = New(model.GetEstimates());
            var nz = New(zero.GetEstimates());
            var om = oldM.Get();
            var oz = oldZ.Get();
            // Clopper–Pearson's old figures: VowpalWabbit's n/W trials.
            om[1] = OldClopperPearson(model);
            oz[1] = OldClopperPearson(zero);
            for (var k = 0; k < 5; k++)
            {
                newModel[k] += nm[k].Contains(world.Truth) ? 1 : 0;
                newZero[k] += nz[k].Contains(world.Truth) ? 1 : 0;
                oldModel[k] += om[k].Contains(world.Truth) ? 1 : 0;
                oldZero[k] += oz[k].Contains(world.Truth) ? 1 : 0;
                newWidths[k][rep] = nm[k].Upper - nm[k].Lower;
                oldWidths[k][rep] = om[k].Upper - om[k].Lower;
            }
        }
        return new Outcome(newModel, newZero, oldModel, oldZero, [.. newWidths.Select(Median)], [.. oldWidths.Select(Median)],
            world.Truth, clicks / (double)Replications);
    }

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return (sorted[(sorted.Length - 1) / 2] + sorted[sorted.Length / 2]) / 2;
    }

    private static IEnumerable<Config> Sparse()
    {
        foreach (var rate in new[] { 0.005, 0.01, 0.02, 0.05 })
        {
            var p = rate.ToString("P1", CultureInfo.InvariantCulture);
            yield return new Config($"uniform→greedy {p}", rate, Logging.Uniform, 0, 0, 0, 3000);
            yield return new Config($"ε0.05-greedy→greedy {p}", rate, Logging.EpsilonGreedy, 0.05, 0, 0, 3000);
            yield return new Config($"ε0.2-greedy→greedy {p}", rate, Logging.EpsilonGreedy, 0.2, 0, 0, 3000);
            yield return new Config($"softmax→softmax {p}", rate, Logging.Softmax, 0, 1.0, 0.3, 3000);
        }
    }

    private static string Row(string label, int[] covered) => label + string.Concat(covered.Select(k => $" {k / (double)Replications,6:P0}"));

    [Fact]
    public void SparseClicks_EveryInterval_CoversAtLeast90Percent()
    {
        var table = new StringBuilder();
        table.AppendLine(CultureInfo.InvariantCulture, $"{"configuration",-34} {"truth",7} {"clicks",6} q̂     method  {string.Join(" ", Names.Select(n => $"{n,6}"))}");
        var failures = new List<string>();
        var seed = 1;
        foreach (var c in Sparse())
        {
            var o = Run(c, seed++);
            var head = string.Create(CultureInfo.InvariantCulture, $"{c.Name,-34} {o.Truth,7:F5} {o.MeanClicks,6:F1}");
            table.AppendLine(Row($"{head} model  new   ", o.NewModel));
            table.AppendLine(Row($"{"",-48} zero   new   ", o.NewZero));
            table.AppendLine(Row($"{"",-48} model  old   ", o.OldModel));
            table.AppendLine(Row($"{"",-48} zero   old   ", o.OldZero));
            table.AppendLine($"{"",-48} median width, q̂ model, new/old:" + string.Concat(Enumerable.Range(0, Names.Length)
                .Select(k => string.Create(CultureInfo.InvariantCulture, $" {Names[k]} {o.NewWidth[k]:F4}/{o.OldWidth[k]:F4}"))));
            for (var k = 0; k < Names.Length; k++)
            {
                foreach (var (covered, model) in new[] { (o.NewModel[k], "model"), (o.NewZero[k], "zero") })
                {
                    if (covered < 0.9 * Replications)
                    {
                        failures.Add($"{c.Name} {Names[k]} (q̂ {model}): {covered}/{Replications}");
                    }
                }
            }
        }
        output.WriteLine(table.ToString());
        Assert.True(failures.Count == 0, "coverage below 90%: " + string.Join("; ", failures));
    }

    [Fact]
    public void RichClicks_IntervalsStayNarrow()
    {
        // Click rate 20%, n = 5,000: the padding must cost little where the data is rich.
        var configs = new[]
        {
            new Config("uniform→greedy 20%", 0.2, Logging.Uniform, 0, 0, 0, 5000),
            new Config("ε0.1-greedy→greedy 20%", 0.2, Logging.EpsilonGreedy, 0.1, 0, 0, 5000),
            new Config("softmax→softmax 20%", 0.2, Logging.Softmax, 0, 1.0, 0.3, 5000),
        };
        var seed = 101;
        foreach (var c in configs)
        {
            var o = Run(c, seed++);
            output.WriteLine($"{c.Name}: median width new / old");
            for (var k = 0; k < Names.Length; k++)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {Names[k],-7} {o.NewWidth[k]:F4} / {o.OldWidth[k]:F4} = {o.NewWidth[k] / o.OldWidth[k]:F2}   coverage {o.NewModel[k]}/{Replications} (old {o.OldModel[k]})"));
                Assert.True(o.NewModel[k] >= 0.9 * Replications, $"{c.Name} {Names[k]}: coverage {o.NewModel[k]}/{Replications}");
            }
            // IPS, SNIPS and DR: at most 25% wider than the Gaussian interval (DM is the hull with DR by design).
            foreach (var k in new[] { 0, 2, 4 })
            {
                Assert.True(o.NewWidth[k] <= 1.25 * o.OldWidth[k], $"{c.Name} {Names[k]}: {o.NewWidth[k]:R} vs {o.OldWidth[k]:R}");
            }
        }
    }

    [Fact]
    public void NoRewardAtAll_EveryUpperBoundIsPositive()
    {
        // 2,000 decisions, uniform logging over 8 actions, a greedy target, not one click.
        var random = new Random(7);
        var zero = new OffPolicyAccumulator();
        var model = new OffPolicyAccumulator();
        for (var i = 0; i < 2000; i++)
        {
            var w = random.Next(Actions) == 0 ? Actions : 0.0;
            zero.Add(w, 0, 0, 0);
            model.Add(w, 0, 0.004 + 0.002 * random.NextDouble(), 0.004 + 0.002 * random.NextDouble());
        }
        foreach (var accumulator in new[] { zero, model })
        {
            foreach (var e in new[] { accumulator.GetEstimates(), accumulator.GetEstimates(Estimate.Z95, 0, 1) })
            {
                var all = New(e);
                for (var k = 0; k < Names.Length; k++)
                {
                    Assert.True(all[k].Upper > 0, $"{Names[k]}: upper {all[k].Upper:R}");
                    Assert.True(all[k].Lower >= 0, $"{Names[k]}: lower {all[k].Lower:R}");
                }
                // One click in ~250 matched rows is entirely plausible, so the upper bound must allow it.
                Assert.True(e.Ips.Upper > Actions / 2000.0, $"ips upper {e.Ips.Upper:R}");
                Assert.True(e.Snips.Upper > 1 / 250.0, $"snips upper {e.Snips.Upper:R}");
            }
        }
    }

    [Fact]
    public void NoReward_IpsUpper_IsTheGaussianOfOneMoreRowAtTheLargestTerm()
    {
        // 1,000 rows, every 8th with w = 8, no reward: the terms are all 0, so the extra row x = 8·1 gives
        // V′ = 8/1001, M′ = 8·(8 − V′) and the upper bound V′ + z·√(M′/(1000·1001)).
        var accumulator = new OffPolicyAccumulator();
        for (var i = 0; i < 1000; i++)
        {
            accumulator.Add(i % 8 == 0 ? 8 : 0, 0, 0, 0);
        }
        var e = accumulator.GetEstimates();
        var padded = 8.0 / 1001;
        var expected = padded + Estimate.Z95 * Math.Sqrt(8 * (8 - padded) / (1000.0 * 1001));
        Assert.Equal(expected, e.Ips.Upper, 15);
        Assert.Equal(0, e.Ips.Lower);
        Assert.Equal(0.0237, e.Ips.Upper, 4);
        // SNIPS: the extra row (w = 8, r = 1) joins 125 rows of w = 8 and r = 0: V′ = 1/126, and the terms
        // w(r − V′)/mean(w) with mean(w) = 1008/1001.
        var v = 1.0 / 126;
        var meanW = 1008.0 / 1001;
        var squares = (125 * 64 * v * v + 64 * (1 - v) * (1 - v)) / (meanW * meanW);
        Assert.Equal(v + Estimate.Z95 * Math.Sqrt(squares / (1000.0 * 1001)), e.Snips.Upper, 14);
    }

    [Fact]
    public void ConfidenceLevel_FollowsZ()
    {
        var accumulator = new OffPolicyAccumulator();
        var random = new Random(11);
        for (var i = 0; i < 3000; i++)
        {
            accumulator.Add(random.Next(5) == 0 ? 5 : 0, random.NextDouble() < 0.03 ? 1 : 0, 0.02, 0.03);
        }
        var z90 = Estimate.ZFor(0.9);
        var at95 = accumulator.GetEstimates();
        var at90 = accumulator.GetEstimates(z90);
        foreach (var estimator in OffPolicyEstimatorNames.All)
        {
            var (wide, narrow) = (at95.Get(estimator)!.Value, at90.Get(estimator)!.Value);
            Assert.True(wide.Lower < narrow.Lower && narrow.Upper < wide.Upper, $"{estimator}: 95% [{wide.Lower}, {wide.Upper}], 90% [{narrow.Lower}, {narrow.Upper}]");
        }
        // α = 2(1 − Φ(z)): 0.1 up to the 1e-9 of ZFor's approximation.
        var alpha = 2 * Flywheel.Evaluation.Health.Normal.UpperTail(z90);
        Assert.Equal(0.1, alpha, 8);
        var cp = ClopperPearson.ForIps(3000, accumulator.SumOfWeightedRewards, 5, alpha);
        Assert.Equal(cp.Lower, at90.IpsClopperPearson!.Value.Lower, 12);
        Assert.Equal(cp.Upper, at90.IpsClopperPearson!.Value.Upper, 12);
    }

    [Fact]
    public void KnownRange_BoundsTheIntervals_AndRejectsRewardsOutsideIt()
    {
        var accumulator = new OffPolicyAccumulator();
        var random = new Random(3);
        for (var i = 0; i < 500; i++)
        {
            accumulator.Add(random.Next(4) == 0 ? 4 : 0, random.NextDouble() < 0.1 ? 0.5 : 0, 0.05, 0.05);
        }
        var wide = accumulator.GetEstimates();
        var known = accumulator.GetEstimates(Estimate.Z95, 0, 0.5);
        Assert.Equal(wide.Ips.Value, known.Ips.Value);
        // A narrower known range makes the padded row smaller, so the upper bounds shrink.
        Assert.True(known.Ips.Upper < wide.Ips.Upper);
        Assert.True(known.Dr.Upper <= 0.5 && known.Snips.Upper <= 0.5 && known.IpsClopperPearson!.Value.Upper <= 0.5);
        Assert.Throws<ArgumentOutOfRangeException>(() => accumulator.GetEstimates(Estimate.Z95, 0, 0.25));
        Assert.Throws<ArgumentOutOfRangeException>(() => accumulator.GetEstimates(Estimate.Z95, 1, 1));
        double[] w = [4, 0, 4, 0];
        double[] r = [0.5, 0, 0, 0];
        double[] q = [0.05, 0.05, 0.05, 0.05];
        var spans = OffPolicyMath.Evaluate(w, r, q, q, Estimate.Z95, 0, 0.5);
        var streamed = new OffPolicyAccumulator();
        for (var i = 0; i < 4; i++)
        {
            streamed.Add(w[i], r[i], q[i], q[i]);
        }
        var expected = streamed.GetEstimates(Estimate.Z95, 0, 0.5);
        foreach (var e in OffPolicyEstimatorNames.All)
        {
            var (x, y) = (expected.Get(e)!.Value, spans.Get(e)!.Value);
            Assert.Equal(x.Value, y.Value, 12);
            Assert.Equal(x.Lower, y.Lower, 12);
            Assert.Equal(x.Upper, y.Upper, 12);
        }
    }
}

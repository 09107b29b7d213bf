using Flywheel.Core;
using Flywheel.Learning;
using Xunit.Abstractions;

namespace Flywheel.Evaluation.Tests;

/// <summary>The cross-fitted reward model of DM and DR: independent of row order, no worse than the progressive fit it replaced.</summary>
public class FittedRewardModelTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-9;

    [Fact]
    public void OpeSmall_WithoutEstimates_SameDmAndDrWhateverTheOrder()
    {
        var rows = ReadAll("ope-small.jsonl.gz").Select(d => d with { RewardEstimates = null }).ToList();
        var reference = OffPolicyEvaluator.Evaluate(rows);
        Assert.Equal(OffPolicyReport.Fitted, reference.RewardEstimates);
        output.WriteLine($"ope-small, file order: DM {Show(reference.Estimates.Dm)}, DR {Show(reference.Estimates.Dr)}");
        AssertSameWhateverTheOrder(rows, reference, "ope-small");
    }

    [Fact]
    public void SparseClicks_SameDmAndDrWhateverTheOrder()
    {
        var (rows, truth) = SparseClicks(seed: 1);
        var clickRate = rows.Average(r => r.Reward);
        Assert.InRange(clickRate, 0.005, 0.02);
        var reference = OffPolicyEvaluator.Evaluate(rows);
        output.WriteLine($"sparse clicks: {rows.Count} rows, click rate {clickRate:F4}, true value {truth:F5}; DM {Show(reference.Estimates.Dm)}, DR {Show(reference.Estimates.Dr)}");
        AssertSameWhateverTheOrder(rows, reference, "sparse clicks");
    }

    [Fact]
    public void SparseClicks_CrossFittedDm_AtLeastAsCloseToTheTruthAsTheProgressiveFit()
    {
        var crossError = 0.0;
        var progressiveError = 0.0;
        var progressiveSpread = 0.0;
        const int Seeds = 16;
        for (var seed = 1; seed <= Seeds; seed++)
        {
            var (rows, truth) = SparseClicks(seed);
            var cross = OffPolicyEvaluator.Evaluate(rows).Estimates.Dm.Value;
            // The old fit depends on the order: average its error over a few shuffles of the same rows.
            var errors = new List<double>();
            var values = new List<double>();
            for (var shuffle = 0; shuffle < 3; shuffle++)
            {
                var value = ProgressiveDm(Shuffle(rows, 100 + shuffle));
                values.Add(value);
                errors.Add(Math.Abs(value - truth));
            }
            crossError += Math.Abs(cross - truth);
            progressiveError += errors.Average();
            progressiveSpread += values.Max() - values.Min();
            output.WriteLine($"seed {seed}: truth {truth:F5}, cross-fitted DM {cross:F5}, progressive DM {string.Join(" / ", values.Select(v => v.ToString("F5")))}");
        }
        crossError /= Seeds;
        progressiveError /= Seeds;
        output.WriteLine($"mean |DM − truth|: cross-fitted {crossError:F5}, progressive {progressiveError:F5}; progressive spread over shuffles {progressiveSpread / Seeds:F5}");
        Assert.True(crossError <= progressiveError, $"cross-fitted {crossError} vs progressive {progressiveError}");
    }

    [Fact]
    public void RepeatedDecisionIds_DifferentContent_SameWhateverTheOrder()
    {
        var (rows, _) = SparseClicks(seed: 7, n: 600);
        // Every third row reuses an earlier row's id with other content; exact duplicates too.
        var repeated = rows.Select((r, i) => i % 3 == 0 ? r with { DecisionId = "same" } : r).ToList();
        repeated.AddRange(repeated.Take(30));
        var reference = OffPolicyEvaluator.Evaluate(repeated);
        Assert.Equal(repeated.Count, reference.Estimates.Count);
        Assert.True(double.IsFinite(reference.Estimates.Dm.Value) && double.IsFinite(reference.Estimates.Dr.Value));
        AssertSameWhateverTheOrder(repeated, reference, "repeated ids");
    }

    [Fact]
    public void OneIdForEveryRow_StillFitsAModel()
    {
        // A log whose rows all carry one id (a tool that did not log ids): the folds still spread, so q̂ is learned.
        var (rows, truth) = SparseClicks(seed: 11, n: 3000);
        var sameId = rows.Select(r => r with { DecisionId = "x" }).ToList();

        var distinct = OffPolicyEvaluator.Evaluate(rows).Estimates.Dm.Value;
        var shared = OffPolicyEvaluator.Evaluate(sameId).Estimates.Dm.Value;

        Assert.True(shared > 0, $"DM {shared} with one id for every row");
        Assert.True(Math.Abs(shared - truth) <= 3 * Math.Abs(distinct - truth) + 0.01, $"DM {shared} (one id) vs {distinct} (distinct ids), truth {truth}");
        AssertSameWhateverTheOrder(sameId, OffPolicyEvaluator.Evaluate(sameId), "one id");
    }

    [Fact]
    public void EmptyContextAndSingleAction_Evaluate()
    {
        var rows = Enumerable.Range(0, 200).Select(i => new LoggedDecision
        {
            DecisionId = $"e{i}",
            Context = new Features(),
            Actions = i % 2 == 0 ? [new ActionCandidate("only")] : [new ActionCandidate("a"), new ActionCandidate("b")],
            ChosenActionId = i % 2 == 0 ? "only" : i % 4 == 1 ? "a" : "b",
            Probability = i % 2 == 0 ? 1 : 0.5,
            Reward = i % 4 == 1 ? 1 : 0,
        }).ToList();
        var report = OffPolicyEvaluator.Evaluate(rows);
        Assert.Equal(OffPolicyReport.Fitted, report.RewardEstimates);
        Assert.Equal(200, report.Estimates.Count);
        // The only reward is on a: q̂ learns a positive value for a and about 0 for the rest, so DM lies in [0, 0.5].
        Assert.InRange(report.Estimates.Dm.Value, 0.0, 0.5);
        Assert.True(double.IsFinite(report.Estimates.Dr.Value));
        AssertSameWhateverTheOrder(rows, report, "empty context");

        var single = OffPolicyEvaluator.Evaluate(rows.Take(1));
        Assert.Equal(0, single.Estimates.Dm.Value);
    }

    [Fact]
    public void MixedFile_RowsWithEstimatesStream_OthersAreFitted()
    {
        var rows = ReadAll("ope-small.jsonl.gz");
        var mixed = rows.Select((d, i) => i % 2 == 0 ? d : d with { RewardEstimates = null }).ToList();
        var report = OffPolicyEvaluator.Evaluate(mixed);
        Assert.Equal(OffPolicyReport.Mixed, report.RewardEstimates);
        Assert.Equal((mixed.Count + 1) / 2, report.RowsWithRewardEstimates);
        Assert.Equal(mixed.Count, report.Estimates.Count);
        // IPS and SNIPS ignore q̂: exactly those of the file.
        var full = OffPolicyEvaluator.Evaluate(rows);
        Assert.Equal(full.Estimates.Ips.Value, report.Estimates.Ips.Value, 12);
        Assert.Equal(full.Estimates.Snips.Value, report.Estimates.Snips.Value, 12);
        AssertSameWhateverTheOrder(mixed, report, "mixed");
    }

    [Fact]
    public void GetReport_Twice_AndAfterMoreRows()
    {
        var (rows, _) = SparseClicks(seed: 3, n: 500);
        var evaluator = new OffPolicyEvaluator();
        foreach (var row in rows.Take(400))
        {
            evaluator.Add(row);
        }
        var first = evaluator.GetReport();
        Assert.Equal(first.Estimates, evaluator.GetReport().Estimates);
        Assert.Equal(400, first.Estimates.Count);
        foreach (var row in rows.Skip(400))
        {
            evaluator.Add(row);
        }
        var all = evaluator.GetReport();
        Assert.Equal(500, all.Estimates.Count);
        Assert.Equal(OffPolicyReport.Fitted, all.RewardEstimates);
        Assert.Equal(OffPolicyEvaluator.Evaluate(rows).Estimates, all.Estimates);
    }

    private void AssertSameWhateverTheOrder(List<LoggedDecision> rows, OffPolicyReport reference, string name)
    {
        var dm = reference.Estimates.Dm;
        var dr = reference.Estimates.Dr;
        var worst = 0.0;
        for (var seed = 1; seed <= 5; seed++)
        {
            var shuffled = OffPolicyEvaluator.Evaluate(Shuffle(rows, seed)).Estimates;
            worst = Math.Max(worst, Math.Max(SharedData.RelativeError(shuffled.Dm.Value, dm.Value), SharedData.RelativeError(shuffled.Dr.Value, dr.Value)));
            Assert.True(SharedData.RelativeError(shuffled.Dm.Value, dm.Value) <= Tolerance, $"{name}, shuffle {seed}: DM {shuffled.Dm.Value} vs {dm.Value}");
            Assert.True(SharedData.RelativeError(shuffled.Dr.Value, dr.Value) <= Tolerance, $"{name}, shuffle {seed}: DR {shuffled.Dr.Value} vs {dr.Value}");
            Assert.InRange(shuffled.Dm.Value, dm.Lower, dm.Upper);
            Assert.InRange(shuffled.Dr.Value, dr.Lower, dr.Upper);
            Assert.Equal(reference.Estimates.Ips.Value, shuffled.Ips.Value, 12);
        }
        output.WriteLine($"{name}: largest relative change of DM or DR over 5 shuffles {worst:E2}");
    }

    private static string Show(Estimate e) => $"{e.Value:F5} [{e.Lower:F5}, {e.Upper:F5}]";

    private static List<LoggedDecision> ReadAll(string file)
    {
        using var reader = LoggedDecisionReader.Open(SharedData.OpeFile(file));
        return [.. reader.ReadAll()];
    }

    private static List<LoggedDecision> Shuffle(List<LoggedDecision> rows, int seed)
    {
        var copy = rows.ToArray();
        new Random(seed).Shuffle(copy);
        return [.. copy];
    }

    /// <summary>
    /// A sparse-click log with known truth: 6 user segments × 4 hours, 10 items in 6 groups; an item of the user's
    /// segment's group is clicked with probability 0.005 + 0.04·(0.5 + hour/6), any other with 0.005. The logging
    /// policy puts 0.31 on a wrong item and spreads the rest; the target policy puts 0.6 on the segment's own item.
    /// </summary>
    private static (List<LoggedDecision> Rows, double Truth) SparseClicks(int seed, int n = 4000)
    {
        const int Items = 10, Segments = 6, Hours = 4;
        var rng = new Random(seed);
        var actions = Enumerable.Range(0, Items)
            .Select(a => new ActionCandidate($"i{a}", new Features { ["item"] = { ["group"] = $"g{a % Segments}" } })).ToList();
        double Click(int segment, int hour, int a) => 0.005 + (a % Segments == segment ? 0.04 * (0.5 + hour / 6.0) : 0);
        double Target(int segment, int a) => a == segment ? 0.6 : 0.4 / (Items - 1);
        double Logging(int segment, int a) => a == (segment + 1) % Items ? 0.31 : 0.69 / (Items - 1);

        var truth = 0.0;
        for (var s = 0; s < Segments; s++)
        {
            for (var h = 0; h < Hours; h++)
            {
                for (var a = 0; a < Items; a++)
                {
                    truth += Target(s, a) * Click(s, h, a) / (Segments * Hours);
                }
            }
        }

        var rows = new List<LoggedDecision>(n);
        for (var i = 0; i < n; i++)
        {
            var segment = rng.Next(Segments);
            var hour = rng.Next(Hours);
            var u = rng.NextDouble();
            var chosen = Items - 1;
            for (var a = 0; a < Items; a++)
            {
                u -= Logging(segment, a);
                if (u < 0)
                {
                    chosen = a;
                    break;
                }
            }
            rows.Add(new LoggedDecision
            {
                DecisionId = $"s{seed}-{i}",
                Context = new Features { ["user"] = { ["segment"] = $"s{segment}" }, ["time"] = { ["hour"] = hour } },
                Actions = actions,
                ChosenActionId = actions[chosen].Id,
                Probability = Logging(segment, chosen),
                Reward = rng.NextDouble() < Click(segment, hour, chosen) ? 1 : 0,
                TargetProbabilities = Enumerable.Range(0, Items).ToDictionary(a => actions[a].Id, a => Target(segment, a)),
            });
        }
        return (rows, truth);
    }

    /// <summary>The fit this model replaced: one learner over the rows in file order, each row scored before it is learned from.</summary>
    private static double ProgressiveDm(List<LoggedDecision> rows)
    {
        var config = new LearnerConfig() with { Reduction = Reduction.Dm };
        var learner = new BanditLearner(config, clip: PredictionClip.None);
        var featurizer = new Featurizer(config);
        var features = new FeatureVector();
        var costs = new float[16];
        var sum = 0.0;
        foreach (var row in rows)
        {
            featurizer.SetContext(HashedFeatureSet.FromContext(row.Context));
            features.Clear();
            foreach (var action in row.Actions)
            {
                featurizer.AddAction(HashedFeatureSet.FromAction(action), features);
            }
            learner.Predict(features, costs);
            for (var a = 0; a < row.Actions.Count; a++)
            {
                sum += row.TargetProbabilities![row.Actions[a].Id] * -(double)costs[a];
            }
            learner.Learn(features, row.ChosenIndex, (float)-row.Reward, row.Probability);
        }
        return sum / rows.Count;
    }
}

using System.Text.Json;
using Xunit.Abstractions;
using Flywheel.Core;

namespace Flywheel.Evaluation.Tests;

/// <summary>
/// Every number of ope-reference.json, reproduced from the reference files (samples/data/ope): values and ESS to 1e-9
/// relative. The reference bounds are the Gaussian intervals and VowpalWabbit's Clopper–Pearson; Flywheel's intervals
/// (docs/estimators.md, "Intervals") are wider on purpose, so each must contain the reference's Gaussian interval
/// (clipped to the reward range), and the reference's Clopper–Pearson bounds are reproduced to 1e-9 from the same
/// statistics with VowpalWabbit's n/W trials. How far each bound moved is written to the test output.
/// </summary>
public class ReferenceTests(ITestOutputHelper output)
{
    public static TheoryData<string, string> Files()
    {
        var data = new TheoryData<string, string>();
        foreach (var (file, key) in SharedData.ReferenceFiles)
        {
            data.Add(file, key);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Evaluate_ReferenceFile_MatchesEveryNumber(string file, string key)
    {
        var report = OffPolicyEvaluator.EvaluateFile(SharedData.OpeFile(file));
        Assert.Equal(OffPolicyReport.FromFile, report.TargetPolicy);
        Assert.Equal(OffPolicyReport.FromFile, report.RewardEstimates);
        var worst = Compare(report.Estimates, key, output);
        output.WriteLine($"{file}: largest relative error {worst:E3}");
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Spans_ReferenceFile_MatchesEveryNumber(string file, string key)
    {
        // The same rows through the two-pass span path and the vectorized IPS/SNIPS path.
        var w = new List<double>();
        var r = new List<double>();
        var qp = new List<double>();
        var qa = new List<double>();
        using (var reader = LoggedDecisionReader.Open(SharedData.OpeFile(file)))
        {
            while (reader.Read() is { } d)
            {
                var chosen = d.ChosenIndex;
                var q = 0.0;
                foreach (var a in d.Actions)
                {
                    q += d.TargetProbabilities!.GetValueOrDefault(a.Id) * d.RewardEstimates![a.Id];
                }
                w.Add(d.TargetProbabilities!.GetValueOrDefault(d.ChosenActionId) / d.Probability);
                r.Add(d.Reward);
                qp.Add(q);
                qa.Add(d.RewardEstimates![d.Actions[chosen].Id]);
            }
        }
        var estimates = OffPolicyMath.Evaluate([.. w], [.. r], [.. qp], [.. qa]);
        var worst = Compare(estimates, key, output);
        var fast = OffPolicyMath.IpsSnips([.. w], [.. r]);
        using var doc = SharedData.Reference();
        var expected = doc.RootElement.GetProperty(key);
        worst = Math.Max(worst, CompareEstimate(fast.Ips, estimates.Ips, expected.GetProperty("estimators").GetProperty("ips")));
        worst = Math.Max(worst, CompareEstimate(fast.Snips, estimates.Snips, expected.GetProperty("estimators").GetProperty("snips")));
        worst = Math.Max(worst, Check(fast.EffectiveSampleSize, expected.GetProperty("ess").GetDouble()));
        output.WriteLine($"{file} (spans): largest relative error {worst:E3}");
    }

    private static double Compare(OffPolicyEstimates actual, string key, ITestOutputHelper output)
    {
        using var doc = SharedData.Reference();
        var expected = doc.RootElement.GetProperty(key);
        Assert.Equal(expected.GetProperty("n").GetInt64(), actual.Count);
        var worst = Check(actual.EffectiveSampleSize, expected.GetProperty("ess").GetDouble());
        var estimators = expected.GetProperty("estimators");
        foreach (var e in OffPolicyEstimatorNames.All)
        {
            var name = OffPolicyEstimatorNames.Name(e);
            var estimate = actual.Get(e);
            if (!estimators.TryGetProperty(name, out var reference))
            {
                // The reference leaves ips-cp out where rewards leave [0, 1].
                Assert.Equal(OffPolicyEstimator.IpsClopperPearson, e);
                Assert.Null(estimate);
                continue;
            }
            Assert.NotNull(estimate);
            var (lower, upper) = (reference.GetProperty("lower").GetDouble(), reference.GetProperty("upper").GetDouble());
            output.WriteLine($"  {name,-6} reference [{lower:F6}, {upper:F6}]  now [{estimate.Value.Lower:F6}, {estimate.Value.Upper:F6}]  moved {estimate.Value.Lower - lower:+0.000000;-0.000000}, {estimate.Value.Upper - upper:+0.000000;-0.000000}");
            if (e == OffPolicyEstimator.IpsClopperPearson)
            {
                // VowpalWabbit's mapping: S/W successes out of n/W trials.
                var trials = actual.Count / actual.MaxWeight;
                var (vwLower, vwUpper) = ClopperPearson.Interval(Math.Min(trials, actual.Ips.Value * trials), trials);
                worst = Math.Max(worst, Math.Max(Check(actual.Ips.Value, reference.GetProperty("value").GetDouble()),
                    Math.Max(Check(vwLower, lower), Check(vwUpper, upper))));
                continue;
            }
            worst = Math.Max(worst, CompareEstimate(estimate.Value, Clip(lower, actual), Clip(upper, actual), reference));
        }
        return worst;
    }

    private static double Clip(double bound, OffPolicyEstimates e) => Math.Clamp(bound, Math.Min(0, e.MinReward), Math.Max(1, e.MaxReward));

    // The value to 1e-9; the interval contains the reference's.
    private static double CompareEstimate(Estimate actual, double lower, double upper, JsonElement reference)
    {
        Assert.True(actual.Lower <= lower * (1 + Math.Sign(lower) * SharedData.Tolerance) && actual.Upper >= upper * (1 - Math.Sign(upper) * SharedData.Tolerance),
            $"[{actual.Lower:R}, {actual.Upper:R}] does not contain the reference's [{lower:R}, {upper:R}]");
        return Check(actual.Value, reference.GetProperty("value").GetDouble());
    }

    // The fast path against the span path (bounds to 1e-12) and the reference (value to 1e-9).
    private static double CompareEstimate(Estimate fast, Estimate spans, JsonElement reference)
    {
        Assert.True(SharedData.RelativeError(fast.Lower, spans.Lower) < 1e-12 && SharedData.RelativeError(fast.Upper, spans.Upper) < 1e-12,
            $"fast [{fast.Lower:R}, {fast.Upper:R}] vs spans [{spans.Lower:R}, {spans.Upper:R}]");
        return Check(fast.Value, reference.GetProperty("value").GetDouble());
    }

    private static double Check(double actual, double expected)
    {
        var error = SharedData.RelativeError(actual, expected);
        Assert.True(error <= SharedData.Tolerance, $"{actual:R} vs reference {expected:R} (relative error {error:E2})");
        return error;
    }
}

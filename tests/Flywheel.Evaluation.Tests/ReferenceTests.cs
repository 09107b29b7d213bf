using System.Text.Json;
using Xunit.Abstractions;
using Flywheel.Core;

namespace Flywheel.Evaluation.Tests;

/// <summary>Every number of ope-reference.json, reproduced from the reference files (samples/data/ope) to 1e-9 relative.</summary>
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
        var worst = Compare(report.Estimates, key);
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
        var worst = Compare(estimates, key);
        var fast = OffPolicyMath.IpsSnips([.. w], [.. r]);
        using var doc = SharedData.Reference();
        var expected = doc.RootElement.GetProperty(key);
        worst = Math.Max(worst, CompareEstimate(fast.Ips, expected.GetProperty("estimators").GetProperty("ips")));
        worst = Math.Max(worst, CompareEstimate(fast.Snips, expected.GetProperty("estimators").GetProperty("snips")));
        worst = Math.Max(worst, Check(fast.EffectiveSampleSize, expected.GetProperty("ess").GetDouble()));
        output.WriteLine($"{file} (spans): largest relative error {worst:E3}");
    }

    private static double Compare(OffPolicyEstimates actual, string key)
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
            worst = Math.Max(worst, CompareEstimate(estimate.Value, reference));
        }
        return worst;
    }

    private static double CompareEstimate(Estimate actual, JsonElement reference)
        => Math.Max(Check(actual.Value, reference.GetProperty("value").GetDouble()),
            Math.Max(Check(actual.Lower, reference.GetProperty("lower").GetDouble()), Check(actual.Upper, reference.GetProperty("upper").GetDouble())));

    private static double Check(double actual, double expected)
    {
        var error = SharedData.RelativeError(actual, expected);
        Assert.True(error <= SharedData.Tolerance, $"{actual:R} vs reference {expected:R} (relative error {error:E2})");
        return error;
    }
}

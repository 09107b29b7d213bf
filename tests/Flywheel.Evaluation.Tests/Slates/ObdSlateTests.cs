using System.IO.Compression;
using System.Text.Json;
using Flywheel.Evaluation.Slates;

namespace Flywheel.Evaluation.Tests.Slates;

/// <summary>
/// The slate estimators on 3,001 rankings rebuilt from the Open Bandit Dataset's uniformly random log
/// (samples/data/slates, built by eng/obd-slates.py), against the values Open Bandit Pipeline's definitions give there.
/// </summary>
public sealed class ObdSlateTests
{
    private const string DataFile = "obd-random-men.jsonl.gz";
    private const string ReferenceFile = "obd-random-men.reference.json";
    private const int Items = 34;

    private static readonly Lazy<(LoggedSlate[] Target, LoggedSlate[] Logger)> Slates = new(Load);

    private static string Folder => Repository.SampleData("slates");

    /// <summary>Each slate twice: evaluating the file's target, and evaluating the logger on its own log.</summary>
    private static (LoggedSlate[] Target, LoggedSlate[] Logger) Load()
    {
        var target = new List<LoggedSlate>();
        var logger = new List<LoggedSlate>();
        using var reader = new StreamReader(new GZipStream(File.OpenRead(Path.Combine(Folder, DataFile)), CompressionMode.Decompress));
        while (reader.ReadLine() is { } line)
        {
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            double[] Get(string name) => [.. root.GetProperty(name).EnumerateArray().Select(e => e.GetDouble())];
            var slate = new LoggedSlate
            {
                Rewards = Get("rewards"),
                BehaviorPrefix = Get("behavior_prefix"),
                TargetPrefix = Get("target_prefix"),
                BehaviorMarginal = Get("behavior_marginal"),
                TargetMarginal = Get("target_marginal"),
                ModelReward = Get("model_reward"),
                ModelRewardUnderTarget = Get("model_reward_under_target"),
            };
            target.Add(slate);
            logger.Add(slate with
            {
                TargetPrefix = slate.BehaviorPrefix,
                TargetMarginal = slate.BehaviorMarginal,
                ModelRewardUnderTarget = Get("model_reward_under_behavior"),
            });
        }
        return ([.. target], [.. logger]);
    }

    private static JsonDocument Reference() => JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, ReferenceFile)));

    public static TheoryData<SlateEstimator, string> Estimators => new()
    {
        { SlateEstimator.Sips, "sips" },
        { SlateEstimator.Iips, "iips" },
        { SlateEstimator.Rips, "rips" },
        { SlateEstimator.SelfNormalizedSips, "snsips" },
        { SlateEstimator.SelfNormalizedIips, "sniips" },
        { SlateEstimator.SelfNormalizedRips, "snrips" },
        { SlateEstimator.CascadeDoublyRobust, "cascade-dr" },
    };

    [Fact]
    public void Load_ObdSlates_HoldTheUniformLoggersProbabilities()
    {
        var (target, _) = Slates.Value;
        using var reference = Reference();
        Assert.Equal(reference.RootElement.GetProperty("grouping").GetProperty("slates").GetInt32(), target.Length);
        foreach (var slate in target)
        {
            Assert.Equal(3, slate.Slots);
            var p = 1.0;
            for (var l = 0; l < slate.Slots; l++)
            {
                p /= Items - l;
                Assert.Equal(p, slate.BehaviorPrefix[l]);
                Assert.Equal(1.0 / Items, slate.BehaviorMarginal![l]);
                Assert.True(slate.TargetPrefix[l] > 0, "the target gives every logged slate a positive probability");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Estimators))]
    public void Estimate_ObdSlates_MatchesObpDefinitions(SlateEstimator estimator, string name)
    {
        var (target, _) = Slates.Value;
        using var reference = Reference();
        var expected = reference.RootElement.GetProperty("estimators").GetProperty(name);

        var values = SlateOffPolicy.SlateValues(target, estimator);
        var estimate = SlateOffPolicy.Estimate(target, estimator);

        AssertClose(expected.GetProperty("value").GetDouble(), estimate.Value);
        AssertClose(expected.GetProperty("value").GetDouble(), values.Average());
        // The per-slate values the bootstrap resamples, through their second moment.
        AssertClose(expected.GetProperty("slate_value_mean_square").GetDouble(), values.Average(v => v * v));
        Assert.True(estimate.Contains(estimate.Value), $"{name}: {estimate}");
    }

    [Theory]
    [MemberData(nameof(Estimators))]
    public void Estimate_ObdSlatesTargetIsTheLogger_IntervalContainsTheLoggedMean(SlateEstimator estimator, string name)
    {
        var (_, logger) = Slates.Value;
        using var reference = Reference();
        var onPolicy = reference.RootElement.GetProperty("on_policy_value").GetDouble();
        AssertClose(onPolicy, logger.Average(s => s.Rewards.Sum()));

        var estimate = SlateOffPolicy.Estimate(logger, estimator);

        AssertClose(reference.RootElement.GetProperty("estimators_behavior_as_target").GetProperty(name).GetProperty("value").GetDouble(), estimate.Value);
        Assert.True(estimate.Contains(onPolicy), $"{name}: {estimate} misses the logged mean {onPolicy}");
        if (estimator != SlateEstimator.CascadeDoublyRobust)
        {
            // Every weight is 1, so the weighted estimators are the logged mean itself.
            Assert.Equal(onPolicy, estimate.Value, 12);
        }
    }

    private static void AssertClose(double expected, double actual)
    {
        var error = SharedData.RelativeError(actual, expected);
        Assert.True(error <= SharedData.Tolerance, $"{actual:R} vs reference {expected:R} (relative error {error:E2})");
    }
}

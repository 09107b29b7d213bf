using System.Text.Json;
using static Flywheel.Cli.Tests.Cli;

namespace Flywheel.Cli.Tests;

/// <summary><c>flywheel simulate tutor</c>: a tiny run's JSON and text, and the arguments it refuses.</summary>
public sealed class SimulateTutorCommandTests
{
    [Fact]
    public async Task SimulateTutor_TinyRunJson_PrintsEveryPolicysFiguresTheSameEachRun()
    {
        var (code, stdout, stderr) = await RunAsync("simulate", "tutor", "--learners", "8", "--days", "4", "--seed", "3", "--json");
        var (againCode, again, _) = await RunAsync("simulate", "tutor", "--learners", "8", "--days", "4", "--seed", "3", "--json");
        Assert.Equal((0, 0), (code, againCode));
        Assert.Equal(stdout, again);
        Assert.Contains("simulate tutor: 100% (12 of 12 policy-days)", stderr, StringComparison.Ordinal);

        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        Assert.Equal("tutor", root.GetProperty("scenario").GetString());
        Assert.Equal((3UL, 8, 4), (root.GetProperty("seed").GetUInt64(), root.GetProperty("learners").GetInt32(), root.GetProperty("days").GetInt32()));
        Assert.Equal(0.7, root.GetProperty("targetSuccess").GetDouble());
        var policies = root.GetProperty("policies").EnumerateArray().ToArray();
        Assert.Equal(["loop", "random", "curriculum"], policies.Select(p => p.GetProperty("key").GetString()));
        foreach (var p in policies)
        {
            Assert.Equal(8, p.GetProperty("learners").GetInt32());
            Assert.Equal(4, p.GetProperty("days").GetArrayLength());
            var gain = p.GetProperty("gain");
            Assert.InRange(gain.GetProperty("value").GetDouble(), gain.GetProperty("lower").GetDouble(), gain.GetProperty("upper").GetDouble());
            Assert.Equal(2, p.GetProperty("reminderPolicy").GetArrayLength());
        }
        // Only the loop decides through the engine, one decision per answer.
        var loop = policies[0];
        var answers = loop.GetProperty("days").EnumerateArray().Sum(d => d.GetProperty("answers").GetInt64());
        Assert.Equal(answers, loop.GetProperty("decisions").GetInt64());
        Assert.True(answers > 0);
        Assert.Equal(0, policies[1].GetProperty("decisions").GetInt64());
        // Fewer than 200 answers each in four days: no rank correlation to report.
        Assert.Equal(JsonValueKind.Null, loop.GetProperty("spearman").ValueKind);
        Assert.Equal(["random", "curriculum"], root.GetProperty("comparisons").EnumerateArray().Select(c => c.GetProperty("b").GetString()));
        Assert.Equal(1, root.GetProperty("blocks").GetArrayLength());

        var (textCode, text, _) = await RunAsync("simulate", "tutor", "--learners", "8", "--days", "4", "--seed", "3");
        Assert.Equal(0, textCode);
        Assert.Contains("answers/learner", text, StringComparison.Ordinal);
        Assert.Contains("loop - random: ability gain ", text, StringComparison.Ordinal);
        Assert.Contains("loop success  loop gain  loop quit", text, StringComparison.Ordinal);
        Assert.Contains("loop: morning learners ", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--learners must be from 1 to 10,000; got 0", "simulate", "tutor", "--learners", "0")]
    [InlineData("--days must be from 1 to 365 in the tutor scenario; got 400", "simulate", "tutor", "--days", "400")]
    [InlineData("--users does not apply to the tutor scenario", "simulate", "tutor", "--users", "30")]
    [InlineData("--queries does not apply to the tutor scenario", "simulate", "tutor", "--queries", "30")]
    [InlineData("--learners applies only to the tutor scenario", "simulate", "feed", "--learners", "30")]
    [InlineData("--learners does not apply to the search scenario", "simulate", "search", "--learners", "30")]
    public async Task SimulateTutor_WrongOption_OneLineExit2(string expected, params string[] args)
    {
        var (code, stdout, stderr) = await RunAsync(args);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        var line = Assert.Single(Lines(stderr));
        Assert.StartsWith("flywheel simulate: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
    }
}

using System.Text.Json;
using static Flywheel.Cli.Tests.Cli;

namespace Flywheel.Cli.Tests;

/// <summary><c>flywheel simulate summarise</c>: a tiny run's JSON and text, and the arguments it refuses.</summary>
public sealed class SimulateSummariseCommandTests
{
    [Fact]
    public async Task SimulateSummarise_TinyRunJson_PrintsBothArmsFiguresTheSameEachRun()
    {
        var (code, stdout, stderr) = await RunAsync("simulate", "summarise", "--users", "12", "--days", "3", "--seed", "3", "--json");
        var (againCode, again, _) = await RunAsync("simulate", "summarise", "--users", "12", "--days", "3", "--seed", "3", "--json");
        Assert.Equal((0, 0), (code, againCode));
        Assert.Equal(stdout, again);
        Assert.Contains("simulate summarise: 100% (6 of 6 arm-days)", stderr, StringComparison.Ordinal);

        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        Assert.Equal("summarise", root.GetProperty("scenario").GetString());
        Assert.Equal((3UL, 12, 3), (root.GetProperty("seed").GetUInt64(), root.GetProperty("users").GetInt32(), root.GetProperty("days").GetInt32()));
        Assert.Equal(8, root.GetProperty("variants").GetArrayLength());
        var requests = root.GetProperty("requests").GetInt32();
        Assert.True(requests > 0);
        var arms = root.GetProperty("arms").EnumerateArray().ToArray();
        Assert.Equal(["loop", "baseline"], arms.Select(a => a.GetProperty("key").GetString()));
        Assert.Equal(["online", "frozen"], arms.Select(a => a.GetProperty("mode").GetString()));
        foreach (var arm in arms)
        {
            // Every request has at least one generation; each generation one outcome.
            var generations = arm.GetProperty("generations").GetInt32();
            Assert.True(generations >= requests);
            Assert.Equal(generations, arm.GetProperty("outcomes").EnumerateObject().Sum(o => o.Value.GetInt32()));
            var distance = arm.GetProperty("final").GetProperty("distance");
            Assert.InRange(distance.GetProperty("value").GetDouble(), distance.GetProperty("lower").GetDouble(), distance.GetProperty("upper").GetDouble());
            Assert.Equal(1, arm.GetProperty("finalVariantShares").EnumerateArray().Sum(s => s.GetDouble()), 9);
        }
        var comparison = root.GetProperty("comparison");
        Assert.Equal(
            arms[0].GetProperty("final").GetProperty("distance").GetProperty("value").GetDouble() - arms[1].GetProperty("final").GetProperty("distance").GetProperty("value").GetDouble(),
            comparison.GetProperty("distance").GetProperty("value").GetDouble(), 12);
        var block = Assert.Single(root.GetProperty("blocks").EnumerateArray());
        Assert.Equal(requests, block.GetProperty("requests").GetInt32());

        var (textCode, text, _) = await RunAsync("simulate", "summarise", "--users", "12", "--days", "3", "--seed", "3");
        Assert.Equal(0, textCode);
        Assert.Contains("loop - baseline: edit distance ", text, StringComparison.Ordinal);
        Assert.Contains("loop distance  loop kept  baseline distance", text, StringComparison.Ordinal);
        Assert.Contains("short-formal-bullets", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--users must be from 1 to 10,000 in the summarise scenario; got 0", "simulate", "summarise", "--users", "0")]
    [InlineData("--days must be from 1 to 365 in the summarise scenario; got 400", "simulate", "summarise", "--days", "400")]
    [InlineData("--queries applies only to the search scenario", "simulate", "summarise", "--queries", "30")]
    [InlineData("--learners applies only to the tutor scenario; 'summarise' runs days", "simulate", "summarise", "--learners", "30")]
    public async Task SimulateSummarise_WrongOption_OneLineExit2(string expected, params string[] args)
    {
        var (code, stdout, stderr) = await RunAsync(args);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        var line = Assert.Single(Lines(stderr));
        Assert.StartsWith("flywheel simulate: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
    }
}

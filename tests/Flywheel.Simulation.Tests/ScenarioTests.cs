using Flywheel.Cli;
using Xunit.Abstractions;

namespace Flywheel.Simulation.Tests;

/// <summary>
/// Each scenario's known truth, checked on a full simulated year through the real engine and store at the demo's
/// default size and seed: the figures are reproducible, so the assertions are about what had to happen, with the
/// margins the closing note reports.
/// </summary>
public sealed class ScenarioTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _root = new("flywheel-scenario-");

    public void Dispose() => _root.Dispose();

    private Task<SimulationResult> RunAsync(Scenario scenario, int days = 365, int users = SimulationOptions.DefaultUsers, ulong seed = 1)
        => Simulation.RunAsync(scenario, new SimulationOptions { Days = days, Users = users, Seed = seed, DataDirectory = _root.File(scenario.Name) });

    private void Report(SimulationResult result)
    {
        foreach (var p in result.Products)
        {
            var m = p.Months[^1];
            output.WriteLine($"{p.Spec.Name}: month {m.Month} active {m.ActiveUsers}, reward {m.MeanReward}, lift share {m.Truth?.LiftShare:F3}, turns promoted {p.Turns.Count(t => t.Turn.Verdict == Core.TurnVerdict.Promoted)}");
            if (p.Health is { } health)
            {
                output.WriteLine($"  health: {health.Verdict.Status}: {health.Verdict.Evidence}");
            }
        }
    }

    /// <summary>The closing health verdict of product <paramref name="key"/>, with its evidence in the failure message.</summary>
    internal static void AssertVerdict(SimulationResult result, string key, Core.HealthStatus expected)
    {
        var health = result[key].Health;
        Assert.NotNull(health);
        Assert.True(health.Verdict.Status == expected,
            $"{result.Scenario.Name} {key}: expected {expected}, got {health.Verdict.Status}: {health.Verdict.Evidence}");
        Assert.False(string.IsNullOrWhiteSpace(health.Verdict.Advice));
    }

    [Fact]
    public async Task Feed_DemoDefaults_LoopPullsAwayAndTheLateLoopEndsBetween()
    {
        var result = await RunAsync(Scenarios.Feed(withLateLoop: true));
        Report(result);
        var a = result["a"].Months[^1];
        var b = result["b"].Months[^1];
        var c = result["c"].Months[^1];
        Assert.Equal(12, a.Month);

        var difference = result.RewardDifference("a", "b", 12)!.Value;
        output.WriteLine($"A - B in month 12: {difference}");
        Assert.True(difference.Lower > 0, $"A's month-12 reward should beat B's with a 95% interval above zero; got {difference}");
        Assert.True(a.ActiveUsers > b.ActiveUsers, $"A ends with {a.ActiveUsers} active users, B with {b.ActiveUsers}");

        Assert.True(c.ActiveUsers > b.ActiveUsers && c.ActiveUsers < a.ActiveUsers, $"C's {c.ActiveUsers} active users should lie between B's {b.ActiveUsers} and A's {a.ActiveUsers}");
        Assert.True(c.MeanReward!.Value.Value > b.MeanReward!.Value.Value && c.MeanReward.Value.Value < a.MeanReward!.Value.Value,
            $"C's reward {c.MeanReward} should lie between B's {b.MeanReward} and A's {a.MeanReward}");

        // The straight line never changes its model; the world's truth says it picks at random from its shortlist.
        Assert.All(result["b"].Months, m => Assert.Equal(result["b"].Months[0].ModelVersion, m.ModelVersion));
        Assert.InRange(b.Truth!.LiftShare, -0.15, 0.15);
        Assert.True(a.Truth!.LiftShare > 0.4, $"A reached {a.Truth.LiftShare:F3} of the possible lift");
        Assert.True(result["b"].Months[^1].Rivals > 0);
        Assert.All(result["a"].Turns, t => Assert.Equal(Core.TurnTrigger.Schedule, t.Turn.Trigger));
        AssertVerdict(result, "a", Core.HealthStatus.Spinning);
        AssertVerdict(result, "b", Core.HealthStatus.NoPipe);
        Assert.True(result["a"].Turns.Count >= 11, $"A ran {result["a"].Turns.Count} monthly turns");

        // The README shows rows of this run's month table: they must be what the demo prints.
        using var table = new StringWriter();
        MonthTable.Write(table, result);
        var printed = table.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd()).ToHashSet();
        var readme = File.ReadAllText(Repository.Path("README.md"));
        var block = System.Text.RegularExpressions.Regex.Match(readme, @"```\n(month +A users.*?)```", System.Text.RegularExpressions.RegexOptions.Singleline);
        Assert.True(block.Success, "the README shows the demo's month table");
        var rows = block.Groups[1].Value.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(rows.Length >= 3);
        Assert.All(rows, row => Assert.Contains(row.TrimEnd(), printed));
    }

    [Theory]
    [InlineData("no-signal")]
    [InlineData("no-pipe")]
    public async Task BrokenLoop_DemoDefaults_ADoesNotBeatB(string name)
    {
        var result = await RunAsync(Scenarios.Get(name));
        Report(result);
        var difference = result.RewardDifference("a", "b", 12)!.Value;
        output.WriteLine($"A - B in month 12: {difference}");
        Assert.False(difference.Lower > 0, $"{name}: A's reward must not beat B's; got {difference}");
        Assert.InRange(result["a"].Months[^1].Truth!.LiftShare, -0.15, 0.15);
        Assert.All(result["a"].Turns, t => Assert.NotEqual(Core.TurnVerdict.Promoted, t.Turn.Verdict));
        AssertVerdict(result, "a", name == "no-signal" ? Core.HealthStatus.NoSignal : Core.HealthStatus.NoPipe);
        AssertVerdict(result, "b", Core.HealthStatus.NoPipe);
        if (name == "no-signal")
        {
            Assert.All(result["a"].Days, d => Assert.Empty(d.Signals));
        }
        else
        {
            Assert.True(result["a"].Months[^1].ImplicitSignals > 0, "no-pipe captures every signal");
        }
    }

    [Fact]
    public async Task Invisible_DemoDefaults_GainsTooSmallToFeel()
    {
        var result = await RunAsync(Scenarios.Get("invisible"));
        Report(result);
        var a = result["a"].Months[^1];
        var b = result["b"].Months[^1];
        // The best pick of a shortlist is worth little more than a random one, so no model can lift the reward much.
        Assert.True(a.Truth!.Oracle - a.Truth.Uniform < 0.1, $"possible lift {a.Truth.Oracle - a.Truth.Uniform:F3}");
        Assert.True(result.RewardDifference("a", "b", 12)!.Value.Upper < 0.1);
        Assert.True(Math.Abs(a.ActiveUsers - b.ActiveUsers) < 0.25 * b.ActiveUsers, $"A {a.ActiveUsers} and B {b.ActiveUsers} active users");
        AssertVerdict(result, "a", Core.HealthStatus.Invisible);
    }

    [Fact]
    public async Task Plateau_DemoDefaults_LearnsEarlyThenStopsGaining()
    {
        var result = await RunAsync(Scenarios.Get("plateau"));
        Report(result);
        double Share(int month) => result["a"].Months[month - 1].Truth!.LiftShare;
        var early = (Share(4) + Share(5) + Share(6)) / 3;
        var late = (Share(10) + Share(11) + Share(12)) / 3;
        output.WriteLine($"lift share: month 1 {Share(1):F3}, months 4-6 {early:F3}, months 10-12 {late:F3}");
        Assert.True(early - Share(1) > 0.1, "A learns the shared taste in its first months");
        Assert.True(late - early < 0.1, "six more months of data add little");
        AssertVerdict(result, "a", Core.HealthStatus.Plateau);
    }

    [Fact]
    public async Task Drift_DemoDefaults_TheLoopThatStoppedGoesStale()
    {
        var result = await RunAsync(Scenarios.Get("drift"));
        Report(result);
        double Share(string key, int month) => result[key].Months[month - 1].Truth!.LiftShare;
        output.WriteLine($"lift share A: June {Share("a", 6):F3}, July {Share("a", 7):F3}, Dec {Share("a", 12):F3}; B: June {Share("b", 6):F3}, July {Share("b", 7):F3}, Dec {Share("b", 12):F3}");
        Assert.True(Share("a", 7) < Share("a", 6) - 0.1, "the shift of tastes on day 183 hurts the loop too");
        Assert.True(Share("a", 12) > 0.8 * Share("a", 6), "the loop that keeps learning recovers");
        Assert.True(Share("b", 12) < 0.6 * Share("b", 6), "the loop that stopped on day 120 stays stale");
        Assert.True(result.RewardDifference("a", "b", 12)!.Value.Lower > 0);
        Assert.Equal(Core.LoopMode.Frozen, result["b"].Loop.Mode);
        AssertVerdict(result, "a", Core.HealthStatus.Spinning);
        AssertVerdict(result, "b", Core.HealthStatus.Stale);
    }

    [Fact]
    public async Task Demo_SameSeedTwice_PrintsByteIdenticalJson()
    {
        // 200 days: C launches on day 182, and A runs six scheduled turns.
        string[] Args(string dir) => ["demo", "--days", "200", "--users", "40", "--seed", "3", "--json", "--out", dir];
        var (first, firstCode) = await CliAsync(Args(_root.File("one")));
        var (second, secondCode) = await CliAsync(Args(_root.File("two")));
        Assert.Equal(0, firstCode);
        Assert.Equal(0, secondCode);
        Assert.Equal(first, second);

        using var json = System.Text.Json.JsonDocument.Parse(first);
        var root = json.RootElement;
        Assert.Equal(3UL, root.GetProperty("seed").GetUInt64());
        Assert.Equal(200, root.GetProperty("days").GetInt32());
        var months = root.GetProperty("months");
        Assert.Equal(7, months.GetArrayLength());
        foreach (var key in new[] { "a", "b" })
        {
            var month = months[0].GetProperty(key);
            foreach (var field in new[] { "activeUsers", "meanReward", "meanRewardLower", "meanRewardUpper", "modelVersion", "turnsPromoted" })
            {
                Assert.Equal(System.Text.Json.JsonValueKind.Number, month.GetProperty(field).ValueKind);
            }
        }
        Assert.False(months[0].GetProperty("c").GetProperty("launched").GetBoolean());
        Assert.True(months[6].GetProperty("c").GetProperty("launched").GetBoolean());
        Assert.Equal(200, root.GetProperty("daily").GetArrayLength());
        Assert.True(root.GetProperty("turns").GetProperty("a").GetArrayLength() >= 6);
        Assert.True(File.Exists(Path.Combine(_root.Path, "one", "index.html")));
    }

    private static async Task<(string Out, int Code)> CliAsync(string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await FlywheelCli.RunAsync(args, stdout, stderr);
        return (stdout.ToString(), code);
    }
}

using System.Globalization;
using System.Text.Json;
using Flywheel.Client;
using Flywheel.Core;
using Xunit.Abstractions;

namespace Flywheel.Cli.Tests;

/// <summary><c>flywheel health LOOP [--json] [--server URL]</c> against a seeded server on a fake clock.</summary>
public sealed class HealthCommandTests(SeededServer server, ITestOutputHelper output) : IClassFixture<SeededServer>
{
    private static Task<(int Code, string Out, string Error)> RunAsync(params string[] args) => Cli.RunAsync(args);

    private async Task<HealthReport> ReportAsync()
    {
        using var http = new HttpClient { BaseAddress = new Uri(server.Url) };
        var client = new FlywheelClient(http, new FlywheelClientOptions());
        return await client.GetHealthAsync("feed");
    }

    [Fact]
    public async Task Health_KnownLoop_PrintsTheVerdictThenOneLinePerFigure()
    {
        var report = await ReportAsync();

        var (code, stdout, stderr) = await RunAsync("health", "feed", "--server", server.Url);
        output.WriteLine(stdout);

        Assert.True(code == 0, stderr);
        Assert.Equal("", stderr);
        var lines = stdout.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Equal($"feed: {LoopConfigJson.Name(report.Verdict.Status)}", lines[0]);
        Assert.Equal("  " + report.Verdict.Evidence, lines[1]);
        Assert.Equal("  advice: " + report.Verdict.Advice, lines[2]);
        Assert.Equal("", lines[3]);
        string[] figures = ["evidence", "capture", "fuel", "pipe", "latency", "learning curve", "lift", "staleness", "return", "streaks"];
        var rest = lines.Skip(4).Where(l => l.Length > 0).ToArray();
        Assert.Equal(figures.Length, rest.Length);
        Assert.All(figures.Zip(rest), f => Assert.StartsWith($"  {f.First} ", f.Second, StringComparison.Ordinal));
        Assert.Equal($"  evidence       {SeededServer.Decisions} decisions, {SeededServer.Decisions} rewarded, {SeededServer.Decisions} signals; "
            + string.Create(CultureInfo.InvariantCulture, $"{report.Evidence.DecisionsToJudge:N0} per window to see a 0.02 lift"), lines[4]);
        // Every decision got a click or a skip, neither declared explicit.
        Assert.Matches(@"^  capture        100\.0% of the newest [\d,]+ \(implicit 100\.0%, explicit 0\.0%\); 0 late, 0 orphaned$", lines[5]);
        Assert.StartsWith("  pipe           online, model learned 600 examples, 0 deployment(s)", lines[7], StringComparison.Ordinal);
        Assert.Contains("  return         0 users;", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HealthJson_KnownLoop_PrintsTheWholeReportAsParseableJson()
    {
        var report = await ReportAsync();

        var (code, stdout, stderr) = await RunAsync("health", "feed", "--json", "--server", server.Url);

        Assert.True(code == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        Assert.Equal("feed", root.GetProperty("loop").GetString());
        Assert.Equal(LoopConfigJson.Name(report.Verdict.Status), root.GetProperty("verdict").GetProperty("status").GetString());
        Assert.Equal(report.Verdict.Advice, root.GetProperty("verdict").GetProperty("advice").GetString());
        Assert.Equal(SeededServer.Decisions, root.GetProperty("evidence").GetProperty("rewards").GetInt64());
        Assert.Equal(1.0, root.GetProperty("capture").GetProperty("rate").GetProperty("value").GetDouble());
        Assert.Equal(report.Capture.Rate, JsonSerializer.Deserialize<HealthReport>(stdout, FlywheelJson.Options)!.Capture.Rate);
    }

    [Fact]
    public async Task Health_UnknownLoop_OneLineOnStderrExitTwo()
    {
        var (code, stdout, stderr) = await RunAsync("health", "nope", "--server", server.Url);

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains("'nope' does not exist", Assert.Single(Cli.Lines(stderr)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("health")]
    [InlineData("health", "feed", "--server", "not a url")]
    [InlineData("health", "feed", "--json", "--server", "ftp://127.0.0.1:1")]
    public async Task Health_BadArguments_OneLineExitTwo(params string[] args)
    {
        var (code, stdout, stderr) = await RunAsync(args);

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Single(Cli.Lines(stderr));
    }

    [Theory]
    [InlineData("health", "feed")]
    [InlineData("health", "feed", "--json")]
    public async Task Health_ServerDown_OneLineExitOneAsOtherServerVerbs(params string[] args)
    {
        var port = ServerProcess.FreePort();

        var (code, stdout, stderr) = await RunAsync([.. args, "--server", $"http://127.0.0.1:{port}"]);
        var (turnsCode, _, turnsError) = await RunAsync("turns", "feed", "--server", $"http://127.0.0.1:{port}");

        Assert.Equal(1, code);
        Assert.Equal(turnsCode, code);
        Assert.Equal("", stdout);
        Assert.Contains("failed", Assert.Single(Cli.Lines(stderr)), StringComparison.Ordinal);
        Assert.Single(Cli.Lines(turnsError));
    }
}

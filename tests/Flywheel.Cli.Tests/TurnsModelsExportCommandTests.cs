using System.Text.Json;
using Flywheel.Client;
using Flywheel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Flywheel.Cli.Tests;

/// <summary>
/// A real server on a fake clock with a loop, <c>feed</c>, that has served <see cref="Decisions"/> decisions (20 a
/// second from <see cref="Start"/>), each rewarded at once by a window-closing click or skip, all learned. Tests that
/// change more than feed's registry and ledger create their own loop (<see cref="CreateLoopAsync"/>, <see cref="ServeAsync"/>).
/// </summary>
public sealed class SeededServer : IAsyncLifetime
{
    public const int Decisions = 600;
    public static readonly DateTimeOffset Start = new(2026, 11, 24, 0, 0, 0, TimeSpan.Zero);

    private readonly TempDirectory _folder = new("flywheel-cli-turns-");
    private ServerFixture _server = null!;
    private FakeTimeProvider _time = null!;
    private FlywheelClient _client = null!;

    public string Url => _server.Url;

    public string Folder => _folder.Path;

    public async Task InitializeAsync()
    {
        _time = new FakeTimeProvider(Start);
        _server = await ServerFixture.StartAsync(o => o.TimeProvider = _time);
        _client = new FlywheelClient(_server.Http, new FlywheelClientOptions { BaseAddress = _server.Address });
        await CreateLoopAsync("feed");
        await ServeAsync("feed", 0, Decisions, new Random(11));
    }

    /// <summary>
    /// Creates <paramref name="loop"/>: click or skip closes the window at once; turns run only by hand and promote
    /// nothing by themselves; exploration as <paramref name="exploration"/> says (the default when null).
    /// </summary>
    public async Task CreateLoopAsync(string loop, string? exploration = null) => await _client.PutLoopAsync(LoopConfigJson.Parse($$"""
        { "id": "{{loop}}",
          "signals": { "click": { "weight": 1.0, "closesWindow": true }, "skip": { "weight": 0.0, "closesWindow": true } },
          {{(exploration is null ? "" : $"\"exploration\": {exploration},")}}
          "turns": { "everySeconds": 31536000, "minDecisions": 200, "promoteWhen": "manual" } }
        """));

    /// <summary>
    /// Has <paramref name="loop"/> serve decisions <c>d{first}</c> onwards, 20 a second, each rewarded at once by a
    /// click or a skip; returns once all are learned.
    /// </summary>
    public async Task ServeAsync(string loop, int first, int decisions, Random random)
    {
        string[] countries = ["fr", "de", "jp"];
        for (var start = first; start < first + decisions; start += 20)
        {
            var served = await Task.WhenAll(Enumerable.Range(start, 20).Select(i => _client.DecideAsync(loop, new DecideRequest
            {
                DecisionId = $"d{i}",
                Context = new Features { ["user"] = { ["country"] = countries[i % 3] } },
                Actions = [new ActionCandidate("a0"), new ActionCandidate("a1"), new ActionCandidate("a2")],
            })));
            await _client.SignalAsync(loop, served.Select((d, j) => new SignalInput
            {
                DecisionId = d.DecisionId,
                Type = random.NextDouble() < (d.ChosenActionId == $"a{(start + j) % 3}" ? 0.7 : 0.2) ? "click" : "skip",
            }).ToList());
            _time.Advance(TimeSpan.FromSeconds(1));
        }
        await _server.Services.GetRequiredService<IFlywheelEngine>().FlushAsync();
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _folder.Dispose();
    }
}

public sealed partial class TurnsModelsExportCommandTests(SeededServer server) : IClassFixture<SeededServer>
{
    private static Task<(int Code, string Out, string Error)> RunAsync(params string[] args) => Cli.RunAsync(args);

    private static string[] Lines(string text) => Cli.Lines(text);

    [Fact]
    public async Task TurnsRun_ThenModelsPromoteAndRollback_PrintTheLedgerAndTheRegistry()
    {
        var (code, stdout, stderr) = await RunAsync("turns", "feed", "--run", "--server", server.Url);
        Assert.True(code == 0, stderr);
        var lines = Lines(stdout);
        Assert.Matches(@"^turn\s+trigger\s+verdict\s+champion\s+deployed\s+finished$", lines[0]);
        Assert.Matches(@"^1\s+manual\s+awaiting-manual-promotion\s+v1\s+-\s+2026-11-24 ", lines[1]);
        Assert.Contains("      reason: turns.promoteWhen is manual", stdout, StringComparison.Ordinal);
        Assert.Contains("      window: 600 rewarded decisions", stdout, StringComparison.Ordinal);
        Assert.Matches(@"\n\s+policy\s+version\s+n\s+DR\s+interval\s+ESS\n", stdout);
        Assert.Matches(@"\n\s+champion\s+v1\s+600\s+-?\d\.\d{4}\s+\[-?\d\.\d{4}, -?\d\.\d{4}\]\s+600\n", stdout);
        Assert.Contains("      window: 600 rewarded decisions since v1 began serving (rewards 1 to 600)", stdout, StringComparison.Ordinal);
        Assert.Contains("; 600 new since the previous turn", stdout, StringComparison.Ordinal);
        Assert.Matches(@"\n\s+uniform\s+-\s+600\s+-?\d\.\d{4}\s+\[", stdout);

        (code, stdout, stderr) = await RunAsync("turns", "feed", "--json", "--server", server.Url);
        Assert.True(code == 0, stderr);
        using (var ledger = JsonDocument.Parse(stdout))
        {
            var turn = Assert.Single(ledger.RootElement.GetProperty("turns").EnumerateArray());
            Assert.Equal("awaiting-manual-promotion", turn.GetProperty("verdict").GetString());
        }

        (code, stdout, stderr) = await RunAsync("models", "feed", "--server", server.Url);
        Assert.True(code == 0, stderr);
        Assert.Matches(@"^version\s+status\s+parent\s+turn\s+trained on\s+DR\s+interval\s+created\s+reason", stdout);
        Assert.Matches(@"\nv1\s+champion\s+-\s+-\s+-\s+-\s+-\s+2026-11-24 \S+\s+made by the loop config", stdout);
        Assert.Matches(@"\nv2\s+candidate\s+v1\s+1\s+600 rewards\s+-?\d\.\d{4}\s+\[-?\d\.\d{4}, -?\d\.\d{4}\]", stdout);

        (code, stdout, stderr) = await RunAsync("models", "feed", "--promote", "v2", "--reason", "try it", "--json", "--server", server.Url);
        Assert.True(code == 0, stderr);
        using (var entry = JsonDocument.Parse(stdout))
        {
            Assert.Equal("manually-promoted", entry.RootElement.GetProperty("verdict").GetString());
            Assert.Equal(2, entry.RootElement.GetProperty("deployedVersion").GetInt32());
            Assert.Contains("try it", entry.RootElement.GetProperty("reason").GetString(), StringComparison.Ordinal);
        }

        (code, stdout, stderr) = await RunAsync("models", "feed", "--promote", "2", "--server", server.Url);
        Assert.Equal(2, code);
        Assert.Contains("already the champion", Assert.Single(Lines(stderr)), StringComparison.Ordinal);

        (code, stdout, stderr) = await RunAsync("models", "feed", "--rollback", "--server", server.Url);
        Assert.True(code == 0, stderr);
        Assert.Matches(@"\n3\s+manual\s+rolled-back\s+v2\s+v1\s", stdout);

        (code, _, stderr) = await RunAsync("models", "feed", "--rollback", "--server", server.Url);
        Assert.Equal(2, code);
        Assert.Contains("predecessor", Assert.Single(Lines(stderr)), StringComparison.Ordinal);

        (code, stdout, _) = await RunAsync("turns", "feed", "--server", server.Url);
        Assert.Equal(0, code);
        Assert.Matches(@"\n2\s+manual\s+manually-promoted\s+v1\s+v2\s", stdout);
        Assert.Matches(@"\n3\s+manual\s+rolled-back\s+v2\s+v1\s", stdout);
    }

    [Fact]
    public async Task Export_JsonlToStdout_OneLoggedDecisionALine()
    {
        var (code, stdout, stderr) = await RunAsync("export", "feed", "--format", "jsonl", "--server", server.Url);

        Assert.True(code == 0, stderr);
        Assert.Equal("", stderr);
        var rows = Lines(stdout).Select(l => LoggedDecisionJson.Read(JsonDocument.Parse(l).RootElement)).ToList();
        Assert.Equal(SeededServer.Decisions, rows.Count);
        Assert.Equal(SeededServer.Decisions, rows.Select(r => r.DecisionId).Distinct().Count());
        Assert.All(rows, r => Assert.Null(r.TargetProbabilities));
    }

    [Fact]
    public async Task Export_RangeAndPolicy_RowsOfTheRangeWithTargetProbabilities()
    {
        // Seconds 5 to 9 of the seeding: 5 × 20 decisions, d100 to d199.
        var (code, stdout, stderr) = await RunAsync("export", "feed", "--format", "jsonl", "--from", "2026-11-24T00:00:05Z", "--to", "2026-11-24T00:00:10Z",
            "--policy", "champion", "--server", server.Url);

        Assert.True(code == 0, stderr);
        var rows = Lines(stdout).Select(l => LoggedDecisionJson.Read(JsonDocument.Parse(l).RootElement)).ToList();
        Assert.Equal(Enumerable.Range(100, 100).Select(i => $"d{i}").Order(StringComparer.Ordinal), rows.Select(r => r.DecisionId).Order(StringComparer.Ordinal));
        Assert.All(rows, r => Assert.Equal(1.0, r.TargetProbabilities!.Values.Sum(), 6));
    }

    [Fact]
    public async Task Export_MismatchesWithoutShadows_WritesAnEmptyFile()
    {
        var file = Path.Combine(server.Folder, "mismatches.jsonl");

        var (code, stdout, stderr) = await RunAsync("export", "feed", "--format", "jsonl", "--mismatches", "--out", file, "--server", server.Url);

        Assert.True(code == 0, stderr);
        Assert.StartsWith("exported 0 decisions (0 bytes)", stdout, StringComparison.Ordinal);
        Assert.Equal(0, new FileInfo(file).Length);
    }

    [Fact]
    public async Task Export_VwToFile_WritesTheFileAndSaysHowMany()
    {
        var file = Path.Combine(server.Folder, "feed.vw");

        var (code, stdout, stderr) = await RunAsync("export", "feed", "--format", "vw", "--out", file, "--server", server.Url);

        Assert.True(code == 0, stderr);
        Assert.Matches(@"^exported 600 decisions \([\d,]+ bytes\) to ", stdout);
        var lines = await File.ReadAllLinesAsync(file);
        Assert.Equal(SeededServer.Decisions, lines.Count(l => l.StartsWith("shared |user country=", StringComparison.Ordinal)));
        Assert.Equal(SeededServer.Decisions, lines.Count(l => l.StartsWith("0:", StringComparison.Ordinal)));
        Assert.False(File.Exists(file + ".partial"));
    }

    [Fact]
    public async Task Export_UnknownPolicyToFile_ExitTwo_LeavesNoFile()
    {
        var file = Path.Combine(server.Folder, "never.jsonl");

        var (code, stdout, stderr) = await RunAsync("export", "feed", "--format", "jsonl", "--policy", "v99", "--out", file, "--server", server.Url);

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains("policy", Assert.Single(Lines(stderr)), StringComparison.Ordinal);
        Assert.False(File.Exists(file));
        Assert.False(File.Exists(file + ".partial"));
    }

    [Theory]
    [InlineData("turns", "nope")]
    [InlineData("models", "nope")]
    [InlineData("export", "nope", "--format", "vw")]
    public async Task Verbs_UnknownLoop_OneLineExitTwo(params string[] args)
    {
        var (code, stdout, stderr) = await RunAsync([.. args, "--server", server.Url]);

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains("'nope' does not exist", Assert.Single(Lines(stderr)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("export", "feed")]
    [InlineData("export", "feed", "--format", "csv")]
    [InlineData("export", "feed", "--format", "jsonl", "--from", "yesterday")]
    [InlineData("export", "feed", "--format", "jsonl", "--to", "2026-13-45")]
    [InlineData("export", "feed", "--format", "jsonl", "--from", "2026-11-25T00:00:00Z", "--to", "2026-11-24T00:00:00Z")]
    [InlineData("export", "feed", "--format", "jsonl", "--policy", "best")]
    [InlineData("export", "--format", "jsonl")]
    [InlineData("models", "feed", "--promote", "latest")]
    [InlineData("models", "feed", "--promote", "2", "--rollback")]
    [InlineData("models", "feed", "--reason", "just because")]
    [InlineData("turns")]
    [InlineData("turns", "feed", "--server", "not a url")]
    [InlineData("turns", "feed", "--run", "--server", "ftp://127.0.0.1:1")]
    public async Task Verbs_BadArguments_OneLineExitTwo(params string[] args)
    {
        var (code, stdout, stderr) = await RunAsync(args);

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Single(Lines(stderr));
    }

    [Theory]
    [InlineData("turns", "feed")]
    [InlineData("turns", "feed", "--run")]
    [InlineData("models", "feed", "--rollback")]
    [InlineData("export", "feed", "--format", "jsonl")]
    [InlineData("models", "feed", "--shadow", "2")]
    [InlineData("models", "feed", "--retire", "2", "--reason", "done")]
    [InlineData("models", "feed", "--report", "2")]
    [InlineData("models", "feed", "--mismatches", "--limit", "10")]
    public async Task Verbs_ServerDown_OneLineExitOne(params string[] args)
    {
        var port = ServerProcess.FreePort();

        var (code, stdout, stderr) = await RunAsync([.. args, "--server", $"http://127.0.0.1:{port}"]);

        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Contains("failed", Assert.Single(Lines(stderr)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Export_ServerDownWithOut_LeavesNoFile()
    {
        var port = ServerProcess.FreePort();
        var file = Path.Combine(server.Folder, "down.jsonl");

        var (code, _, _) = await RunAsync("export", "feed", "--format", "jsonl", "--out", file, "--server", $"http://127.0.0.1:{port}");

        Assert.Equal(1, code);
        Assert.False(File.Exists(file));
        Assert.False(File.Exists(file + ".partial"));
    }
}

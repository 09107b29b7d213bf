using System.Text.Json;
using Flywheel.Client;
using Flywheel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Flywheel.Cli.Tests;

/// <summary>
/// A real server on a fake clock with a generation loop, <c>summarize</c>: d1 terse kept, d2 terse edited, d3 detailed
/// regenerated, d4 detailed replacing d3 and kept; one minute apart, every window closed.
/// </summary>
public sealed class GenerationServer : IAsyncLifetime
{
    public static readonly DateTimeOffset Start = new(2026, 11, 24, 0, 0, 0, TimeSpan.Zero);

    private readonly TempDirectory _folder = new("flywheel-cli-training-");
    private readonly FakeTimeProvider _time = new(Start);
    private ServerFixture _server = null!;

    public string Url => _server.Url;

    public string Folder => _folder.Path;

    public async Task InitializeAsync()
    {
        _server = await ServerFixture.StartAsync(o => o.TimeProvider = _time);
        var client = new FlywheelClient(_server.Http, new FlywheelClientOptions { BaseAddress = _server.Address });
        await client.PutLoopAsync(LoopConfigJson.Parse("""
            { "id": "summarize", "generation": {},
              "signals": { "kept": {"weight": 1, "closesWindow": true}, "edited": {"kind": "explicit", "weight": -1, "closesWindow": true},
                           "regenerated": {"weight": -1, "closesWindow": true} },
              "reward": { "windowSeconds": 3600, "min": -1, "max": 1 } }
            """));
        await client.PutLoopAsync(LoopConfigJson.Parse("""{ "id": "feed", "signals": { "click": {"weight": 1} } }"""));
        PromptMessage[] prompt = [new("system", "Summarise."), new("user", "Rivers, at length.")];
        foreach (var (id, variant, output, replaces, signal, text) in new (string, string, string, string?, string, string?)[]
        {
            ("d1", "terse", "o1", null, "kept", null),
            ("d2", "terse", "o2 draft", null, "edited", "o2 fixed"),
            ("d3", "detailed", "o3", null, "regenerated", null),
            ("d4", "detailed", "o4", "d3", "kept", null),
        })
        {
            await client.DecideAsync("summarize", new DecideRequest { DecisionId = id, UserId = "u-3", Actions = [new ActionCandidate(variant)] });
            await client.RecordOutputAsync("summarize", id, new OutputInput { Text = output, Messages = prompt, Replaces = replaces });
            await client.SignalAsync("summarize", [new SignalInput { DecisionId = id, Type = signal, Text = text }]);
            _time.Advance(TimeSpan.FromMinutes(1));
        }
        _time.Advance(TimeSpan.FromHours(2));
        await _server.Services.GetRequiredService<IFlywheelEngine>().FlushAsync();
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _folder.Dispose();
    }
}

/// <summary><c>flywheel export --format sft|dpo|kto</c> against a server, and its bad arguments.</summary>
public sealed class ExportTrainingCommandTests(GenerationServer server) : IClassFixture<GenerationServer>
{
    [Fact]
    public async Task Export_SftToStdout_OpenAiMessagesALine()
    {
        var (code, stdout, stderr) = await Cli.RunAsync("export", "summarize", "--format", "sft", "--server", server.Url);

        Assert.True(code == 0, stderr);
        Assert.Equal("", stderr);
        var answers = Cli.Lines(stdout).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("messages").EnumerateArray().Last().GetProperty("content").GetString());
        Assert.Equal(["o1", "o2 fixed", "o4"], answers);
    }

    [Fact]
    public async Task Export_DpoTrlToFile_WritesTheFileAndSaysHowMany()
    {
        var file = Path.Combine(server.Folder, "dpo.jsonl");

        var (code, stdout, stderr) = await Cli.RunAsync("export", "summarize", "--format", "dpo", "--style", "trl", "--out", file, "--server", server.Url);

        Assert.True(code == 0, stderr);
        Assert.Matches(@"^exported 2 examples \([\d,]+ bytes\) to ", stdout);
        var pairs = (await File.ReadAllLinesAsync(file)).Select(l => JsonDocument.Parse(l).RootElement)
            .Select(e => (e.GetProperty("chosen")[0].GetProperty("content").GetString(), e.GetProperty("rejected")[0].GetProperty("content").GetString()));
        Assert.Equal([("o2 fixed", "o2 draft"), ("o4", "o3")], pairs);
        Assert.False(File.Exists(file + ".partial"));
    }

    [Fact]
    public async Task Export_KtoWithFilters_OnlyTheMatchingDecisions()
    {
        var (code, stdout, stderr) = await Cli.RunAsync("export", "summarize", "--format", "kto", "--variant", "detailed", "--max-reward", "0",
            "--from", "2026-11-24T00:00:00Z", "--to", "2026-11-24T01:00:00Z", "--server", server.Url);

        Assert.True(code == 0, stderr);
        var line = JsonDocument.Parse(Assert.Single(Cli.Lines(stdout))).RootElement;
        Assert.Equal(("o3", false), (line.GetProperty("completion")[0].GetProperty("content").GetString(), line.GetProperty("label").GetBoolean()));

        var (both, bothOut, bothError) = await Cli.RunAsync("export", "summarize", "--format", "sft", "--variant", "detailed", "--variant", "terse", "--min-reward", "0.5", "--server", server.Url);
        Assert.True(both == 0, bothError);
        Assert.Equal(2, Cli.Lines(bothOut).Length);
    }

    [Theory]
    [InlineData("--format", "kto", "--style", "openai")]
    [InlineData("--format", "sft", "--style", "hf")]
    [InlineData("--format", "sft", "--min-reward", "high")]
    [InlineData("--format", "sft", "--max-reward", "Infinity")]
    [InlineData("--format", "sft", "--min-reward", "1", "--max-reward", "0")]
    [InlineData("--format", "sft", "--policy", "champion")]
    [InlineData("--format", "sft", "--mismatches")]
    [InlineData("--format", "jsonl", "--style", "trl")]
    [InlineData("--format", "jsonl", "--variant", "terse")]
    [InlineData("--format", "vw", "--min-reward", "0")]
    [InlineData("--format", "sft", "--from", "2026-11-24T01:00:00Z", "--to", "2026-11-24T00:00:00Z")]
    [InlineData("--format", "csv")]
    public async Task Export_BadArguments_OneLineOnStderrExitTwo(params string[] args)
    {
        var file = Path.Combine(server.Folder, $"bad-{Guid.NewGuid():N}.jsonl");

        var (code, stdout, stderr) = await Cli.RunAsync(["export", "summarize", .. args, "--out", file, "--server", server.Url]);

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Single(Cli.Lines(stderr));
        Assert.False(File.Exists(file));
    }

    [Fact]
    public async Task Export_SftOfALoopWithoutGeneration_ServerRefusalExitTwo()
    {
        var file = Path.Combine(server.Folder, "feed-sft.jsonl");

        var (code, stdout, stderr) = await Cli.RunAsync("export", "feed", "--format", "sft", "--out", file, "--server", server.Url);

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains("generation", Assert.Single(Cli.Lines(stderr)), StringComparison.Ordinal);
        Assert.False(File.Exists(file));
        Assert.False(File.Exists(file + ".partial"));
    }
}

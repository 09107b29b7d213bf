using System.Text.Json;
using Flywheel.Client;
using Flywheel.Core;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace Flywheel.Cli.Tests;

/// <summary><c>flywheel learner</c> and <c>flywheel item</c> against a server whose ability loop has heard a few answers.</summary>
public sealed class AbilityCommandTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 11, 24, 9, 0, 0, TimeSpan.Zero);
    private ServerFixture _server = null!;

    public async Task InitializeAsync()
    {
        var time = new FakeTimeProvider(Start);
        _server = await ServerFixture.StartAsync(o => o.TimeProvider = time);
        var client = new FlywheelClient(_server.Http, new FlywheelClientOptions { BaseAddress = _server.Address });
        await client.PutLoopAsync(LoopConfigJson.Parse("""
            { "id": "tutor", "kind": "ability", "ability": { "reviews": true },
              "signals": { "correct": { "kind": "explicit", "weight": 1, "closesWindow": true } } }
            """));
        await client.PutLoopAsync(LoopConfigJson.Parse("""{ "id": "feed", "signals": { "click": { "weight": 1 } } }"""));
        for (var i = 0; i < 3; i++)
        {
            await client.DecideAsync("tutor", new DecideRequest
            {
                DecisionId = $"e{i}",
                UserId = "ada",
                TimeZone = "Asia/Tokyo",
                Actions = [new ActionCandidate($"ex-{i}", new Features { ["item"] = { ["level"] = i } })],
            });
            await client.SignalAsync("tutor", [new SignalInput { DecisionId = $"e{i}", Type = "correct", Value = i == 2 ? 0 : 1 }]);
            time.Advance(TimeSpan.FromDays(1));
        }
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Learner_PrintsAbilityStreakAndReviews()
    {
        var (code, stdout, stderr) = await Cli.RunAsync("learner", "tutor", "ada", "--server", _server.Url);
        output.WriteLine(stdout);

        Assert.True(code == 0, stderr);
        var lines = Cli.Lines(stdout);
        Assert.Equal("tutor learner ada", lines[0]);
        Assert.StartsWith("  ability     ", lines[1], StringComparison.Ordinal);
        Assert.Contains("(95% ", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("  answers     3, 2 correct (66.7%;", lines[2], StringComparison.Ordinal);
        Assert.StartsWith("  streak      ", lines[3], StringComparison.Ordinal);
        Assert.EndsWith("time zone Asia/Tokyo", lines[3], StringComparison.Ordinal);
        Assert.StartsWith("  reviews     ", lines[4], StringComparison.Ordinal);
    }

    [Fact]
    public async Task LearnerReviewsAndItem_Json_AreTheReports()
    {
        var reviews = await Cli.RunAsync("learner", "tutor", "ada", "--reviews", "--due", "2030-01-01T00:00:00Z", "--json", "--server", _server.Url);
        var item = await Cli.RunAsync("item", "tutor", "ex-0", "--json", "--server", _server.Url);
        var text = await Cli.RunAsync("item", "tutor", "ex-0", "--server", _server.Url);

        Assert.True(reviews.Code == 0, reviews.Error);
        using (var json = JsonDocument.Parse(reviews.Out))
        {
            Assert.Equal(3, json.RootElement.GetProperty("items").GetArrayLength());
        }
        Assert.True(item.Code == 0, item.Error);
        using (var json = JsonDocument.Parse(item.Out))
        {
            Assert.Equal(1, json.RootElement.GetProperty("answers").GetInt64());
            Assert.True(json.RootElement.GetProperty("difficulty").GetProperty("value").GetDouble() < 0);
        }
        Assert.StartsWith("tutor item ex-0", text.Out, StringComparison.Ordinal);
        Assert.Contains("  answers     1 first answers, 1 correct (100.0%)", text.Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("learner", "tutor", "nobody")]
    [InlineData("item", "tutor", "never")]
    [InlineData("learner", "feed", "ada")]
    [InlineData("learner", "tutor", "ada", "--due", "2030-01-01T00:00:00Z")]
    [InlineData("learner", "tutor", "ada", "--reviews", "--due", "soon")]
    public async Task Refusals_OneLineOnStderrExitTwo(params string[] args)
    {
        var (code, stdout, stderr) = await Cli.RunAsync([.. args, "--server", _server.Url]);

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Single(Cli.Lines(stderr));
    }
}

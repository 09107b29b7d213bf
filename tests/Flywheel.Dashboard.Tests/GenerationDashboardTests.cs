using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Time.Testing;

namespace Flywheel.Dashboard.Tests;

/// <summary>A generation loop's page shows what users did with its outputs, from the health report's figures.</summary>
public sealed class GenerationDashboardTests
{
    private const string Loop = """
        {"generation": {}, "signals": {"kept": {"weight": 1, "closesWindow": true}, "edited": {"kind": "explicit", "weight": -1, "closesWindow": true}},
         "exploration": {"algorithm": "epsilon-greedy", "epsilon": 0.1}}
        """;

    [Fact]
    public async Task Loop_GenerationLoop_ShowsEditDistanceKeptShareAndEachModelVersion()
    {
        await using var server = await ServerFixture.StartAsync(o => o.TimeProvider = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero)));
        (await server.SendAsync(HttpMethod.Put, "/v1/loops/summarize", Loop)).EnsureSuccessStatusCode();
        for (var i = 0; i < 4; i++)
        {
            var decide = await server.SendAsync(HttpMethod.Post, "/v1/loops/summarize/decide",
                $$"""{"decisionId": "d{{i}}", "actions": [{"id": "short"}, {"id": "long"}]}""");
            decide.EnsureSuccessStatusCode();
            (await server.SendAsync(HttpMethod.Put, $"/v1/loops/summarize/decisions/d{i}/output", """{"text": "abcdefghij"}""")).EnsureSuccessStatusCode();
        }
        // Two kept as they were, one with 2 of 10 characters changed, one rewritten entirely.
        var signals = """
            {"signals": [{"decisionId": "d0", "type": "kept"}, {"decisionId": "d1", "type": "kept"},
                         {"decisionId": "d2", "type": "edited", "text": "abcdefghXY"}, {"decisionId": "d3", "type": "edited", "text": "0123456789"}]}
            """;
        Assert.Equal(HttpStatusCode.Accepted, (await server.SendAsync(HttpMethod.Post, "/v1/loops/summarize/signals", signals)).StatusCode);

        var health = JsonDocument.Parse(await server.Http.GetStringAsync(new Uri("/v1/loops/summarize/health", UriKind.Relative))).RootElement.GetProperty("generation");
        var html = await server.Http.GetStringAsync(new Uri("/loops/summarize", UriKind.Relative));

        Assert.Equal(0.3, health.GetProperty("editDistance").GetProperty("value").GetDouble(), 12);
        Assert.Contains("data-card=\"generation\"", html, StringComparison.Ordinal);
        Assert.Matches("data-figure=\"edit-distance\">0.300<", html);
        Assert.Matches("data-figure=\"kept-unedited\">50.0%<", html);
        Assert.Single(Regex.Matches(html, "<tr><td>v1"));
    }

    [Fact]
    public async Task Loop_ChooseLoop_HasNoGenerationCard()
    {
        await using var server = await ServerFixture.StartAsync();
        (await server.SendAsync(HttpMethod.Put, "/v1/loops/home-feed", ServerFixture.FeedLoop)).EnsureSuccessStatusCode();

        var html = await server.Http.GetStringAsync(new Uri("/loops/home-feed", UriKind.Relative));

        Assert.DoesNotContain("data-card=\"generation\"", html, StringComparison.Ordinal);
    }
}

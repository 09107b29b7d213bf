using System.Net;
using System.Text.Json;
using Flywheel.Client;
using Flywheel.Core;

namespace Flywheel.Server.Tests;

/// <summary>An ability loop over HTTP, raw and through the .NET SDK: decide for a learner, answers, learner, item and reviews.</summary>
public sealed class AbilityEndpointTests : IAsyncLifetime
{
    private const string Loop = "tutor";
    private ServerFixture _server = null!;
    private FlywheelClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await ServerFixture.StartAsync();
        _client = new FlywheelClient(_server.Http, new FlywheelClientOptions { BaseAddress = _server.Address });
        using var put = await _server.SendAsync(HttpMethod.Put, $"/v1/loops/{Loop}", """
            {"kind": "ability", "ability": {"targetSuccess": 0.7, "model": "irt", "reviews": true},
             "signals": {"correct": {"kind": "explicit", "weight": 1, "closesWindow": true}}}
            """);
        put.EnsureSuccessStatusCode();
        (await _server.SendAsync(HttpMethod.Put, "/v1/loops/feed", ServerFixture.FeedLoop)).EnsureSuccessStatusCode();
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private const string Exercises = """
        "actions": [{"id": "add-1", "features": {"item": {"level": 1}}}, {"id": "mul-3", "features": {"item": {"level": 3}}}]
        """;

    [Fact]
    public async Task Http_DecideAnswerAndReports_RoundTrip()
    {
        using var decide = await _server.SendAsync(HttpMethod.Post, $"/v1/loops/{Loop}/decide",
            "{\"decisionId\": \"e1\", \"userId\": \"ada\", \"timeZone\": \"Europe/Paris\", " + Exercises + "}");
        decide.EnsureSuccessStatusCode();
        using var decision = JsonDocument.Parse(await decide.Content.ReadAsStringAsync());
        var chosen = decision.RootElement.GetProperty("chosenActionId").GetString()!;
        using var answer = await _server.SendAsync(HttpMethod.Post, $"/v1/loops/{Loop}/signals", """{"signals": [{"decisionId": "e1", "type": "correct", "value": 1}]}""");
        answer.EnsureSuccessStatusCode();

        var learner = await _client.GetLearnerAsync(Loop, "ada");
        var item = await _client.GetItemAsync(Loop, chosen);
        var reviews = await _client.GetReviewsAsync(Loop, "ada", new DateTimeOffset(2100, 1, 1, 0, 0, 0, TimeSpan.Zero));
        using var raw = await _server.Http.GetAsync($"/v1/loops/{Loop}/learners/ada");
        using var json = JsonDocument.Parse(await raw.Content.ReadAsStringAsync());

        Assert.Equal(1, learner.Answers);
        Assert.True(learner.Ability.Value > 0);
        Assert.Equal("Europe/Paris", learner.Streak.TimeZone);
        Assert.True(item.Difficulty.Value < item.FromFeatures + 1e-9);
        Assert.Equal(chosen, Assert.Single(reviews.Items).ActionId);
        Assert.Equal(["loop", "userId", "ability", "answers", "correct", "successRate", "recentSuccess", "lastAnswerAt", "streak", "reviewsDue", "itemsSeen"],
            json.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(["value", "lower", "upper", "standardError"], json.RootElement.GetProperty("ability").EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task Refusals_NameWhatIsWrong()
    {
        using var anonymous = await _server.SendAsync(HttpMethod.Post, $"/v1/loops/{Loop}/decide", "{" + Exercises + "}");
        using var zone = await _server.SendAsync(HttpMethod.Post, $"/v1/loops/{Loop}/decide", "{\"userId\": \"ada\", \"timeZone\": \"Nowhere/Land\", " + Exercises + "}");
        using var unknown = await _server.Http.GetAsync($"/v1/loops/{Loop}/learners/nobody");
        using var item = await _server.Http.GetAsync($"/v1/loops/{Loop}/items/never-answered");
        using var feed = await _server.Http.GetAsync("/v1/loops/feed/learners/ada");
        using var due = await _server.Http.GetAsync($"/v1/loops/{Loop}/learners/ada/reviews?due=tomorrow");
        using var extra = await _server.Http.GetAsync($"/v1/loops/{Loop}/learners/ada/reviews?when=now");
        using var turn = await _server.SendAsync(HttpMethod.Post, $"/v1/loops/{Loop}/turns", "{}");
        using var answer = await _server.SendAsync(HttpMethod.Post, $"/v1/loops/{Loop}/signals", """{"signals": [{"decisionId": "e9", "type": "correct", "value": 2}]}""");

        await Expect(anonymous, HttpStatusCode.UnprocessableEntity, "userId");
        await Expect(zone, HttpStatusCode.UnprocessableEntity, "timeZone");
        await Expect(unknown, HttpStatusCode.NotFound, "userId");
        await Expect(item, HttpStatusCode.NotFound, "actionId");
        await Expect(feed, HttpStatusCode.UnprocessableEntity, "loop");
        await Expect(due, HttpStatusCode.UnprocessableEntity, "due");
        Assert.True(extra.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.UnprocessableEntity, await extra.Content.ReadAsStringAsync());
        Assert.Contains("when", await extra.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await Expect(turn, HttpStatusCode.UnprocessableEntity, "loop");
        await Expect(answer, HttpStatusCode.UnprocessableEntity, "signals[0].value");
        var sdk = await Assert.ThrowsAnyAsync<FlywheelValidationException>(() => _client.GetLearnerAsync(Loop, "nobody"));
        Assert.Equal(ValidationKind.NotFound, sdk.Kind);
    }

    private static async Task Expect(HttpResponseMessage response, HttpStatusCode status, string field)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"{status} expected, got {response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(body);
        Assert.Equal(field, problem.RootElement.GetProperty("field").GetString());
    }
}

using System.Net;
using System.Text.Json;
using Flywheel.Client;
using Flywheel.Core;

namespace Flywheel.Server.Tests;

/// <summary>Reused ids over HTTP: identical retries are answered as before, other requests get a 409; ids that pass validation read back by URL.</summary>
public sealed class ConflictAndIdTests : IAsyncLifetime
{
    private ServerFixture _server = null!;

    public async Task InitializeAsync()
    {
        _server = await ServerFixture.StartAsync();
        (await _server.SendAsync(HttpMethod.Put, "/v1/loops/home-feed", ServerFixture.FeedLoop)).EnsureSuccessStatusCode();
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<(HttpStatusCode Status, JsonElement Body, string? MediaType)> PostAsync(string path, string body)
    {
        using var response = await _server.SendAsync(HttpMethod.Post, path, body);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone(), response.Content.Headers.ContentType?.MediaType);
    }

    private async Task<JsonElement> AuditAsync(string decisionId)
    {
        using var response = await _server.Http.GetAsync("/v1/loops/home-feed/decisions/" + Uri.EscapeDataString(decisionId));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET of '{decisionId}': {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    [Fact]
    public async Task Decide_ReusedIdWithOtherBody_Is409ProblemNamingDecisionIdAndIdenticalRetryGetsTheStoredAnswer()
    {
        const string body = """{"decisionId":"d-1","userId":"u-1","context":{"user":{"country":"fr","age":30}},"actions":[{"id":"v1"},{"id":"v2"}]}""";
        const string reordered = """{"actions":[{"id":"v1","features":{}},{"id":"v2"}],"context":{"user":{"age":30.0,"country":"fr"}},"userId":"u-1","decisionId":"d-1"}""";
        const string other = """{"decisionId":"d-1","userId":"u-2","context":{"user":{"country":"fr","age":30}},"actions":[{"id":"v3"},{"id":"v4"}]}""";

        var first = await PostAsync("/v1/loops/home-feed/decide", body);
        var conflict = await PostAsync("/v1/loops/home-feed/decide", other);
        var retry = await PostAsync("/v1/loops/home-feed/decide", reordered);

        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal(HttpStatusCode.Conflict, conflict.Status);
        Assert.Equal("application/problem+json", conflict.MediaType);
        Assert.Equal(409, conflict.Body.GetProperty("status").GetInt32());
        Assert.Equal("decisionId", conflict.Body.GetProperty("field").GetString());
        Assert.Contains("d-1", conflict.Body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, retry.Status);
        Assert.Equal(first.Body.GetRawText(), retry.Body.GetRawText());
        var stored = await AuditAsync("d-1");
        Assert.Equal("u-1", stored.GetProperty("userId").GetString());
        Assert.Equal(["v1", "v2"], stored.GetProperty("actions").EnumerateArray().Select(a => a.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task Signals_ReusedIdWithOtherSignal_Is409NamingTheItemAndWritesNothingOfTheBatch()
    {
        Assert.Equal(HttpStatusCode.OK, (await PostAsync("/v1/loops/home-feed/decide", """{"decisionId":"d-s","actions":[{"id":"v1"}]}""")).Status);
        var accepted = await PostAsync("/v1/loops/home-feed/signals", """{"signals":[{"signalId":"s-1","decisionId":"d-s","type":"watch_complete"}]}""");
        Assert.Equal(HttpStatusCode.Accepted, accepted.Status);

        var conflict = await PostAsync("/v1/loops/home-feed/signals",
            """{"signals":[{"signalId":"s-2","decisionId":"d-s","type":"thumbs_up"},{"signalId":"s-1","decisionId":"d-s","type":"thumbs_up"}]}""");
        var retry = await PostAsync("/v1/loops/home-feed/signals", """{"signals":[{"type":"watch_complete","decisionId":"d-s","signalId":"s-1","value":1.0}]}""");

        Assert.Equal(HttpStatusCode.Conflict, conflict.Status);
        Assert.Equal("application/problem+json", conflict.MediaType);
        Assert.Equal("signals[1].signalId", conflict.Body.GetProperty("field").GetString());
        Assert.Equal(HttpStatusCode.Accepted, retry.Status);
        Assert.Equal(1, retry.Body.GetProperty("duplicates").GetInt32());
        var signals = (await AuditAsync("d-s")).GetProperty("signals").EnumerateArray().ToList();
        Assert.Equal(["s-1"], signals.Select(s => s.GetProperty("signalId").GetString()));
    }

    public static TheoryData<string, string, string> InvalidIdBodies => new()
    {
        { "decide", """{"decisionId":"a\u0000b","actions":[{"id":"v1"}]}""", "decisionId" },
        { "decide", """{"decisionId":"a/b","actions":[{"id":"v1"}]}""", "decisionId" },
        { "decide", """{"decisionId":" padded","actions":[{"id":"v1"}]}""", "decisionId" },
        { "decide", """{"decisionId":"..","actions":[{"id":"v1"}]}""", "decisionId" },
        { "decide", """{"userId":"a\\b","actions":[{"id":"v1"}]}""", "userId" },
        { "decide", """{"actions":[{"id":"v1"},{"id":"v\n2"}]}""", "actions[1].id" },
        { "decide", """{"actions":[{"id":"v1"},{"id":"v\ud800"}]}""", "actions[1].id" },
        { "signals", """{"signals":[{"signalId":"s\u001f","decisionId":"d","type":"skip"}]}""", "signals[0].signalId" },
        { "signals", """{"signals":[{"decisionId":"d","type":"skip"},{"decisionId":"d/../x","type":"skip"}]}""", "signals[1].decisionId" },
        { "signals", """{"signals":[{"userId":"u ","type":"skip"}]}""", "signals[0].userId" },
        { "signals", """{"signals":[{"userId":"\udc00","type":"skip"}]}""", "signals[0].userId" },
    };

    [Theory]
    [MemberData(nameof(InvalidIdBodies))]
    public async Task Ingest_InvalidId_Is4xxProblemNamingTheField(string endpoint, string body, string field)
    {
        var (status, problem, mediaType) = await PostAsync($"/v1/loops/home-feed/{endpoint}", body);

        Assert.True(status is HttpStatusCode.BadRequest or HttpStatusCode.UnprocessableEntity, $"{body}: {(int)status} {problem}");
        Assert.Equal("application/problem+json", mediaType);
        Assert.True(problem.TryGetProperty("field", out var f) && f.GetString() == field, $"{body}: {problem}");
    }

    public static TheoryData<string> TrickyIds => new()
    {
        "a b", "ünï-日本-😀", "a:b", "me@example.com", "50%", "%2F", "a+b", "why?", "#7", "a.b", "...", "~x~", "[1]", "a;b=c", "&x=1",
    };

    [Theory]
    [MemberData(nameof(TrickyIds))]
    public async Task GetDecision_LegalTrickyId_ReadsBackOverHttpAndThroughTheClient(string id)
    {
        var body = JsonSerializer.Serialize(new { decisionId = id, userId = id, actions = new[] { new { id } } });
        var decided = await PostAsync("/v1/loops/home-feed/decide", body);
        Assert.True(decided.Status == HttpStatusCode.OK, $"{id}: {decided.Body}");
        var signal = JsonSerializer.Serialize(new { signals = new[] { new { signalId = id, decisionId = id, type = "thumbs_up" } } });
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync("/v1/loops/home-feed/signals", signal)).Status);

        var audit = await AuditAsync(id);
        var client = new FlywheelClient(_server.Http);
        var read = await client.GetDecisionAsync("home-feed", id);

        Assert.Equal(id, audit.GetProperty("decisionId").GetString());
        Assert.Equal(id, audit.GetProperty("signals")[0].GetProperty("signalId").GetString());
        Assert.NotNull(read);
        Assert.Equal(id, read.Decision.DecisionId);
        Assert.Equal(id, read.Decision.ChosenActionId);
        // The same id again and the same request: the client's retry gets the stored answer.
        Assert.Equal(decided.Body.GetProperty("chosenActionId").GetString(),
            (await client.DecideAsync("home-feed", new DecideRequest { DecisionId = id, UserId = id, Actions = [new ActionCandidate(id)] })).ChosenActionId);
    }
}

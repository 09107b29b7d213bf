using System.Net;
using System.Text.Json;

namespace Flywheel.Server.Tests;

public sealed class MalformedRequestTests : IAsyncLifetime
{
    private ServerFixture _server = null!;

    public async Task InitializeAsync()
    {
        _server = await ServerFixture.StartAsync(o => o.MaxRequestBodyBytes = 256 * 1024);
        (await _server.SendAsync(HttpMethod.Put, "/v1/loops/home-feed", ServerFixture.FeedLoop)).EnsureSuccessStatusCode();
        (await _server.SendAsync(HttpMethod.Post, "/v1/loops/home-feed/decide", """{"decisionId":"kept","actions":[{"id":"v1"},{"id":"v2"}]}""")).EnsureSuccessStatusCode();
        (await _server.SendAsync(HttpMethod.Post, "/v1/loops/home-feed/signals", """{"signals":[{"signalId":"s-kept","decisionId":"kept","type":"watch_complete"}]}""")).EnsureSuccessStatusCode();
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
    }

    private static string Actions(int n) => "[" + string.Join(",", Enumerable.Range(0, n).Select(i => $$"""{"id":"a{{i}}"}""")) + "]";

    private static string Signals(int n) => "[" + string.Join(",", Enumerable.Range(0, n).Select(i => $$"""{"decisionId":"kept","type":"thumbs_up","signalId":"x{{i}}"}""")) + "]";

    /// <summary>Method, path, body, content type, expected status, and a fragment the problem must contain (the field or the limit).</summary>
    public static TheoryData<string, string, string, string?, string?, int, string> Cases => new()
    {
        { "broken JSON", "POST", "/v1/loops/home-feed/decide", """{"actions":[{"id":"v1"}""", null, 400, "not valid JSON" },
        { "empty body", "POST", "/v1/loops/home-feed/decide", "", null, 400, "empty" },
        { "not an object", "POST", "/v1/loops/home-feed/decide", "[1,2]", null, 422, "object" },
        { "actions not an array", "POST", "/v1/loops/home-feed/decide", """{"actions":{"id":"v1"}}""", null, 422, "actions" },
        { "missing actions", "POST", "/v1/loops/home-feed/decide", """{"context":{}}""", null, 422, "actions" },
        { "empty actions", "POST", "/v1/loops/home-feed/decide", """{"actions":[]}""", null, 422, "actions" },
        { "action id a number", "POST", "/v1/loops/home-feed/decide", """{"actions":[{"id":7}]}""", null, 422, "actions[0].id" },
        { "empty action id", "POST", "/v1/loops/home-feed/decide", """{"actions":[{"id":""}]}""", null, 422, "actions[0].id" },
        { "duplicate action ids", "POST", "/v1/loops/home-feed/decide", """{"actions":[{"id":"a"},{"id":"a"}]}""", null, 422, "actions[1].id" },
        { "NaN as a string feature is a string, NaN literal is broken JSON", "POST", "/v1/loops/home-feed/decide", """{"actions":[{"id":"a"}],"context":{"u":{"x":NaN}}}""", null, 400, "not valid JSON" },
        { "Infinity literal", "POST", "/v1/loops/home-feed/decide", """{"actions":[{"id":"a"}],"context":{"u":{"x":Infinity}}}""", null, 400, "not valid JSON" },
        { "huge number", "POST", "/v1/loops/home-feed/decide", """{"actions":[{"id":"a"}],"context":{"u":{"x":1e400}}}""", null, 422, "context.u.x" },
        { "feature of the wrong type", "POST", "/v1/loops/home-feed/decide", """{"actions":[{"id":"a","features":{"item":{"tags":[1,2]}}}]}""", null, 422, "actions[0].features.item.tags[0]" },
        { "context not an object", "POST", "/v1/loops/home-feed/decide", """{"actions":[{"id":"a"}],"context":"fr"}""", null, 422, "context" },
        { "unknown field", "POST", "/v1/loops/home-feed/decide", """{"actions":[{"id":"a"}],"shuffle":true}""", null, 422, "shuffle" },
        { "unknown action field", "POST", "/v1/loops/home-feed/decide", """{"actions":[{"id":"a","score":1}]}""", null, 422, "actions[0].score" },
        { "baseline not an action", "POST", "/v1/loops/home-feed/decide", """{"actions":[{"id":"a"}],"baselineActionId":"b"}""", null, 422, "baselineActionId" },
        { "oversized actions array", "POST", "/v1/loops/home-feed/decide", $$"""{"actions":{{Actions(1001)}}}""", null, 413, "1000" },
        { "oversized body", "POST", "/v1/loops/home-feed/decide", "{\"actions\":[{\"id\":\"a\",\"features\":{\"f\":{\"x\":\"" + new string('y', 300_000) + "\"}}}]}", null, 413, "limit" },
        { "wrong content type", "POST", "/v1/loops/home-feed/decide", """{"actions":[{"id":"a"}]}""", "text/plain", 415, "Content-Type" },
        { "unknown loop", "POST", "/v1/loops/nope/decide", """{"actions":[{"id":"a"}]}""", null, 404, "nope" },
        { "unknown signal type", "POST", "/v1/loops/home-feed/signals", """{"signals":[{"decisionId":"kept","type":"purchase"}]}""", null, 422, "signals[0].type" },
        { "signals not an array", "POST", "/v1/loops/home-feed/signals", """{"signals":{"type":"skip"}}""", null, 422, "signals" },
        { "signal value a string", "POST", "/v1/loops/home-feed/signals", """{"signals":[{"decisionId":"kept","type":"skip","value":"1"}]}""", null, 422, "signals[0].value" },
        { "signal value huge", "POST", "/v1/loops/home-feed/signals", """{"signals":[{"decisionId":"kept","type":"skip","value":-1e999}]}""", null, 422, "signals[0].value" },
        { "signal without decision or user", "POST", "/v1/loops/home-feed/signals", """{"signals":[{"type":"skip"}]}""", null, 422, "signals[0].decisionId" },
        { "signal bad time", "POST", "/v1/loops/home-feed/signals", """{"signals":[{"decisionId":"kept","type":"skip","at":"yesterday"}]}""", null, 422, "signals[0].at" },
        { "signal unknown field", "POST", "/v1/loops/home-feed/signals", """{"signals":[{"decisionId":"kept","type":"skip","weight":2}]}""", null, 422, "signals[0].weight" },
        { "too many signals", "POST", "/v1/loops/home-feed/signals", $$"""{"signals":{{Signals(10_001)}}}""", null, 413, "limit" },
        { "loop config unknown field", "PUT", "/v1/loops/home-feed", """{"signals":{"skip":{"weight":1}},"reward":{"windowSecs":5}}""", null, 422, "reward.windowSecs" },
        { "loop config bad window", "PUT", "/v1/loops/home-feed", """{"signals":{"skip":{"weight":1}},"reward":{"windowSeconds":0}}""", null, 422, "reward.windowSeconds" },
        { "loop config id mismatch", "PUT", "/v1/loops/home-feed", """{"id":"other","signals":{"skip":{"weight":1}}}""", null, 422, "id" },
        { "loop config bad id in URL", "PUT", "/v1/loops/Bad%20Id", """{"signals":{"skip":{"weight":1}}}""", null, 422, "id" },
        { "loop config not supported", "PUT", "/v1/loops/home-feed", """{"kind":"ability","signals":{"skip":{"weight":1}}}""", null, 422, "kind" },
        { "unknown decision audit", "GET", "/v1/loops/home-feed/decisions/never", null, null, 404, "never" },
        { "unknown loop read", "GET", "/v1/loops/nope", null, null, 404, "nope" },
        { "unknown route", "GET", "/v1/lops", null, null, 404, "GET /v1/lops" },
        { "unknown route under a loop", "POST", "/v1/loops/home-feed/decid", "{}", null, 404, "/v1/loops/home-feed/decid" },
        { "wrong method", "DELETE", "/v1/loops/home-feed/decide", null, null, 405, "POST" },
        { "wrong method on a read", "POST", "/v1/loops/home-feed/decisions/kept", "{}", null, 405, "GET" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Request_Malformed_Gets4xxProblemNamingItAndLosesNothing(string name, string method, string path, string? body, string? contentType, int status, string mentions)
    {
        using var response = await _server.SendAsync(new HttpMethod(method), path, body, contentType ?? "application/json");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == (int)response.StatusCode, $"{name}: {(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(text);
        Assert.Equal(status, problem.RootElement.GetProperty("status").GetInt32());
        var detail = problem.RootElement.GetProperty("detail").GetString()!;
        var field = problem.RootElement.TryGetProperty("field", out var f) ? f.GetString() : null;
        Assert.True(detail.Contains(mentions, StringComparison.Ordinal) || field == mentions, $"{name}: problem does not mention '{mentions}': {text}");

        // Nothing acknowledged before is lost, and the loop still works.
        using var audit = await _server.SendAsync(HttpMethod.Get, "/v1/loops/home-feed/decisions/kept", null);
        Assert.Equal(HttpStatusCode.OK, audit.StatusCode);
        using var doc = JsonDocument.Parse(await audit.Content.ReadAsStringAsync());
        Assert.Contains(doc.RootElement.GetProperty("signals").EnumerateArray(), s => s.GetProperty("signalId").GetString() == "s-kept");
        using var loop = await _server.SendAsync(HttpMethod.Get, "/v1/loops/home-feed", null);
        Assert.Contains("watch_complete", await loop.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task OpenApi_Document_ListsTheEndpoints()
    {
        var text = await _server.Http.GetStringAsync("/openapi/v1.json");
        Assert.Contains("/v1/loops/{loop}/decide", text);
        Assert.Contains("/v1/loops/{loop}/signals", text);
        using var doc = JsonDocument.Parse(text);
        var paths = doc.RootElement.GetProperty("paths");
        Assert.True(paths.GetProperty("/v1/loops/{loop}/models").TryGetProperty("get", out _));
        Assert.True(paths.GetProperty("/v1/loops/{loop}/models/{version}/promote").TryGetProperty("post", out _));
        Assert.True(paths.GetProperty("/v1/loops/{loop}/rollback").TryGetProperty("post", out _));
        Assert.True(paths.GetProperty("/v1/loops/{loop}/turns").TryGetProperty("get", out _));
        Assert.True(paths.GetProperty("/v1/loops/{loop}/turns").TryGetProperty("post", out _));
        Assert.True(paths.GetProperty("/v1/loops/{loop}/evaluate").TryGetProperty("post", out _));
        Assert.True(paths.GetProperty("/v1/loops/{loop}/models/{version}/shadow").TryGetProperty("post", out _));
        Assert.True(paths.GetProperty("/v1/loops/{loop}/models/{version}/shadow").TryGetProperty("get", out _));
        Assert.True(paths.GetProperty("/v1/loops/{loop}/models/{version}/retire").TryGetProperty("post", out _));
        foreach (var path in new[] { "/v1/loops/{loop}/models/{version}/mismatches", "/v1/loops/{loop}/mismatches" })
        {
            var mismatches = paths.GetProperty(path).GetProperty("get");
            Assert.Contains("limit", mismatches.GetProperty("parameters").EnumerateArray().Select(p => p.GetProperty("name").GetString()));
        }
        var export = paths.GetProperty("/v1/loops/{loop}/export").GetProperty("get");
        var parameters = export.GetProperty("parameters").EnumerateArray().Select(p => p.GetProperty("name").GetString()).ToList();
        Assert.Equal(["loop", "format", "from", "to", "policy", "mismatches", "style", "minReward", "maxReward", "variant"], parameters);
        Assert.True(export.GetProperty("responses").GetProperty("200").GetProperty("content").TryGetProperty("application/x-ndjson", out _));
        using var reference = await _server.Http.GetAsync("/scalar/v1");
        Assert.Equal(HttpStatusCode.OK, reference.StatusCode);
    }
}

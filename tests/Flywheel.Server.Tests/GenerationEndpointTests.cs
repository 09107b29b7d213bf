using System.Net;
using System.Text.Json;
using Flywheel.Client;
using Flywheel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Flywheel.Server.Tests;

/// <summary>
/// A generation loop over HTTP on a fake clock: <c>PUT …/decisions/{id}/output</c> and its refusals, the audit, and the
/// training exports (<c>GET …/export?format=sft|dpo|kto</c>) with their styles, filters and refusals, raw and through the SDK.
/// </summary>
public sealed class GenerationEndpointTests : IAsyncLifetime
{
    private const string Loop = "summarize";
    private static readonly DateTimeOffset Start = new(2026, 11, 24, 0, 0, 0, TimeSpan.Zero);

    private const string LoopConfig = """
        { "generation": { "storeText": true, "maxChars": 40 },
          "signals": { "kept": {"kind": "implicit", "weight": 1, "closesWindow": true},
                       "edited": {"kind": "explicit", "weight": -1, "closesWindow": true},
                       "regenerated": {"kind": "implicit", "weight": -1, "closesWindow": true} },
          "reward": { "windowSeconds": 3600, "aggregate": "sum", "min": -1, "max": 1 } }
        """;

    private const string Prompt = """[{"role": "system", "content": "Summarise."}, {"role": "user", "content": "Rivers, at length."}]""";

    private readonly FakeTimeProvider _time = new(Start);
    private ServerFixture _server = null!;
    private FlywheelClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await ServerFixture.StartAsync(o => o.TimeProvider = _time);
        _client = new FlywheelClient(_server.Http, new FlywheelClientOptions { BaseAddress = _server.Address });
        (await _server.SendAsync(HttpMethod.Put, $"/v1/loops/{Loop}", LoopConfig)).EnsureSuccessStatusCode();
        (await _server.SendAsync(HttpMethod.Put, "/v1/loops/feed", ServerFixture.FeedLoop)).EnsureSuccessStatusCode();
        (await _server.SendAsync(HttpMethod.Put, "/v1/loops/quiet", """
            { "generation": { "storeText": false }, "signals": { "edited": {"kind": "explicit", "weight": -1} } }
            """)).EnsureSuccessStatusCode();
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task PutOutput_StoredDuplicateAndShownInTheAudit()
    {
        await DecideAsync("d1");

        using var first = await PutOutputAsync("d1", "Rivers flow.");
        using var again = await PutOutputAsync("d1", "Rivers flow.");
        using var audit = await _server.Http.GetAsync($"/v1/loops/{Loop}/decisions/d1");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("""{"decisionId":"d1","duplicate":false}""", await first.Content.ReadAsStringAsync());
        Assert.Equal("""{"decisionId":"d1","duplicate":true}""", await again.Content.ReadAsStringAsync());
        audit.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await audit.Content.ReadAsStringAsync());
        var output = json.RootElement.GetProperty("output");
        Assert.Equal("Rivers flow.", output.GetProperty("text").GetString());
        Assert.Equal(["system", "user"], output.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("role").GetString()));
    }

    [Fact]
    public async Task PutOutput_Refusals_ProblemJsonNamingTheField()
    {
        await DecideAsync("d1");
        (await PutOutputAsync("d1", "first")).EnsureSuccessStatusCode();
        await DecideAsync("d2");
        using var feedDecision = await _server.SendAsync(HttpMethod.Post, "/v1/loops/feed/decide", """{"decisionId": "f1", "actions": [{"id": "a"}]}""");
        feedDecision.EnsureSuccessStatusCode();
        await DecideAsync("q1", loop: "quiet");

        using var conflict = await PutOutputAsync("d1", "second");
        using var unknown = await PutOutputAsync("nope", "text");
        using var tooLarge = await PutOutputAsync("d2", new string('x', 41));
        using var feed = await PutOutputAsync("f1", "text", loop: "feed");
        using var quiet = await PutOutputAsync("q1", "text", loop: "quiet");
        using var role = await _server.SendAsync(HttpMethod.Put, $"/v1/loops/{Loop}/decisions/d2/output", """{"text": "t", "messages": [{"role": "robot", "content": "x"}]}""");
        using var noText = await _server.SendAsync(HttpMethod.Put, $"/v1/loops/{Loop}/decisions/d2/output", """{"messages": []}""");

        await ExpectProblemAsync(conflict, HttpStatusCode.Conflict, "decisionId");
        await ExpectProblemAsync(unknown, HttpStatusCode.NotFound, "decisionId");
        await ExpectProblemAsync(tooLarge, HttpStatusCode.RequestEntityTooLarge, "text");
        await ExpectProblemAsync(feed, HttpStatusCode.UnprocessableEntity, "output");
        await ExpectProblemAsync(quiet, HttpStatusCode.UnprocessableEntity, "text");
        await ExpectProblemAsync(role, HttpStatusCode.UnprocessableEntity, "messages[0].role");
        Assert.True(noText.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.UnprocessableEntity, await noText.Content.ReadAsStringAsync());
        Assert.Contains("text", await noText.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Edit_WithoutValue_MeasuredAgainstTheOutputOverHttp()
    {
        await DecideAsync("d1");
        (await PutOutputAsync("d1", "kitten")).EnsureSuccessStatusCode();

        using var signal = await SignalAsync("d1", "edited", text: "sitting");
        signal.EnsureSuccessStatusCode();
        await FlushAsync();

        var audit = await _client.GetDecisionAsync(Loop, "d1");
        Assert.Equal(3.0 / 7, Assert.Single(audit!.Signals).Value, 12);
        Assert.Equal(-3.0 / 7, audit.Reward!.Reward, 12);
    }

    [Fact]
    public async Task Export_Formats_LinesInTheirShapes()
    {
        await ScriptAsync();

        var sft = await ExportLinesAsync("format=sft");
        var sftTrl = await ExportLinesAsync("format=sft&style=trl");
        var dpo = await ExportLinesAsync("format=dpo");
        var dpoTrl = await ExportLinesAsync("format=dpo&style=trl");
        var kto = await ExportLinesAsync("format=kto");

        Assert.Equal(
            [
                """{"messages":[{"role":"system","content":"Summarise."},{"role":"user","content":"Rivers, at length."},{"role":"assistant","content":"o1"}]}""",
                """{"messages":[{"role":"system","content":"Summarise."},{"role":"user","content":"Rivers, at length."},{"role":"assistant","content":"o2 fixé"}]}""",
                """{"messages":[{"role":"system","content":"Summarise."},{"role":"user","content":"Rivers, at length."},{"role":"assistant","content":"o4"}]}""",
            ],
            sft);
        Assert.Equal(["o1", "o2 fixé", "o4"], sftTrl.Select(l => Answer(l, "completion")));
        Assert.Equal(
            [
                """{"input":{"messages":[{"role":"system","content":"Summarise."},{"role":"user","content":"Rivers, at length."}]},"preferred_output":[{"role":"assistant","content":"o2 fixé"}],"non_preferred_output":[{"role":"assistant","content":"o2 draft"}]}""",
                """{"input":{"messages":[{"role":"system","content":"Summarise."},{"role":"user","content":"Rivers, at length."}]},"preferred_output":[{"role":"assistant","content":"o4"}],"non_preferred_output":[{"role":"assistant","content":"o3"}]}""",
            ],
            dpo);
        Assert.Equal([("o2 fixé", "o2 draft"), ("o4", "o3")], dpoTrl.Select(l => (Answer(l, "chosen"), Answer(l, "rejected"))));
        Assert.Equal(
            [("o1", true), ("o2 draft", false), ("o2 fixé", true), ("o3", false), ("o4", true)],
            kto.Select(l => (Answer(l, "completion"), JsonDocument.Parse(l).RootElement.GetProperty("label").GetBoolean())));
        // Only the published keys: no decision or user ids.
        Assert.All(sft.Concat(sftTrl).Concat(dpo).Concat(dpoTrl).Concat(kto), l =>
        {
            Assert.DoesNotContain("\"d", l, StringComparison.Ordinal);
            Assert.DoesNotContain("u-", l, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task Export_Headers_NdjsonNamedAfterTheFormat()
    {
        await ScriptAsync();

        using var response = await _server.Http.GetAsync($"/v1/loops/{Loop}/export?format=dpo&style=trl");

        response.EnsureSuccessStatusCode();
        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("summarize.dpo.jsonl", response.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
    }

    [Fact]
    public async Task Export_Filters_TimeRewardAndVariant()
    {
        await ScriptAsync();

        Assert.Equal(["o4"], (await ExportLinesAsync("format=sft&variant=detailed")).Select(LastAnswer));
        Assert.Equal(["o1", "o2 fixé", "o4"], (await ExportLinesAsync("format=sft&variant=detailed&variant=terse")).Select(LastAnswer));
        Assert.Equal(["o1", "o2 fixé", "o4"], (await ExportLinesAsync("format=sft&variant=detailed,terse")).Select(LastAnswer));
        Assert.Equal(["o1", "o4"], (await ExportLinesAsync("format=sft&minReward=0.5")).Select(LastAnswer));
        Assert.Equal(["o2 draft", "o2 fixé", "o3"], (await ExportLinesAsync("format=kto&maxReward=0")).Select(l => Answer(l, "completion")));
        Assert.Equal(["o4"], (await ExportLinesAsync("format=sft&from=2026-11-24T00:02:00Z")).Select(LastAnswer));
        Assert.Equal(["o1"], (await ExportLinesAsync("format=sft&to=2026-11-24T00:01:00Z")).Select(LastAnswer));
    }

    [Fact]
    public async Task Export_Refusals_ProblemJsonBeforeTheFirstByte()
    {
        await ScriptAsync();

        async Task Expect(string loop, string query, HttpStatusCode status, string field)
        {
            using var response = await _server.Http.GetAsync($"/v1/loops/{loop}/export?{query}");
            await ExpectProblemAsync(response, status, field);
        }

        await Expect("feed", "format=sft", HttpStatusCode.UnprocessableEntity, "format");
        await Expect(Loop, "format=kto&style=openai", HttpStatusCode.UnprocessableEntity, "style");
        await Expect(Loop, "format=sft&style=hf", HttpStatusCode.UnprocessableEntity, "style");
        await Expect(Loop, "format=sft&minReward=lots", HttpStatusCode.UnprocessableEntity, "minReward");
        await Expect(Loop, "format=sft&maxReward=NaN", HttpStatusCode.UnprocessableEntity, "maxReward");
        await Expect(Loop, "format=sft&minReward=1&maxReward=0", HttpStatusCode.UnprocessableEntity, "maxReward");
        await Expect(Loop, "format=sft&policy=champion", HttpStatusCode.UnprocessableEntity, "policy");
        await Expect(Loop, "format=sft&variant=", HttpStatusCode.UnprocessableEntity, "variant");
        await Expect(Loop, "format=sft&from=2026-11-24T01:00:00Z&to=2026-11-24T00:00:00Z", HttpStatusCode.UnprocessableEntity, "to");
        await Expect(Loop, "format=sft&style=trl&style=openai", HttpStatusCode.UnprocessableEntity, "style");
        await Expect("feed", "format=jsonl&style=trl", HttpStatusCode.UnprocessableEntity, "style");
        await Expect("feed", "format=jsonl&variant=a", HttpStatusCode.UnprocessableEntity, "variant");
        await Expect(Loop, "format=csv", HttpStatusCode.UnprocessableEntity, "format");
        await Expect("missing", "format=sft", HttpStatusCode.NotFound, "loop");
    }

    [Fact]
    public async Task Sdk_ExportTraining_LinesAndCopy()
    {
        await ScriptAsync();
        var request = new TrainingExportRequest { Format = TrainingFormat.Dpo, Style = TrainingStyle.Trl, Variants = ["detailed"] };

        var lines = new List<string>();
        await foreach (var line in _client.ExportTrainingAsync(Loop, request))
        {
            lines.Add(line);
        }
        using var copy = new MemoryStream();
        var bytes = await _client.ExportTrainingToAsync(Loop, request, copy);

        Assert.Equal([("o4", "o3")], lines.Select(l => (Answer(l, "chosen"), Answer(l, "rejected"))));
        Assert.Equal(copy.Length, bytes);
        Assert.Equal(lines[0] + "\n", System.Text.Encoding.UTF8.GetString(copy.ToArray()));
        var refused = await Assert.ThrowsAnyAsync<FlywheelValidationException>(async () =>
        {
            await foreach (var _ in _client.ExportTrainingAsync("feed", new TrainingExportRequest { Format = TrainingFormat.Sft }))
            {
            }
        });
        Assert.Equal("format", refused.Field);
    }

    /// <summary>
    /// d1 terse kept; d2 terse edited; d3 detailed regenerated; d4 detailed replaces d3, kept; d5 output, no verdict. One
    /// minute apart from <see cref="Start"/>, every window closed.
    /// </summary>
    private async Task ScriptAsync()
    {
        async Task Step(string id, string variant, string output, string? replaces, string? signal, string? text = null)
        {
            await DecideAsync(id, variant);
            (await PutOutputAsync(id, output, replaces: replaces)).EnsureSuccessStatusCode();
            if (signal is not null)
            {
                (await SignalAsync(id, signal, text)).EnsureSuccessStatusCode();
            }
            _time.Advance(TimeSpan.FromMinutes(1));
        }
        await Step("d1", "terse", "o1", null, "kept");
        await Step("d2", "terse", "o2 draft", null, "edited", "o2 fixé");
        await Step("d3", "detailed", "o3", null, "regenerated");
        await Step("d4", "detailed", "o4", "d3", "kept");
        await Step("d5", "terse", "o5", null, null);
        _time.Advance(TimeSpan.FromHours(2));
        await FlushAsync();
    }

    private async Task DecideAsync(string id, string variant = "terse", string loop = Loop)
    {
        using var response = await _server.SendAsync(HttpMethod.Post, $"/v1/loops/{loop}/decide",
            $$"""{"decisionId": "{{id}}", "userId": "u-7", "actions": [{"id": "{{variant}}", "features": {"v": {"n": 1} } }]}""");
        response.EnsureSuccessStatusCode();
    }

    private Task<HttpResponseMessage> PutOutputAsync(string id, string text, string? replaces = null, string loop = Loop)
        => _server.SendAsync(HttpMethod.Put, $"/v1/loops/{loop}/decisions/{id}/output",
            JsonSerializer.Serialize(new Dictionary<string, object?> { ["text"] = text, ["messages"] = JsonDocument.Parse(Prompt).RootElement, ["replaces"] = replaces }
                .Where(p => p.Value is not null).ToDictionary()));

    private Task<HttpResponseMessage> SignalAsync(string id, string type, string? text = null)
        => _server.SendAsync(HttpMethod.Post, $"/v1/loops/{Loop}/signals",
            JsonSerializer.Serialize(new { signals = new[] { text is null ? (object)new { decisionId = id, type } : new { decisionId = id, type, text } } }));

    private async Task FlushAsync() => await _server.Services.GetRequiredService<IFlywheelEngine>().FlushAsync();

    private async Task<List<string>> ExportLinesAsync(string query)
    {
        using var response = await _server.Http.GetAsync($"/v1/loops/{Loop}/export?{query}");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{query}: {response.StatusCode} {body}");
        Assert.EndsWith("\n", body.Length > 0 ? body : "\n", StringComparison.Ordinal);
        return body.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
    }

    private static string Answer(string line, string key)
        => Assert.Single(JsonDocument.Parse(line).RootElement.GetProperty(key).EnumerateArray()).GetProperty("content").GetString()!;

    private static string LastAnswer(string line)
        => JsonDocument.Parse(line).RootElement.GetProperty("messages").EnumerateArray().Last().GetProperty("content").GetString()!;

    private static async Task ExpectProblemAsync(HttpResponseMessage response, HttpStatusCode status, string field)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"{status} expected, got {response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(body);
        Assert.Equal(field, problem.RootElement.GetProperty("field").GetString());
    }
}

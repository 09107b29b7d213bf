using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Flywheel.Client;
using Flywheel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Flywheel.Server.Tests;

/// <summary><c>GET /v1/loops/{loop}/health</c> on a real server with a fake clock, raw and through the .NET SDK.</summary>
public sealed class HealthEndpointTests : IAsyncLifetime
{
    private const string Loop = "feed";
    private const int Decisions = 120;

    private static readonly DateTimeOffset Start = new(2026, 11, 24, 0, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Start);
    private ServerFixture _server = null!;
    private FlywheelClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await ServerFixture.StartAsync(o => o.TimeProvider = _time);
        _client = new FlywheelClient(_server.Http, new FlywheelClientOptions { BaseAddress = _server.Address });
        (await _server.SendAsync(HttpMethod.Put, $"/v1/loops/{Loop}", ServerFixture.FeedLoop)).EnsureSuccessStatusCode();
        var random = new Random(20261206);
        for (var i = 0; i < Decisions; i++)
        {
            var decision = await _client.DecideAsync(Loop, new DecideRequest
            {
                DecisionId = $"d{i}",
                UserId = $"u{i % 9}",
                Context = new Features { ["user"] = { ["country"] = i % 2 == 0 ? "fr" : "de" } },
                Actions = [new ActionCandidate("a0"), new ActionCandidate("a1")],
            });
            // Most decisions get a signal: a skip closes the window at once, a watch or a thumbs waits for the window to run out.
            var roll = random.NextDouble();
            if (roll < 0.9)
            {
                var type = roll < 0.4 ? "skip" : roll < 0.7 ? "watch_complete" : "thumbs_up";
                await _client.SignalAsync(Loop, [new SignalInput { DecisionId = decision.DecisionId, Type = type }]);
            }
            _time.Advance(TimeSpan.FromSeconds(1));
        }
        await _client.SignalAsync(Loop, [new SignalInput { UserId = "u1", Type = "watch_complete" }]);
        _time.Advance(TimeSpan.FromMinutes(11));
        await _server.Services.GetRequiredService<IFlywheelEngine>().FlushAsync();
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task GetHealth_KnownLoop_AnswersTheReportWithVerdictAndEveryFigure()
    {
        using var response = await _server.Http.GetAsync($"/v1/loops/{Loop}/health");
        var text = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(text);
        var root = json.RootElement;
        Assert.Equal(Loop, root.GetProperty("loop").GetString());
        Assert.Equal(Start.AddSeconds(Decisions).AddMinutes(11), root.GetProperty("generatedAt").GetDateTimeOffset());
        Assert.EndsWith("Z", root.GetProperty("generatedAt").GetString(), StringComparison.Ordinal);
        Assert.Equal(LoopConfig.DefaultMinimumFeltEffect, root.GetProperty("minimumFeltEffect").GetDouble());

        var verdict = root.GetProperty("verdict");
        Assert.Contains(verdict.GetProperty("status").GetString(), new[] { "warming-up", "spinning", "no-signal", "no-pipe", "invisible", "plateau", "stale" });
        Assert.False(string.IsNullOrWhiteSpace(verdict.GetProperty("evidence").GetString()));
        Assert.False(string.IsNullOrWhiteSpace(verdict.GetProperty("advice").GetString()));

        var evidence = root.GetProperty("evidence");
        Assert.Equal(Decisions, evidence.GetProperty("decisions").GetInt64());
        Assert.Equal(Decisions, evidence.GetProperty("rewards").GetInt64());
        Assert.Equal(Decisions, evidence.GetProperty("span").GetProperty("decisions").GetInt64());

        var capture = root.GetProperty("capture");
        Assert.False(string.IsNullOrWhiteSpace(capture.GetProperty("definition").GetString()));
        Assert.Equal(Decisions, capture.GetProperty("window").GetProperty("decisions").GetInt64());
        foreach (var share in new[] { "rate", "implicit", "explicit" })
        {
            var estimate = capture.GetProperty(share);
            Assert.InRange(estimate.GetProperty("value").GetDouble(), 0, 1);
            Assert.True(estimate.GetProperty("lower").GetDouble() <= estimate.GetProperty("upper").GetDouble(), share);
        }
        Assert.True(capture.GetProperty("rate").GetProperty("value").GetDouble() > capture.GetProperty("explicit").GetProperty("value").GetDouble());
        Assert.Equal(0, capture.GetProperty("lateSignals").GetInt64());
        Assert.Equal(0, capture.GetProperty("orphanedSignals").GetInt64());

        Assert.Equal("online", root.GetProperty("pipe").GetProperty("mode").GetString());
        Assert.True(root.GetProperty("pipe").GetProperty("learnsOnline").GetBoolean());
        Assert.Equal(JsonValueKind.Array, root.GetProperty("latency").GetProperty("turns").ValueKind);
        Assert.Equal(JsonValueKind.Number, root.GetProperty("fuel").GetProperty("signalsPerDecision").ValueKind);
        Assert.Equal(JsonValueKind.Array, root.GetProperty("learningCurve").GetProperty("points").ValueKind);
        // Too few rewards to fit a curve or compare two windows: those figures are left out, not written as zeros.
        Assert.False(root.GetProperty("learningCurve").TryGetProperty("fit", out _));
        Assert.Equal(JsonValueKind.Array, root.GetProperty("lift").GetProperty("turns").ValueKind);
        Assert.False(root.GetProperty("lift").TryGetProperty("learning", out _));
        foreach (var figure in new[] { "capture", "fuel", "pipe", "latency", "learningCurve", "lift", "staleness", "return" })
        {
            Assert.False(string.IsNullOrWhiteSpace(root.GetProperty(figure).GetProperty("definition").GetString()), figure);
        }
        Assert.Equal(JsonValueKind.Array, root.GetProperty("staleness").GetProperty("byAge").ValueKind);
        Assert.Equal(JsonValueKind.Number, root.GetProperty("staleness").GetProperty("drift").GetProperty("alarms").ValueKind);
        var returns = root.GetProperty("return");
        Assert.Equal(9, returns.GetProperty("users").GetInt64());
        Assert.Equal(JsonValueKind.Number, returns.GetProperty("within1Day").GetProperty("visits").ValueKind);
        Assert.Equal(6, returns.GetProperty("streaks").GetArrayLength());
    }

    [Fact]
    public async Task GetHealth_UnknownLoop_Answers404ProblemNamingTheLoop()
    {
        using var response = await _server.Http.GetAsync("/v1/loops/nope/health");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(text);
        Assert.Equal(404, problem.RootElement.GetProperty("status").GetInt32());
        Assert.Contains("nope", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClientGetHealthAsync_KnownLoop_ReadsWhatTheServerAnswers()
    {
        var report = await _client.GetHealthAsync(Loop);
        var raw = await _server.Http.GetStringAsync($"/v1/loops/{Loop}/health");
        var engine = await _server.Services.GetRequiredService<IFlywheelEngine>().GetHealthAsync(Loop);

        Assert.Equal(Loop, report.Loop);
        Assert.Equal(engine.Verdict, report.Verdict);
        Assert.Equal(engine.Evidence, report.Evidence);
        Assert.Equal(engine.Capture.Rate, report.Capture.Rate);
        Assert.Equal(engine.Capture.Implicit, report.Capture.Implicit);
        Assert.Equal(engine.Capture.Explicit, report.Capture.Explicit);
        Assert.Equal(engine.Return.Users, report.Return.Users);
        // Nothing is lost between the wire and the SDK's types: written again, the report is the server's JSON.
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(raw), JsonNode.Parse(FlywheelJson.Serialize(report))), raw);
    }

    [Fact]
    public async Task ClientGetHealthAsync_UnknownLoop_ThrowsNotFound()
    {
        var ex = await Assert.ThrowsAnyAsync<FlywheelValidationException>(() => _client.GetHealthAsync("nope"));

        Assert.Equal(ValidationKind.NotFound, ex.Kind);
        Assert.Contains("nope", ex.Message, StringComparison.Ordinal);
    }
}

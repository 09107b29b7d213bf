using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace Flywheel.Server.Tests;

/// <summary>
/// Bounded resources over HTTP: requests past the concurrency or body-memory bound get 503 with Retry-After before
/// their body is read, held requests still complete, and a decision too costly to score is refused before any work.
/// Requests are held in progress by bodies that trickle JSON whitespace until released, so every step below waits on
/// the server's own count, never on the clock.
/// </summary>
public sealed class AdmissionTests
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(2);

    private static string Decide(string id) => $$$"""{"decisionId":"{{{id}}}","context":{"user":{"country":"fr"}},"actions":[{"id":"v1"},{"id":"v2"}]}""";

    [Fact]
    public async Task Requests_OverTheConcurrencyLimit_Get503WithRetryAfter_AndHeldOnesComplete()
    {
        await using var server = await ServerFixture.StartAsync(o => o.MaxConcurrentRequests = 2);
        (await server.SendAsync(HttpMethod.Put, "/v1/loops/home-feed", ServerFixture.FeedLoop)).EnsureSuccessStatusCode();
        var admission = server.Services.GetRequiredService<RequestAdmission>();

        var held = new[] { new TrickleContent(Decide("held-1")), new TrickleContent(Decide("held-2")) };
        var pending = held.Select(c => server.Http.PostAsync("/v1/loops/home-feed/decide", c)).ToArray();
        await WaitForAsync(() => admission.Requests == 2, pending);

        using var refused = await server.SendAsync(HttpMethod.Post, "/v1/loops/home-feed/decide", Decide("refused"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Contains("MaxConcurrentRequests", await refused.Content.ReadAsStringAsync());
        // Liveness stays answerable while the server is saturated.
        using (var health = await server.Http.GetAsync("/healthz"))
        {
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }

        foreach (var content in held)
        {
            content.Release();
        }
        foreach (var response in await Task.WhenAll(pending))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("/v1/loops/home-feed/decisions/held-1")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Http.GetAsync("/v1/loops/home-feed/decisions/refused")).StatusCode);
        await WaitForAsync(() => admission.Requests == 0);
        using var after = await server.SendAsync(HttpMethod.Post, "/v1/loops/home-feed/decide", Decide("after"));
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task Bodies_OverTheInFlightBudget_Get503_WhileRequestsWithoutBodyPass()
    {
        await using var server = await ServerFixture.StartAsync(o =>
        {
            o.MaxRequestBodyBytes = 1 << 20;
            o.MaxInFlightBodyBytes = 1 << 20;
        });
        (await server.SendAsync(HttpMethod.Put, "/v1/loops/home-feed", ServerFixture.FeedLoop)).EnsureSuccessStatusCode();
        var admission = server.Services.GetRequiredService<RequestAdmission>();

        // A body of undeclared length reserves the largest allowed: the whole budget.
        var held = new TrickleContent(Decide("held"));
        var pending = server.Http.PostAsync("/v1/loops/home-feed/decide", held);
        await WaitForAsync(() => admission.Bytes == 1 << 20, pending);

        using var refused = await server.SendAsync(HttpMethod.Post, "/v1/loops/home-feed/signals", """{"signals":[{"decisionId":"held","type":"skip"}]}""");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.NotNull(refused.Headers.RetryAfter);
        Assert.Contains("MaxInFlightBodyBytes", await refused.Content.ReadAsStringAsync());
        using (var read = await server.Http.GetAsync("/v1/loops/home-feed"))
        {
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        }

        held.Release();
        Assert.Equal(HttpStatusCode.OK, (await pending).StatusCode);
        await WaitForAsync(() => admission.Bytes == 0);
        using var accepted = await server.SendAsync(HttpMethod.Post, "/v1/loops/home-feed/signals", """{"signals":[{"decisionId":"held","type":"skip"}]}""");
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
    }

    [Fact]
    public async Task Decide_HeaviestLegalRequest_IsRefusedBeforeScoring_NamingTheLimit()
    {
        await using var server = await ServerFixture.StartAsync();
        (await server.SendAsync(HttpMethod.Put, "/v1/loops/home-feed", ServerFixture.FeedLoop)).EnsureSuccessStatusCode();
        // 8 namespaces × 1,024 context features (each within the per-namespace limit) and 1,000 actions: a legal
        // request of a few hundred KiB that would cross 8 million features.
        var body = new StringBuilder("""{"decisionId":"heavy","context":{""");
        for (var n = 0; n < 8; n++)
        {
            body.Append(n == 0 ? "" : ",").Append($"\"n{n}\":{{");
            body.AppendJoin(',', Enumerable.Range(0, 1024).Select(f => $"\"f{f}\":{f + 1}"));
            body.Append('}');
        }
        body.Append("},\"actions\":[").AppendJoin(',', Enumerable.Range(0, 1000).Select(a => $"{{\"id\":\"a{a}\"}}")).Append("]}");

        using var response = await server.SendAsync(HttpMethod.Post, "/v1/loops/home-feed/decide", body.ToString());
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        using var problem = JsonDocument.Parse(text);
        Assert.Equal("actions", problem.RootElement.GetProperty("field").GetString());
        Assert.Contains("MaxFeaturesPerDecision", problem.RootElement.GetProperty("detail").GetString());
        Assert.Contains("8,194,000", problem.RootElement.GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await server.Http.GetAsync("/v1/loops/home-feed/decisions/heavy")).StatusCode);

        // The same request with ten actions and one namespace is within the limit and served.
        var features = string.Join(',', Enumerable.Range(0, 1024).Select(f => $"\"f{f}\":{f + 1}"));
        var light = """{"decisionId":"light","context":{"n0":{""" + features + """}},"actions":[{"id":"a0"},{"id":"a1"}]}""";
        using var served = await server.SendAsync(HttpMethod.Post, "/v1/loops/home-feed/decide", light);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
    }

    private static async Task WaitForAsync(Func<bool> condition, params Task[] pending)
    {
        using var guard = new CancellationTokenSource(HangGuard);
        while (!condition())
        {
            if (pending.FirstOrDefault(p => p.IsCompleted) is { } ended)
            {
                await ended; // a held request that ended early says why
                Assert.Fail("a held request ended before it was released");
            }
            await Task.Delay(10, guard.Token);
        }
    }

    /// <summary>
    /// A chunked JSON body that sends whitespace (legal before a JSON value) until released, then the JSON: the request
    /// stays in progress, and above Kestrel's minimum data rate, for as long as the test needs.
    /// </summary>
    private sealed class TrickleContent : HttpContent
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly string _json;

        public TrickleContent(string json)
        {
            _json = json;
            Headers.ContentType = new("application/json");
        }

        public void Release() => _release.TrySetResult();

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var padding = new byte[256];
            Array.Fill(padding, (byte)' ');
            while (!_release.Task.IsCompleted)
            {
                await stream.WriteAsync(padding);
                await stream.FlushAsync();
                await Task.WhenAny(_release.Task, Task.Delay(20));
            }
            await stream.WriteAsync(Encoding.UTF8.GetBytes(_json));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = -1;
            return false;
        }
    }
}

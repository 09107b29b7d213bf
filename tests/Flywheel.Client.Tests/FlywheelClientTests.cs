using System.Net.Http.Headers;
using Flywheel.Core;
using static Flywheel.Client.Tests.Setup;

namespace Flywheel.Client.Tests;

public class FlywheelClientTests
{
    private static readonly LoopConfig HomeFeed = LoopConfigJson.Parse("""
        { "id": "home-feed", "signals": { "watch_complete": { "kind": "implicit", "weight": 1.0 } } }
        """);

    [Fact]
    public async Task PutLoopAsync_SendsConfigAsJson_ReturnsStoredConfig()
    {
        var stored = HomeFeed with { Mode = LoopMode.Frozen };
        var (client, handler, _) = NewClient((_, _) => Task.FromResult(Answers.Json(200, LoopConfigJson.Serialize(stored))));

        var result = await client.PutLoopAsync(HomeFeed);

        var request = Assert.Single(handler.Requests);
        Assert.Equal(HttpMethod.Put, request.Method);
        Assert.Equal("http://flywheel.test:5005/v1/loops/home-feed", request.Uri.ToString());
        Assert.Equal("application/json; charset=utf-8", request.ContentType);
        Assert.Equal(LoopConfigJson.Serialize(HomeFeed), request.Body);
        Assert.Equal(LoopMode.Frozen, result.Mode);
    }

    [Fact]
    public async Task GetLoopAsync_Found_ReadsConfig_NotFound_ReturnsNull()
    {
        var (client, handler, _) = NewClient((r, _) => Task.FromResult(r.Uri.AbsolutePath.EndsWith("/home-feed", StringComparison.Ordinal)
            ? Answers.Json(200, LoopConfigJson.Serialize(HomeFeed))
            : Answers.Problem(404, "Not found", "loop: loop 'nope' does not exist", "loop")));

        var found = await client.GetLoopAsync("home-feed");
        var missing = await client.GetLoopAsync("nope");

        Assert.Equal("home-feed", found!.Id);
        Assert.Null(missing);
        Assert.All(handler.Requests, r => Assert.Equal(HttpMethod.Get, r.Method));
        Assert.Equal(2, handler.Requests.Count);
    }

    [Fact]
    public async Task ListLoopsAsync_ReadsLoopsArray()
    {
        var other = HomeFeed with { Id = "search" };
        var body = $$"""{ "loops": [ {{LoopConfigJson.Serialize(HomeFeed)}}, {{LoopConfigJson.Serialize(other)}} ] }""";
        var (client, handler, _) = NewClient((_, _) => Task.FromResult(Answers.Json(200, body)));

        var loops = await client.ListLoopsAsync();

        Assert.Equal(["home-feed", "search"], loops.Select(l => l.Id));
        Assert.Equal("/v1/loops", handler.Requests[0].Uri.AbsolutePath);
    }

    [Fact]
    public async Task DecideAsync_WithoutDecisionId_PostsRequestWithGeneratedVersion7Id()
    {
        var (client, handler, _) = NewClient(Answers.Ok);

        var decision = await client.DecideAsync("home-feed", Request());

        var request = Assert.Single(handler.Requests);
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal("/v1/loops/home-feed/decide", request.Uri.AbsolutePath);
        var sent = FlywheelJson.Read<DecideRequest>(request.Json);
        Assert.Matches("^[0-9a-f]{32}$", sent.DecisionId);
        Assert.Equal(7, Guid.ParseExact(sent.DecisionId!, "N").Version);
        Assert.Equal("u-42", sent.UserId);
        Assert.Equal(["v1", "v2"], sent.Actions.Select(a => a.Id));
        Assert.Equal("fr", sent.Context["user"]["country"].Text);
        Assert.Equal(sent.DecisionId, decision.DecisionId);
        Assert.Equal("v2", decision.ChosenActionId);
        Assert.Equal(0.975, decision.Ranking[0].Probability);
    }

    [Fact]
    public async Task DecideAsync_WithDecisionId_KeepsIt()
    {
        var (client, handler, _) = NewClient(Answers.Ok);

        var decision = await client.DecideAsync("home-feed", Request("my-id"));

        Assert.Equal("my-id", handler.Requests[0].Json.GetProperty("decisionId").GetString());
        Assert.Equal("my-id", decision.DecisionId);
    }

    [Fact]
    public async Task DecideAsync_503WithRetryAfter_WaitsThatLongThenRetriesWithSameDecisionId()
    {
        var retries = new List<FlywheelRetryInfo>();
        var (client, handler, time) = NewClient(
            (r, ct) => r.Index == 0 ? Task.FromResult(Answers.Problem(503, "Overloaded", "retry later", retryAfterSeconds: 2)) : Answers.Ok(r, ct),
            o => o.OnRetry = retries.Add);

        var decision = await DriveAsync(client.DecideAsync("home-feed", Request()), time, TimeSpan.FromMilliseconds(100));

        Assert.Equal(2, handler.Requests.Count);
        var retry = Assert.Single(retries);
        Assert.Equal(TimeSpan.FromSeconds(2), retry.Delay);
        Assert.Equal(503, retry.StatusCode);
        Assert.Equal(1, retry.Attempt);
        Assert.True(handler.Requests[1].Time - handler.Requests[0].Time >= TimeSpan.FromSeconds(2));
        var ids = handler.Requests.Select(r => r.Json.GetProperty("decisionId").GetString()).Distinct().ToList();
        Assert.Equal(decision.DecisionId, Assert.Single(ids));
    }

    [Fact]
    public async Task DecideAsync_422_ThrowsValidationExceptionWithFieldAndDoesNotRetry()
    {
        var (client, handler, _) = NewClient((_, _) => Task.FromResult(
            Answers.Problem(422, "Invalid request", "actions[1].id: 'v1' appears more than once", "actions[1].id")));

        var ex = await Assert.ThrowsAsync<FlywheelApiValidationException>(() => client.DecideAsync("home-feed", Request()));

        Assert.Single(handler.Requests);
        Assert.Equal("actions[1].id", ex.Field);
        Assert.Equal("'v1' appears more than once", ex.Problem);
        Assert.Equal("actions[1].id: 'v1' appears more than once", ex.Message);
        Assert.Equal(ValidationKind.Invalid, ex.Kind);
        Assert.Equal(422, ex.StatusCode);
        Assert.Equal("Invalid request", ex.ProblemDetails!.Title);
        Assert.IsAssignableFrom<FlywheelValidationException>(ex);
    }

    [Fact]
    public async Task ListLoopsAsync_404WithoutAProblem_NamesTheRequest()
    {
        // What a server that is not Flywheel (or a wrong path behind a proxy) answers.
        var (client, _, _) = NewClient((_, _) => Task.FromResult(new HttpResponseMessage(System.Net.HttpStatusCode.NotFound) { Content = new StringContent("Not Found") }));

        var ex = await Assert.ThrowsAsync<FlywheelApiValidationException>(() => client.ListLoopsAsync());

        Assert.Equal(ValidationKind.NotFound, ex.Kind);
        Assert.Contains("GET http", ex.Message, StringComparison.Ordinal);
        Assert.Contains("/v1/loops was refused with status 404", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(400, "Malformed JSON", ValidationKind.Invalid)]
    [InlineData(404, "Not found", ValidationKind.NotFound)]
    [InlineData(413, "Too large", ValidationKind.TooLarge)]
    [InlineData(422, "Invalid request", ValidationKind.Invalid)]
    [InlineData(422, "Not supported", ValidationKind.NotSupported)]
    public async Task DecideAsync_RefusalStatus_MapsToValidationKind(int status, string title, ValidationKind kind)
    {
        var (client, handler, _) = NewClient((_, _) => Task.FromResult(Answers.Problem(status, title, "refused")));

        var ex = await Assert.ThrowsAsync<FlywheelApiValidationException>(() => client.DecideAsync("home-feed", Request()));

        Assert.Equal(kind, ex.Kind);
        Assert.Equal(status, ex.StatusCode);
        Assert.Equal("", ex.Field);
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task DecideAsync_401_ThrowsApiExceptionWithProblem()
    {
        var (client, _, _) = NewClient((_, _) => Task.FromResult(Answers.Problem(401, "Unauthorized", "no key")));

        var ex = await Assert.ThrowsAsync<FlywheelApiException>(() => client.DecideAsync("home-feed", Request()));

        Assert.Equal(401, ex.StatusCode);
        Assert.Equal("no key", ex.ProblemDetails!.Detail);
        Assert.Contains("401 Unauthorized: no key", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DecideAsync_AnswerInWrongShape_ThrowsApiException()
    {
        var (client, _, _) = NewClient((_, _) => Task.FromResult(Answers.Json(200, """{ "unexpected": true }""")));

        var ex = await Assert.ThrowsAsync<FlywheelApiException>(() => client.DecideAsync("home-feed", Request()));

        Assert.Equal(200, ex.StatusCode);
    }

    [Fact]
    public async Task SignalAsync_AssignsMissingIds_AndKeepsThemAcrossRetries()
    {
        var (client, handler, time) = NewClient((r, ct) => r.Index switch
        {
            0 => throw new HttpRequestException("connection reset"),
            1 => Task.FromResult(Answers.Problem(500, "Internal error", "boom")),
            _ => Answers.Ok(r, ct),
        });
        SignalInput[] signals = [Signal(), Signal("thumbs_up", signalId: "mine")];

        var result = await DriveAsync(client.SignalAsync("home-feed", signals), time, TimeSpan.FromMilliseconds(50));

        Assert.Equal(new SignalBatchResult(2, 0, 0, 0), result);
        Assert.Equal(3, handler.Requests.Count);
        Assert.All(handler.Requests, r => Assert.Equal("/v1/loops/home-feed/signals", r.Uri.AbsolutePath));
        var first = handler.Requests[0].SignalIds;
        Assert.Matches("^[0-9a-f]{32}$", first[0]);
        Assert.Equal("mine", first[1]);
        Assert.All(handler.Requests, r => Assert.Equal(first, r.SignalIds));
        Assert.Null(signals[0].SignalId); // the caller's objects are left alone
    }

    [Fact]
    public async Task SignalAsync_SingleSignal_SendsBatchOfOne()
    {
        var (client, handler, _) = NewClient(Answers.Ok);

        var result = await client.SignalAsync("home-feed", Signal());

        Assert.Equal(1, result.Accepted);
        Assert.Single(handler.Requests[0].SignalIds);
        Assert.Equal("watch_complete", handler.Requests[0].Json.GetProperty("signals")[0].GetProperty("type").GetString());
    }

    [Fact]
    public async Task SignalAsync_Empty_ThrowsValidationWithoutCall()
    {
        var (client, handler, _) = NewClient(Answers.Ok);

        var ex = await Assert.ThrowsAsync<FlywheelValidationException>(() => client.SignalAsync("home-feed", Array.Empty<SignalInput>()));

        Assert.Equal("signals", ex.Field);
        Assert.Empty(handler.Requests);
    }

    [Fact]
    public async Task SignalAsync_503Persists_ThrowsOverloadedAfterMaxRetries()
    {
        var (client, handler, time) = NewClient(
            (_, _) => Task.FromResult(Answers.Problem(503, "Overloaded", "busy", retryAfterSeconds: 1)),
            o => o.MaxRetries = 2);

        var ex = await Assert.ThrowsAsync<FlywheelOverloadedException>(
            () => DriveAsync(client.SignalAsync("home-feed", Signal()), time, TimeSpan.FromMilliseconds(250)));

        Assert.Equal(3, handler.Requests.Count);
        Assert.Equal(TimeSpan.FromSeconds(1), ex.RetryAfter);
    }

    [Fact]
    public async Task SendAsync_429_IsRetried()
    {
        var (client, handler, time) = NewClient((r, ct) => r.Index == 0
            ? Task.FromResult(Answers.Problem(429, "Too many requests", "slow down", retryAfterSeconds: 1))
            : Answers.Ok(r, ct));

        await DriveAsync(client.DecideAsync("home-feed", Request()), time, TimeSpan.FromMilliseconds(250));

        Assert.Equal(2, handler.Requests.Count);
    }

    [Fact]
    public async Task SendAsync_NetworkErrors_BackoffDoublesFromInitialDelay_ThenRethrows()
    {
        var retries = new List<FlywheelRetryInfo>();
        var (client, handler, time) = NewClient((_, _) => throw new HttpRequestException("refused"), o => o.OnRetry = retries.Add);

        var ex = await Assert.ThrowsAsync<HttpRequestException>(
            () => DriveAsync(client.DecideAsync("home-feed", Request()), time, TimeSpan.FromMilliseconds(50)));

        Assert.Equal("refused", ex.Message);
        Assert.Equal(5, handler.Requests.Count); // MaxRetries defaults to 4
        Assert.Equal([100, 200, 400, 800], retries.Select(r => r.Delay.TotalMilliseconds));
        Assert.All(retries, r => Assert.IsType<HttpRequestException>(r.Exception));
        Assert.All(retries, r => Assert.Null(r.StatusCode));
    }

    [Theory]
    [InlineData(0.0, 1, 50)]
    [InlineData(0.999, 1, 149.9)]
    [InlineData(0.5, 3, 400)]
    [InlineData(0.5, 20, 30_000)] // capped at MaxBackoff
    public void Backoff_JitterAndCap(double random, int attempt, double expectedMs)
    {
        var (client, _, _) = NewClient(Answers.Ok, o => o.Randomizer = () => random);

        Assert.Equal(expectedMs, client.Backoff(attempt, retryAfter: null).TotalMilliseconds, precision: 3);
        Assert.Equal(TimeSpan.FromSeconds(30), client.Backoff(1, TimeSpan.FromHours(1)));
    }

    [Fact]
    public async Task DecideAsync_AttemptTimesOut_IsRetriedWithSameId()
    {
        var (client, handler, time) = NewClient(
            async (r, ct) =>
            {
                if (r.Index == 0)
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
                return await Answers.Ok(r, ct);
            },
            o => o.Timeout = TimeSpan.FromSeconds(5));

        var decision = await DriveAsync(client.DecideAsync("home-feed", Request()), time, TimeSpan.FromMilliseconds(500));

        Assert.Equal(2, handler.Requests.Count);
        Assert.True(handler.Requests[1].Time - handler.Requests[0].Time >= TimeSpan.FromSeconds(5));
        Assert.Equal(decision.DecisionId, handler.Requests[0].Json.GetProperty("decisionId").GetString());
    }

    [Fact]
    public async Task DecideAsync_EveryAttemptTimesOut_ThrowsTimeoutException()
    {
        var (client, handler, time) = NewClient(
            async (_, ct) =>
            {
                await Task.Delay(Timeout.Infinite, ct);
                throw new InvalidOperationException("unreachable");
            },
            o => { o.Timeout = TimeSpan.FromSeconds(1); o.MaxRetries = 1; });

        await Assert.ThrowsAsync<TimeoutException>(() => DriveAsync(client.DecideAsync("home-feed", Request()), time, TimeSpan.FromMilliseconds(250)));
        Assert.Equal(2, handler.Requests.Count);
    }

    [Fact]
    public async Task DecideAsync_CanceledDuringBackoff_ThrowsWithoutAnotherAttempt()
    {
        using var cts = new CancellationTokenSource();
        var (client, handler, _) = NewClient((_, _) => Task.FromResult(Answers.Problem(503, "Overloaded", "busy", retryAfterSeconds: 10)));

        var call = client.DecideAsync("home-feed", Request(), cts.Token);
        await handler.WaitForRequestsAsync(1);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task DecideAsync_CanceledDuringRequest_IsNotRetried()
    {
        using var cts = new CancellationTokenSource();
        var (client, handler, _) = NewClient(async (_, ct) =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            throw new InvalidOperationException("unreachable");
        });

        var call = client.DecideAsync("home-feed", Request(), cts.Token);
        await handler.WaitForRequestsAsync(1);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task GetDecisionAsync_ReadsAudit()
    {
        var at = Start.AddMinutes(-5);
        var audit = new DecisionAudit
        {
            Decision = new DecisionRecord
            {
                Loop = "home-feed",
                DecisionId = "d-1",
                At = at,
                UserId = "u-42",
                Context = new Features { ["user"] = { ["country"] = "fr" } },
                Actions = [new ActionCandidate("v1", new Features { ["item"] = { ["length_s"] = 35 } }), new ActionCandidate("v2")],
                BaselineActionId = "v1",
                ChosenActionId = "v2",
                Explored = true,
                Ranking = [new RankedAction("v2", 0.6), new RankedAction("v1", 0.4)],
                ModelVersion = 3,
            },
            Signals =
            [
                new SignalRecord { Loop = "home-feed", SignalId = "s-1", DecisionId = "d-1", Type = "watch_complete", Value = 1, At = at.AddSeconds(30), ReceivedAt = at.AddSeconds(31) },
                new SignalRecord { Loop = "home-feed", SignalId = "s-2", DecisionId = "d-1", Type = "skip", Value = 1, At = at.AddSeconds(900), ReceivedAt = at.AddSeconds(901), Late = true },
            ],
            Reward = new RewardRecord { Loop = "home-feed", DecisionId = "d-1", Sequence = 7, Reward = 1, SignalCount = 1, ClosedAt = at.AddSeconds(600), ClosedBy = WindowClose.Timeout },
        };
        var (client, handler, _) = NewClient((_, _) => Task.FromResult(Answers.Json(200, FlywheelJson.ToString(w => FlywheelJson.Write(w, audit)))));

        var read = await client.GetDecisionAsync("home-feed", "d-1");

        Assert.Equal("/v1/loops/home-feed/decisions/d-1", handler.Requests[0].Uri.AbsolutePath);
        Assert.NotNull(read);
        Assert.Equal(audit.Decision with { Context = read.Decision.Context, Actions = read.Decision.Actions, Ranking = read.Decision.Ranking }, read.Decision);
        Assert.Equal(audit.Decision.Context.ToJson(), read.Decision.Context.ToJson());
        Assert.Equal(audit.Decision.Actions.Select(a => (a.Id, a.Features.ToJson())), read.Decision.Actions.Select(a => (a.Id, a.Features.ToJson())));
        Assert.Equal(audit.Decision.Ranking, read.Decision.Ranking);
        Assert.Equal(audit.Signals, read.Signals);
        Assert.Equal(audit.Reward, read.Reward);
    }

    [Fact]
    public async Task GetDecisionAsync_NotFound_ReturnsNull()
    {
        var (client, _, _) = NewClient((_, _) => Task.FromResult(Answers.Problem(404, "Not found", "decisionId: no such decision", "decisionId")));

        Assert.Null(await client.GetDecisionAsync("home-feed", "nope"));
    }

    [Fact]
    public async Task BaseAddressWithPath_KeepsThePrefix()
    {
        var (client, handler, _) = NewClient(Answers.Ok, o => o.BaseAddress = new Uri("http://flywheel.test/prefix"));

        await client.DecideAsync("home-feed", Request());

        Assert.Equal("http://flywheel.test/prefix/v1/loops/home-feed/decide", handler.Requests[0].Uri.ToString());
    }

    [Fact]
    public void Constructor_NoBaseAddress_Throws()
    {
        var handler = new FakeHandler(Answers.Ok, TimeProvider.System);

        Assert.Throws<InvalidOperationException>(() => new FlywheelClient(new HttpClient(handler)));
        Assert.Equal(new Uri("http://h/"), new FlywheelClient(new HttpClient(handler) { BaseAddress = new Uri("http://h") }).BaseAddress);
    }

    [Theory]
    [InlineData(nameof(FlywheelClientOptions.MaxRetries))]
    [InlineData(nameof(FlywheelClientOptions.BatchSize))]
    [InlineData(nameof(FlywheelClientOptions.FlushInterval))]
    [InlineData(nameof(FlywheelClientOptions.MaxQueuedSignals))]
    [InlineData(nameof(FlywheelClientOptions.Timeout))]
    public void Options_OutOfRange_ThrowNamingTheSetting(string setting)
    {
        var options = new FlywheelClientOptions();
        switch (setting)
        {
            case nameof(FlywheelClientOptions.MaxRetries): options.MaxRetries = -1; break;
            case nameof(FlywheelClientOptions.BatchSize): options.BatchSize = 10_001; break;
            case nameof(FlywheelClientOptions.FlushInterval): options.FlushInterval = TimeSpan.Zero; break;
            case nameof(FlywheelClientOptions.MaxQueuedSignals): options.MaxQueuedSignals = 0; break;
            default: options.Timeout = TimeSpan.Zero; break;
        }

        var ex = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);
        Assert.Equal(setting, ex.ParamName);
    }

    [Fact]
    public async Task Requests_AcceptJsonAndProblemJson()
    {
        HttpRequestHeaders? headers = null;
        var handler = new CapturingHandler(h => headers = h);
        var client = new FlywheelClient(new HttpClient(handler), new FlywheelClientOptions { BaseAddress = new Uri("http://flywheel.test") });

        await client.GetLoopAsync("home-feed");

        Assert.Contains(headers!.Accept, a => a.MediaType == "application/json");
        Assert.Contains(headers!.Accept, a => a.MediaType == "application/problem+json");
        Assert.Contains(headers!.UserAgent, u => u.Product?.Name == "Flywheel.Client");
    }

    private sealed class CapturingHandler(Action<HttpRequestHeaders> capture) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            capture(request.Headers);
            return Task.FromResult(new HttpResponseMessage(System.Net.HttpStatusCode.NotFound));
        }
    }
}

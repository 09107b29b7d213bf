using System.IO.Pipelines;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Flywheel.Core;
using Microsoft.Extensions.DependencyInjection;
using Polly;
using Polly.Timeout;
using static Flywheel.Client.Tests.Setup;

namespace Flywheel.Client.Tests;

/// <summary>The client's resilience pipeline: which failures it retries, how long it waits, on which clock.</summary>
public class FlywheelResilienceTests
{
    private const FlywheelClient.Retry Transient = FlywheelClient.Retry.Transient;
    private const FlywheelClient.Retry NotDelivered = FlywheelClient.Retry.NotDelivered;

    private static HttpResponseMessage Overloaded(DateTimeOffset retryAt)
    {
        var response = Answers.Problem(503, "Overloaded", "busy");
        response.Headers.RetryAfter = new RetryConditionHeaderValue(retryAt);
        return response;
    }

    [Fact]
    public async Task RetryAfterAsHttpDate_IsReadOnTheOptionsClock()
    {
        var retried = new TaskCompletionSource<FlywheelRetryInfo>(TaskCreationOptions.RunContinuationsAsynchronously);
        var (client, handler, time) = NewClient(
            (r, ct) => r.Index == 0 ? Task.FromResult(Overloaded(Start.AddSeconds(7))) : Answers.Ok(r, ct),
            o => o.OnRetry = info => retried.TrySetResult(info));

        var call = client.DecideAsync("home-feed", Request());
        var retry = await retried.Task.WaitAsync(HangGuard.Limit);

        // Computed before the test moves the fake clock: the date is 7 s after its Start, whatever the machine's clock says.
        Assert.Equal(TimeSpan.FromSeconds(7), retry.Delay);
        Assert.Equal((1, 503), (retry.Attempt, retry.StatusCode));
        await DriveAsync(call, time, TimeSpan.FromMilliseconds(500));
        Assert.Equal(2, handler.Requests.Count);
        Assert.True(handler.Requests[1].Time - handler.Requests[0].Time >= TimeSpan.FromSeconds(7));
    }

    [Theory]
    [InlineData(3600, 30)] // capped by MaxBackoff
    [InlineData(-60, 0)] // a date already past: retry at once
    public async Task RetryAfterAsHttpDate_IsCappedAndNeverNegative(int secondsAhead, int expectedSeconds)
    {
        var retries = new List<FlywheelRetryInfo>();
        var (client, _, time) = NewClient(
            (r, ct) => r.Index == 0 ? Task.FromResult(Overloaded(Start.AddSeconds(secondsAhead))) : Answers.Ok(r, ct),
            o => o.OnRetry = retries.Add);

        await DriveAsync(client.DecideAsync("home-feed", Request()), time, TimeSpan.FromSeconds(1));

        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), Assert.Single(retries).Delay);
    }

    [Fact]
    public async Task OnRetry_NumbersTheFailedAttemptsFromOne_WithMethodUriStatusAndDelay()
    {
        var retries = new List<FlywheelRetryInfo>();
        var (client, handler, time) = NewClient((r, ct) => r.Index switch
        {
            0 => Task.FromResult(Answers.Problem(502, "Bad gateway", "proxy")),
            1 => throw new HttpRequestException(HttpRequestError.ConnectionError, "refused"),
            2 => Task.FromResult(Answers.Problem(429, "Too many requests", "slow down", retryAfterSeconds: 3)),
            _ => Answers.Ok(r, ct),
        }, o => o.OnRetry = retries.Add);

        await DriveAsync(client.DecideAsync("home-feed", Request()), time, TimeSpan.FromMilliseconds(100));

        Assert.Equal(4, handler.Requests.Count);
        Assert.Equal([1, 2, 3], retries.Select(r => r.Attempt));
        Assert.Equal([100, 200, 3000], retries.Select(r => r.Delay.TotalMilliseconds));
        Assert.Equal([502, null, 429], retries.Select(r => r.StatusCode));
        Assert.Equal([false, true, false], retries.Select(r => r.Exception is HttpRequestException));
        Assert.All(retries, r => Assert.Equal((HttpMethod.Post, "http://flywheel.test:5005/v1/loops/home-feed/decide"), (r.Method, r.RequestUri.ToString())));
    }

    [Fact]
    public async Task OnRetry_AttemptTimeout_IsReportedAsTimeoutException()
    {
        var retries = new List<FlywheelRetryInfo>();
        var (client, _, time) = NewClient(
            async (r, ct) =>
            {
                if (r.Index == 0)
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
                return await Answers.Ok(r, ct);
            },
            o => { o.Timeout = TimeSpan.FromSeconds(2); o.OnRetry = retries.Add; });

        await DriveAsync(client.DecideAsync("home-feed", Request()), time, TimeSpan.FromMilliseconds(250));

        var retry = Assert.Single(retries);
        Assert.IsType<TimeoutException>(retry.Exception);
        Assert.Null(retry.StatusCode);
    }

    [Fact]
    public async Task OnRetryThrows_AbortsTheCall_AndDisposesTheAnswer()
    {
        var contents = new List<TrackedContent>();
        var (client, handler, _) = NewClient(
            (_, _) =>
            {
                var content = new TrackedContent();
                contents.Add(content);
                return Task.FromResult(new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) { Content = content });
            },
            o => o.OnRetry = _ => throw new InvalidOperationException("metrics are down"));

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => client.DecideAsync("home-feed", Request()).WaitAsync(HangGuard.Limit));

        Assert.Equal("metrics are down", ex.Message);
        Assert.Single(handler.Requests);
        Assert.True(Assert.Single(contents).Disposed);
    }

    [Fact]
    public async Task AnswersOfFailedAttempts_AreDisposed_RetriedAndFinal()
    {
        var contents = new List<TrackedContent>();
        var (client, handler, time) = NewClient(
            (_, _) =>
            {
                var content = new TrackedContent();
                contents.Add(content);
                return Task.FromResult(new HttpResponseMessage(HttpStatusCode.BadGateway) { Content = content });
            },
            o => o.MaxRetries = 2);

        var ex = await Assert.ThrowsAsync<FlywheelApiException>(() => DriveAsync(client.DecideAsync("home-feed", Request()), time, TimeSpan.FromMilliseconds(50)));

        Assert.Equal(502, ex.StatusCode);
        Assert.Equal(3, handler.Requests.Count);
        Assert.All(contents, c => Assert.True(c.Disposed));
    }

    [Fact]
    public async Task MaxRetriesZero_OneAttempt_NoOnRetry_AttemptTimeoutStillApplies()
    {
        var retries = new List<FlywheelRetryInfo>();
        var (client, handler, time) = NewClient(
            async (_, ct) =>
            {
                await Task.Delay(Timeout.Infinite, ct);
                throw new InvalidOperationException("unreachable");
            },
            o => { o.MaxRetries = 0; o.Timeout = TimeSpan.FromSeconds(3); o.OnRetry = retries.Add; });

        await Assert.ThrowsAsync<TimeoutException>(() => DriveAsync(client.DecideAsync("home-feed", Request()), time, TimeSpan.FromMilliseconds(500)));

        Assert.Single(handler.Requests);
        Assert.Empty(retries);
    }

    [Fact]
    public async Task CallerCancelsWhileAFailureArrives_ThrowsOperationCanceled_WithoutRetry()
    {
        using var cts = new CancellationTokenSource();
        var (client, handler, _) = NewClient((_, _) =>
        {
            cts.Cancel();
            return Task.FromResult(Answers.Problem(503, "Overloaded", "busy", retryAfterSeconds: 1));
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.DecideAsync("home-feed", Request(), cts.Token).WaitAsync(HangGuard.Limit));

        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task StreamedExport_AttemptTimeoutCoversTheHeadersOnly()
    {
        var pipe = new Pipe();
        var (client, _, time) = NewClient(
            (_, _) => Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(pipe.Reader.AsStream()) }),
            o => o.LongOperationTimeout = TimeSpan.FromSeconds(20));
        const string Row = """{"decisionId":"d1","context":{},"actions":[{"id":"a","features":{}}],"chosenActionId":"a","probability":1,"reward":0}""";

        await using var rows = client.ExportAsync("home-feed", new ExportRequest()).GetAsyncEnumerator();
        await pipe.Writer.WriteAsync(Encoding.UTF8.GetBytes(Row + "\n"));
        Assert.True(await rows.MoveNextAsync().AsTask().WaitAsync(HangGuard.Limit));
        time.Advance(TimeSpan.FromMinutes(5)); // far past LongOperationTimeout, with the body still coming
        await pipe.Writer.WriteAsync(Encoding.UTF8.GetBytes(Row.Replace("d1", "d2", StringComparison.Ordinal) + "\n"));
        await pipe.Writer.CompleteAsync();

        Assert.True(await rows.MoveNextAsync().AsTask().WaitAsync(HangGuard.Limit));
        Assert.Equal("d2", rows.Current.DecisionId);
        Assert.False(await rows.MoveNextAsync());
    }

    [Fact]
    public async Task StreamedExport_HeadersLaterThanLongOperationTimeout_IsRetried()
    {
        var (client, handler, time) = NewClient(
            async (r, ct) =>
            {
                if (r.Index == 0)
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
                return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("") };
            },
            o => { o.Timeout = TimeSpan.FromSeconds(1); o.LongOperationTimeout = TimeSpan.FromSeconds(20); });

        using var destination = new MemoryStream();
        var copied = await DriveAsync(client.ExportToAsync("home-feed", FlywheelExportFormat.Vw, new ExportRequest(), destination), time, TimeSpan.FromSeconds(1));

        Assert.Equal(0, copied);
        Assert.Equal(2, handler.Requests.Count);
        Assert.True(handler.Requests[1].Time - handler.Requests[0].Time >= TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task ClientRegisteredWithAddFlywheelClient_RetriesThroughItsPipeline()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(Start);
        var handler = new FakeHandler((r, ct) => r.Index == 0 ? Task.FromResult(Answers.Problem(503, "Overloaded", "busy", retryAfterSeconds: 1)) : Answers.Ok(r, ct), time);
        var services = new ServiceCollection();
        services.AddFlywheelClient(o =>
            {
                o.BaseAddress = new Uri("http://flywheel.test:5005");
                o.TimeProvider = time;
            })
            .HttpClientBuilder.ConfigurePrimaryHttpMessageHandler(() => handler);
        await using var provider = services.BuildServiceProvider();

        var client = provider.GetRequiredService<FlywheelClient>();
        await DriveAsync(client.DecideAsync("home-feed", Request()), time, TimeSpan.FromMilliseconds(250));

        Assert.Equal(2, handler.Requests.Count);
        Assert.Equal(handler.Requests[0].Body, handler.Requests[1].Body);
    }

    public static TheoryData<string, bool, bool> Outcomes => new()
    {
        // outcome, retried by a Transient call, retried by a NotDelivered call
        { "connection", true, true },
        { "name", true, true },
        { "tls", true, true },
        { "ended", true, false },
        { "unknown-network", true, false },
        { "timeout", true, false },
        { "httpclient-timeout", true, false },
        { "caller-canceled", false, false },
        { "other-exception", false, false },
        { "408", true, false },
        { "429", true, true },
        { "500", true, false },
        { "501", false, false },
        { "502", true, false },
        { "503", true, true },
        { "504", true, false },
        { "400", false, false },
        { "404", false, false },
        { "409", false, false },
        { "200", false, false },
    };

    [Theory]
    [MemberData(nameof(Outcomes))]
    public void ShouldRetry_TransientAndNotDeliveredRules(string outcome, bool transient, bool notDelivered)
    {
        using var canceled = new CancellationTokenSource();
        canceled.Cancel();
        var token = outcome == "caller-canceled" ? canceled.Token : CancellationToken.None;
        var result = outcome switch
        {
            "connection" => Failure(new HttpRequestException(HttpRequestError.ConnectionError, "refused")),
            "name" => Failure(new HttpRequestException(HttpRequestError.NameResolutionError, "no such host")),
            "tls" => Failure(new HttpRequestException(HttpRequestError.SecureConnectionError, "handshake")),
            "ended" => Failure(new HttpRequestException(HttpRequestError.ResponseEnded, "ended")),
            "unknown-network" => Failure(new HttpRequestException("reset")),
            "timeout" => Failure(new TimeoutRejectedException("attempt timed out")),
            "httpclient-timeout" => Failure(new TaskCanceledException("HttpClient.Timeout", new TimeoutException())),
            "caller-canceled" => Failure(new OperationCanceledException(token)),
            "other-exception" => Failure(new InvalidOperationException("bug")),
            _ => Outcome.FromResult(new HttpResponseMessage((HttpStatusCode)int.Parse(outcome, System.Globalization.CultureInfo.InvariantCulture))),
        };

        Assert.Equal(transient, FlywheelResilience.ShouldRetry(result, Transient, token));
        Assert.Equal(notDelivered, FlywheelResilience.ShouldRetry(result, NotDelivered, token));
        result.Result?.Dispose();

        static Outcome<HttpResponseMessage> Failure(Exception e) => Outcome.FromException<HttpResponseMessage>(e);
    }

    [Theory]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(504)]
    [InlineData(408)]
    public async Task PromoteAsync_AmbiguousFailure_IsNotRetried_But429Is(int status)
    {
        var (client, handler, time) = NewClient((r, _) => Task.FromResult(r.Index == 0
            ? Answers.Problem(429, "Too many requests", "slow down", retryAfterSeconds: 1)
            : Answers.Problem(status, "Failed", "promotion failed")));

        var ex = await Assert.ThrowsAsync<FlywheelApiException>(() => DriveAsync(client.PromoteAsync("home-feed", 5), time, TimeSpan.FromMilliseconds(250)));

        Assert.Equal(status, ex.StatusCode);
        Assert.Equal(2, handler.Requests.Count);
    }

    /// <summary>Content that remembers being disposed.</summary>
    private sealed class TrackedContent() : StringContent("""{"title":"busy"}""", Encoding.UTF8, "application/problem+json")
    {
        public bool Disposed { get; private set; }

        protected override void Dispose(bool disposing)
        {
            Disposed = true;
            base.Dispose(disposing);
        }
    }
}

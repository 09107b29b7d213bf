using System.Net;
using System.Net.Http.Headers;
using Flywheel.Core;
using static Flywheel.Client.Tests.Setup;

namespace Flywheel.Client.Tests;

/// <summary>The client's Polly pipeline: what it waits for, what it gives up on, and what it cleans up.</summary>
public sealed class FlywheelResilienceTests
{
    [Fact]
    public async Task RetryAfterAsADate_WaitsUntilThatMomentOnTheClientsClock()
    {
        var retries = new List<FlywheelRetryInfo>();
        var (client, handler, time) = NewClient((r, ct) =>
        {
            if (r.Index > 0)
            {
                return Answers.Ok(r, ct);
            }
            var busy = Answers.Problem(503, "Overloaded", "retry later");
            busy.Headers.RetryAfter = new RetryConditionHeaderValue(Start.AddSeconds(3));
            return Task.FromResult(busy);
        }, o => o.OnRetry = retries.Add);

        await DriveAsync(client.DecideAsync("home-feed", Request()), time, TimeSpan.FromMilliseconds(100));

        Assert.Equal(TimeSpan.FromSeconds(3), Assert.Single(retries).Delay);
        Assert.True(handler.Requests[1].Time >= Start.AddSeconds(3));
    }

    [Fact]
    public async Task RetryAfterLongerThanMaxBackoff_WaitsMaxBackoff()
    {
        var retries = new List<FlywheelRetryInfo>();
        var (client, _, time) = NewClient(
            (r, ct) => r.Index == 0 ? Task.FromResult(Answers.Problem(429, "Too many requests", "later", retryAfterSeconds: 3600)) : Answers.Ok(r, ct),
            o => { o.OnRetry = retries.Add; o.MaxBackoff = TimeSpan.FromSeconds(5); });

        await DriveAsync(client.DecideAsync("home-feed", Request()), time, TimeSpan.FromMilliseconds(500));

        Assert.Equal(TimeSpan.FromSeconds(5), Assert.Single(retries).Delay);
    }

    [Fact]
    public async Task MaxRetriesZero_MakesOneAttempt()
    {
        var (client, handler, _) = NewClient((_, _) => Task.FromResult(Answers.Problem(503, "Overloaded", "busy", retryAfterSeconds: 1)), o => o.MaxRetries = 0);

        var ex = await Assert.ThrowsAsync<FlywheelOverloadedException>(() => client.DecideAsync("home-feed", Request()));

        Assert.Single(handler.Requests);
        Assert.Equal(TimeSpan.FromSeconds(1), ex.RetryAfter);
    }

    [Fact]
    public async Task OnRetry_NumbersTheFailedAttempts_AndNamesWhatFailed()
    {
        var retries = new List<FlywheelRetryInfo>();
        var (client, _, time) = NewClient((r, ct) => r.Index switch
        {
            0 => Task.FromResult(Answers.Problem(502, "Bad gateway", "proxy")),
            1 => throw new HttpRequestException("reset"),
            _ => Answers.Ok(r, ct),
        }, o => o.OnRetry = retries.Add);

        await DriveAsync(client.DecideAsync("home-feed", Request()), time, TimeSpan.FromMilliseconds(50));

        Assert.Equal([1, 2], retries.Select(r => r.Attempt));
        Assert.Equal(502, retries[0].StatusCode);
        Assert.Null(retries[0].Exception);
        Assert.Null(retries[1].StatusCode);
        Assert.IsType<HttpRequestException>(retries[1].Exception);
        Assert.All(retries, r => Assert.Equal(HttpMethod.Post, r.Method));
        Assert.All(retries, r => Assert.EndsWith("/v1/loops/home-feed/decide", r.RequestUri.AbsoluteUri, StringComparison.Ordinal));
    }

    [Fact]
    public async Task FailedAttempts_AreDisposed()
    {
        var failed = new List<TrackedContent>();
        var (client, _, time) = NewClient((r, ct) =>
        {
            if (r.Index >= 2)
            {
                return Answers.Ok(r, ct);
            }
            var content = new TrackedContent();
            failed.Add(content);
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) { Content = content });
        });

        await DriveAsync(client.DecideAsync("home-feed", Request()), time, TimeSpan.FromMilliseconds(50));

        Assert.Equal(2, failed.Count);
        Assert.All(failed, c => Assert.True(c.Disposed));
    }

    /// <summary>A response body that says whether it was disposed.</summary>
    private sealed class TrackedContent : ByteArrayContent
    {
        public TrackedContent()
            : base([])
        {
        }

        public bool Disposed { get; private set; }

        protected override void Dispose(bool disposing)
        {
            Disposed = true;
            base.Dispose(disposing);
        }
    }
}

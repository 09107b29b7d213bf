using Flywheel.Core;
using Microsoft.Extensions.DependencyInjection;
using static Flywheel.Client.Tests.Setup;

namespace Flywheel.Client.Tests;

public class FlywheelSignalBatcherTests
{
    private static (FlywheelClient Client, FakeHandler Handler, Microsoft.Extensions.Time.Testing.FakeTimeProvider Time) Batching(
        Func<RecordedRequest, CancellationToken, Task<HttpResponseMessage>> respond, int batchSize = 100, int maxQueued = 100_000)
        => NewClient(respond, o =>
        {
            o.BatchSize = batchSize;
            o.MaxQueuedSignals = maxQueued;
            o.FlushInterval = TimeSpan.FromMilliseconds(200);
            o.MaxRetries = 0;
        });

    [Fact]
    public async Task TryEnqueue_BatchSizeReached_SendsWithoutWaitingForTheInterval()
    {
        var (client, handler, _) = Batching(Answers.Ok, batchSize: 3);
        await using var batcher = client.CreateBatcher("home-feed");

        Assert.True(batcher.TryEnqueue(Signal()));
        Assert.True(batcher.TryEnqueue(Signal()));
        Assert.True(batcher.TryEnqueue(Signal()));
        await handler.WaitForRequestsAsync(1); // fake time never moves: only the size can have triggered it

        var request = Assert.Single(handler.Requests);
        Assert.Equal("/v1/loops/home-feed/signals", request.Uri.AbsolutePath);
        Assert.Equal(3, request.SignalIds.Distinct().Count());
        Assert.Equal(Start, request.Time);
    }

    [Fact]
    public async Task TryEnqueue_FewerThanBatchSize_SendsOnceTheIntervalHasElapsed()
    {
        var (client, handler, time) = Batching(Answers.Ok);
        await using var batcher = client.CreateBatcher("home-feed");

        batcher.TryEnqueue(Signal());
        batcher.TryEnqueue(Signal());
        await DriveAsync(handler.WaitForRequestsAsync(1), time, TimeSpan.FromMilliseconds(20));

        var request = Assert.Single(handler.Requests);
        Assert.Equal(2, request.SignalIds.Length);
        Assert.True(request.Time - Start >= TimeSpan.FromMilliseconds(200), $"sent after {request.Time - Start}");
        await batcher.FlushAsync();
        Assert.Equal(2, batcher.Sent);
        Assert.Equal(0, batcher.Pending);
    }

    [Fact]
    public async Task DisposeAsync_SendsWhatIsQueued()
    {
        var (client, handler, _) = Batching(Answers.Ok);
        var batcher = client.CreateBatcher("home-feed");
        batcher.TryEnqueue(Signal());
        batcher.TryEnqueue(Signal("thumbs_up"));

        await batcher.DisposeAsync();

        var request = Assert.Single(handler.Requests);
        Assert.Equal(2, request.SignalIds.Length);
        Assert.Equal(2, batcher.Sent);
        Assert.Equal(0, batcher.Pending);
        Assert.Throws<ObjectDisposedException>(() => batcher.TryEnqueue(Signal()));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => batcher.FlushAsync());
    }

    [Fact]
    public async Task FlushAsync_SendsEverythingInBatchesOfBatchSize_AndWaitsForAcknowledgement()
    {
        var (client, handler, _) = Batching(Answers.Ok, batchSize: 2);
        await using var batcher = client.CreateBatcher("home-feed");
        for (var i = 0; i < 5; i++)
        {
            await batcher.EnqueueAsync(Signal());
        }

        await batcher.FlushAsync();

        Assert.Equal(5, batcher.Sent);
        Assert.Equal(0, batcher.Pending);
        Assert.Equal([2, 2, 1], handler.Requests.Select(r => r.SignalIds.Length));
        Assert.Equal(5, handler.Requests.SelectMany(r => r.SignalIds).Distinct().Count());
    }

    [Fact]
    public async Task FlushAsync_NothingQueued_CompletesWithoutRequest()
    {
        var (client, handler, _) = Batching(Answers.Ok);
        await using var batcher = client.CreateBatcher("home-feed");

        await batcher.FlushAsync();

        Assert.Empty(handler.Requests);
    }

    [Fact]
    public async Task TryEnqueue_QueueFull_ReturnsFalse_EnqueueAsyncWaitsAndCancels()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var (client, handler, _) = Batching(async (r, ct) =>
        {
            if (r.Index == 0)
            {
                await release.Task;
            }
            return await Answers.Ok(r, ct);
        }, batchSize: 1, maxQueued: 2);
        await using var batcher = client.CreateBatcher("home-feed");

        Assert.True(batcher.TryEnqueue(Signal()));
        await handler.WaitForRequestsAsync(1); // the first signal is in flight; the queue is empty
        Assert.True(batcher.TryEnqueue(Signal()));
        Assert.True(batcher.TryEnqueue(Signal()));
        Assert.False(batcher.TryEnqueue(Signal()));
        using var cts = new CancellationTokenSource();
        var waiting = batcher.EnqueueAsync(Signal(), cts.Token).AsTask();
        Assert.False(waiting.IsCompleted);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.Equal(3, batcher.Pending);

        release.SetResult();
        await batcher.FlushAsync();

        Assert.Equal(3, batcher.Sent);
        Assert.Equal(0, batcher.Pending);
    }

    [Fact]
    public async Task FlushAsync_SendFails_ThrowsReportsAndKeepsSignalsWithTheirIds()
    {
        var failures = new List<SignalSendFailedEventArgs>();
        var (client, handler, _) = Batching((r, ct) => r.Index == 0
            ? Task.FromResult(Answers.Problem(500, "Internal error", "boom"))
            : Answers.Ok(r, ct));
        await using var batcher = client.CreateBatcher("home-feed");
        batcher.SendFailed += (_, e) => failures.Add(e);
        batcher.TryEnqueue(Signal());
        batcher.TryEnqueue(Signal());

        var ex = await Assert.ThrowsAsync<FlywheelApiException>(() => batcher.FlushAsync());

        Assert.Equal(500, ex.StatusCode);
        var failure = Assert.Single(failures);
        Assert.False(failure.Dropped);
        Assert.Equal(2, failure.Signals.Count);
        Assert.Same(ex, failure.Exception);
        Assert.Equal(2, batcher.Pending);
        Assert.Equal(0, batcher.Failed);
        Assert.Equal(1, batcher.FailedSends);

        await batcher.FlushAsync();

        Assert.Equal(2, handler.Requests.Count);
        Assert.Equal(handler.Requests[0].SignalIds, handler.Requests[1].SignalIds);
        Assert.Equal(2, batcher.Sent);
        Assert.Equal(0, batcher.Pending);
    }

    [Fact]
    public async Task SendFails_RetriedInTheBackgroundAfterAPause()
    {
        var (client, handler, time) = Batching((r, ct) => r.Index == 0
            ? throw new HttpRequestException("refused")
            : Answers.Ok(r, ct), batchSize: 2);
        await using var batcher = client.CreateBatcher("home-feed");
        batcher.TryEnqueue(Signal());
        batcher.TryEnqueue(Signal());
        await handler.WaitForRequestsAsync(1);

        await DriveAsync(handler.WaitForRequestsAsync(2), time, TimeSpan.FromMilliseconds(50));

        Assert.Equal(handler.Requests[0].SignalIds, handler.Requests[1].SignalIds);
        Assert.True(handler.Requests[1].Time - handler.Requests[0].Time >= TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task Send_ServerRefusesOneSignal_DropsOnlyThatOneAndSendsTheRest()
    {
        var failures = new List<SignalSendFailedEventArgs>();
        var (client, handler, _) = Batching((r, ct) => r.Index == 0
            ? Task.FromResult(Answers.Problem(422, "Invalid request", "signals[1].type: 'nope' is not a signal type", "signals[1].type"))
            : Answers.Ok(r, ct), batchSize: 3);
        await using var batcher = client.CreateBatcher("home-feed");
        batcher.SendFailed += (_, e) => failures.Add(e);
        SignalInput[] signals = [Signal(signalId: "a"), Signal("nope", signalId: "b"), Signal(signalId: "c")];
        foreach (var s in signals)
        {
            batcher.TryEnqueue(s);
        }

        await handler.WaitForRequestsAsync(2);
        await batcher.FlushAsync();

        Assert.Equal(["a", "b", "c"], handler.Requests[0].SignalIds);
        Assert.Equal(["a", "c"], handler.Requests[1].SignalIds);
        var failure = Assert.Single(failures);
        Assert.True(failure.Dropped);
        Assert.Equal("b", Assert.Single(failure.Signals).SignalId);
        Assert.Equal("signals[1].type", Assert.IsAssignableFrom<FlywheelValidationException>(failure.Exception).Field);
        Assert.Equal(1, batcher.Failed);
        Assert.Equal(2, batcher.Sent);
        Assert.Equal(0, batcher.Pending);
    }

    [Fact]
    public async Task Send_TooLarge_SendsHalves()
    {
        var (client, handler, _) = Batching((r, ct) => r.SignalIds.Length > 2
            ? Task.FromResult(Answers.Problem(413, "Too large", "the body exceeds the limit of 100 bytes"))
            : Answers.Ok(r, ct), batchSize: 4);
        await using var batcher = client.CreateBatcher("home-feed");
        for (var i = 0; i < 4; i++)
        {
            batcher.TryEnqueue(Signal());
        }

        await handler.WaitForRequestsAsync(3);
        await batcher.FlushAsync();

        Assert.Equal([4, 2, 2], handler.Requests.Select(r => r.SignalIds.Length));
        Assert.Equal(4, batcher.Sent);
        Assert.Equal(0, batcher.Failed);
    }

    [Fact]
    public async Task Send_OneSignalTooLarge_DropsItAndKeepsTheBatchSize()
    {
        // An edit whose text is over the loop's limit is that signal's fault, not the batch's: it is dropped, and the
        // batches after it stay whole.
        var failures = new List<SignalSendFailedEventArgs>();
        var (client, handler, _) = Batching((r, ct) => r.SignalIds.Contains("big")
            ? Task.FromResult(Answers.Problem(413, "Too large", "holds 70000 characters", $"signals[{Array.IndexOf(r.SignalIds, "big")}].text"))
            : Answers.Ok(r, ct), batchSize: 4);
        await using var batcher = client.CreateBatcher("home-feed");
        batcher.SendFailed += (_, e) => failures.Add(e);
        batcher.TryEnqueue(Signal(signalId: "a"));
        batcher.TryEnqueue(Signal(signalId: "big"));
        batcher.TryEnqueue(Signal(signalId: "c"));
        batcher.TryEnqueue(Signal(signalId: "d"));
        await batcher.FlushAsync();
        for (var i = 0; i < 4; i++)
        {
            batcher.TryEnqueue(Signal(signalId: $"e{i}"));
        }
        await batcher.FlushAsync();

        Assert.Equal([4, 3, 4], handler.Requests.Select(r => r.SignalIds.Length));
        Assert.Equal("big", Assert.Single(Assert.Single(failures).Signals).SignalId);
        Assert.Equal(7, batcher.Sent);
    }

    [Fact]
    public async Task DisposeAsync_ServerDown_ReportsTheRestAsDropped()
    {
        var failures = new List<SignalSendFailedEventArgs>();
        var (client, _, _) = Batching((_, _) => throw new HttpRequestException("refused"));
        var batcher = client.CreateBatcher("home-feed");
        batcher.SendFailed += (_, e) => failures.Add(e);
        batcher.TryEnqueue(Signal());
        batcher.TryEnqueue(Signal());

        await batcher.DisposeAsync();

        Assert.Equal(2, batcher.Failed);
        Assert.Equal(0, batcher.Pending);
        Assert.True(failures[^1].Dropped);
        Assert.Equal(2, failures.Where(f => f.Dropped).Sum(f => f.Signals.Count));
    }

    [Fact]
    public async Task TryEnqueue_KeepsCallerSignalIds_AndAssignsMissingOnes()
    {
        var (client, handler, _) = Batching(Answers.Ok);
        var batcher = client.CreateBatcher("home-feed");
        batcher.TryEnqueue(Signal(signalId: "mine"));
        batcher.TryEnqueue(Signal());

        await batcher.DisposeAsync();

        var ids = handler.Requests[0].SignalIds;
        Assert.Equal("mine", ids[0]);
        Assert.Matches("^[0-9a-f]{32}$", ids[1]);
    }

    [Theory]
    [InlineData("signals[12].type", 12)]
    [InlineData("signals[0]", 0)]
    [InlineData("signals", null)]
    [InlineData("signals[x].type", null)]
    [InlineData("loop", null)]
    [InlineData("", null)]
    public void SignalIndex_ReadsTheIndexOfTheNamedSignal(string field, int? expected)
        => Assert.Equal(expected, FlywheelSignalBatcher.SignalIndex(field));

    [Fact]
    public async Task AddFlywheelClient_RegistersTypedClientAndKeyedBatcher()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(Start);
        var handler = new FakeHandler(Answers.Ok, time);
        var services = new ServiceCollection();
        services.AddFlywheelClient(o =>
            {
                o.BaseAddress = new Uri("http://flywheel.test:5005");
                o.TimeProvider = time;
            })
            .AddSignalBatcher("home-feed")
            .HttpClientBuilder.ConfigurePrimaryHttpMessageHandler(() => handler);
        var provider = services.BuildServiceProvider();

        var client = provider.GetRequiredService<FlywheelClient>();
        var decision = await client.DecideAsync("home-feed", Request());
        var batcher = provider.GetRequiredKeyedService<FlywheelSignalBatcher>("home-feed");
        Assert.Same(batcher, provider.GetRequiredKeyedService<FlywheelSignalBatcher>("home-feed"));
        batcher.TryEnqueue(new SignalInput { DecisionId = decision.DecisionId, Type = "watch_complete" });
        await provider.DisposeAsync(); // disposing the container flushes the batcher

        Assert.Equal("http://flywheel.test:5005/v1/loops/home-feed/decide", handler.Requests[0].Uri.ToString());
        Assert.Equal("http://flywheel.test:5005/v1/loops/home-feed/signals", handler.Requests[1].Uri.ToString());
        Assert.Equal(1, batcher.Sent);
    }
}

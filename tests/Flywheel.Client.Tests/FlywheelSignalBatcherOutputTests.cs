using Flywheel.Core;
using static Flywheel.Client.Tests.Setup;

namespace Flywheel.Client.Tests;

public class FlywheelSignalBatcherOutputTests
{
    private static OutputInput Output(string text = "a summary") => new() { Text = text, Messages = [new PromptMessage("user", "long text")] };

    private static Task<HttpResponseMessage> OkWithOutputs(RecordedRequest request, CancellationToken cancellationToken)
        => request.Uri.AbsolutePath.EndsWith("/output", StringComparison.Ordinal)
            ? Task.FromResult(Answers.Json(200, """{"decisionId":"d-1","duplicate":false}"""))
            : Answers.Ok(request, cancellationToken);

    private static (FlywheelClient Client, FakeHandler Handler, Microsoft.Extensions.Time.Testing.FakeTimeProvider Time) Batching(
        Func<RecordedRequest, CancellationToken, Task<HttpResponseMessage>> respond)
        => NewClient(respond, o =>
        {
            o.BatchSize = 100;
            o.FlushInterval = TimeSpan.FromMilliseconds(200);
            o.MaxRetries = 0;
        });

    [Fact]
    public async Task FlushAsync_OutputBetweenSignals_SendsInQueueOrder()
    {
        var (client, handler, _) = Batching(OkWithOutputs);
        await using var batcher = client.CreateBatcher("summarize");

        batcher.TryEnqueue(Signal("thumbs_up", "s-1"));
        Assert.True(batcher.TryEnqueueOutput("d-1", Output()));
        batcher.TryEnqueue(Signal("edited", "s-2"));
        batcher.TryEnqueue(Signal("kept", "s-3"));
        await batcher.FlushAsync();

        var requests = handler.Requests;
        Assert.Equal(3, requests.Count);
        Assert.Equal(["s-1"], requests[0].SignalIds);
        Assert.Equal(HttpMethod.Put, requests[1].Method);
        Assert.Equal("/v1/loops/summarize/decisions/d-1/output", requests[1].Uri.AbsolutePath);
        Assert.Equal("a summary", requests[1].Json.GetProperty("text").GetString());
        Assert.Equal(["s-2", "s-3"], requests[2].SignalIds);
        Assert.Equal(3, batcher.Sent);
        Assert.Equal(1, batcher.OutputsSent);
        Assert.Equal(0, batcher.Pending);
    }

    [Fact]
    public async Task FlushAsync_OutputSendFailsTransiently_KeepsItAndWhatFollowsUntilTheRetrySucceeds()
    {
        var down = true;
        var (client, handler, time) = Batching((r, ct) => down
            ? Task.FromResult(Answers.Problem(503, "Unavailable", "store down"))
            : OkWithOutputs(r, ct));
        await using var batcher = client.CreateBatcher("summarize");
        var failures = new List<SignalSendFailedEventArgs>();
        batcher.SendFailed += (_, e) => failures.Add(e);

        batcher.TryEnqueueOutput("d-1", Output());
        batcher.TryEnqueue(Signal("edited", "s-1"));
        await Assert.ThrowsAnyAsync<Exception>(() => batcher.FlushAsync());
        Assert.Equal(2, batcher.Pending);
        var failed = Assert.Single(failures);
        Assert.False(failed.Dropped);
        Assert.Equal("d-1", Assert.Single(failed.Outputs).DecisionId);
        Assert.Empty(failed.Signals);

        down = false;
        await DriveAsync(batcher.FlushAsync(), time, TimeSpan.FromMilliseconds(50));

        var afterRecovery = handler.Requests.Skip(1).ToList();
        Assert.Equal(2, afterRecovery.Count);
        Assert.EndsWith("/output", afterRecovery[0].Uri.AbsolutePath, StringComparison.Ordinal);
        Assert.Equal(["s-1"], afterRecovery[1].SignalIds);
        Assert.Equal(1, batcher.OutputsSent);
        Assert.Equal(1, batcher.Sent);
        Assert.Equal(0, batcher.Pending);
        Assert.Equal(0, batcher.Failed);
    }

    [Theory]
    [InlineData(409, "decisionId")]
    [InlineData(404, "decisionId")]
    [InlineData(413, "text")]
    [InlineData(422, "text")]
    public async Task FlushAsync_OutputRefused_DropsItAndSendsTheRest(int status, string field)
    {
        var (client, handler, _) = Batching((r, ct) => r.Uri.AbsolutePath.EndsWith("/output", StringComparison.Ordinal)
            ? Task.FromResult(Answers.Problem(status, "Refused", "no", field))
            : OkWithOutputs(r, ct));
        await using var batcher = client.CreateBatcher("summarize");
        var failures = new List<SignalSendFailedEventArgs>();
        batcher.SendFailed += (_, e) => failures.Add(e);

        batcher.TryEnqueueOutput("d-1", Output());
        batcher.TryEnqueue(Signal("kept", "s-1"));
        await batcher.FlushAsync();

        Assert.Equal(2, handler.Requests.Count);
        Assert.Equal(["s-1"], handler.Requests[1].SignalIds);
        var dropped = Assert.Single(failures);
        Assert.True(dropped.Dropped);
        Assert.Single(dropped.Outputs);
        Assert.Equal(1, batcher.Failed);
        Assert.Equal(0, batcher.OutputsSent);
        Assert.Equal(1, batcher.Sent);
        Assert.Equal(0, batcher.Pending);
    }

    [Fact]
    public async Task DisposeAsync_SendsQueuedOutputs()
    {
        var (client, handler, _) = Batching(OkWithOutputs);
        var batcher = client.CreateBatcher("summarize");
        await batcher.EnqueueOutputAsync("d-1", Output());
        await batcher.EnqueueOutputAsync("d-2", Output("another") with { Replaces = "d-1" });

        await batcher.DisposeAsync();

        Assert.Equal(2, handler.Requests.Count);
        Assert.Equal("d-1", handler.Requests[1].Json.GetProperty("replaces").GetString());
        Assert.Equal(2, batcher.OutputsSent);
        Assert.Throws<ObjectDisposedException>(() => batcher.TryEnqueueOutput("d-3", Output()));
    }
}

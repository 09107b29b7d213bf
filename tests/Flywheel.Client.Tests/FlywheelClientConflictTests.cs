using Flywheel.Core;
using static Flywheel.Client.Tests.Setup;

namespace Flywheel.Client.Tests;

/// <summary>A 409 for a reused decision or signal id surfaces as the engine's conflict, with the field, and is never retried.</summary>
public class FlywheelClientConflictTests
{
    [Fact]
    public async Task DecideAsync_409_ThrowsConflictNamingDecisionIdWithoutRetrying()
    {
        var (client, handler, _) = NewClient((_, _) => Task.FromResult(Answers.Problem(409, "Conflict",
            "decisionId: 'd-1' was already used for a different decision (its userId differs); send a new decisionId, or repeat the first request exactly to get its answer",
            "decisionId")));

        var ex = await Assert.ThrowsAsync<FlywheelApiValidationException>(() => client.DecideAsync("home-feed", Request("d-1")));

        Assert.Single(handler.Requests);
        Assert.Equal(ValidationKind.Conflict, ex.Kind);
        Assert.Equal(409, ex.StatusCode);
        Assert.Equal("decisionId", ex.Field);
        Assert.StartsWith("'d-1' was already used", ex.Problem, StringComparison.Ordinal);
        Assert.Equal("Conflict", ex.ProblemDetails!.Title);
    }

    [Fact]
    public async Task SignalAsync_409_ThrowsConflictNamingTheItemWithoutRetrying()
    {
        var (client, handler, _) = NewClient((_, _) => Task.FromResult(Answers.Problem(409, "Conflict",
            "signals[1].signalId: 's-2' was already used for a different signal (its type differs); nothing of this batch was stored", "signals[1].signalId")));

        var ex = await Assert.ThrowsAsync<FlywheelApiValidationException>(() => client.SignalAsync("home-feed", [Signal(signalId: "s-1"), Signal(signalId: "s-2")]));

        Assert.Single(handler.Requests);
        Assert.Equal(ValidationKind.Conflict, ex.Kind);
        Assert.Equal("signals[1].signalId", ex.Field);
        Assert.IsAssignableFrom<FlywheelValidationException>(ex);
    }

    [Fact]
    public async Task Batcher_409OnOneSignal_DropsThatOneReportsTheConflictAndSendsTheRest()
    {
        var failures = new List<SignalSendFailedEventArgs>();
        var (client, handler, _) = NewClient((r, ct) => r.Index == 0
            ? Task.FromResult(Answers.Problem(409, "Conflict", "signals[2].signalId: 'c' was already used for a different signal (its value differs)", "signals[2].signalId"))
            : Answers.Ok(r, ct), o =>
            {
                o.BatchSize = 3;
                o.FlushInterval = TimeSpan.FromMilliseconds(200);
                o.MaxRetries = 0;
            });
        await using var batcher = client.CreateBatcher("home-feed");
        batcher.SendFailed += (_, e) => failures.Add(e);
        foreach (var s in new[] { Signal(signalId: "a"), Signal(signalId: "b"), Signal(signalId: "c") })
        {
            batcher.TryEnqueue(s);
        }

        await handler.WaitForRequestsAsync(2);
        await batcher.FlushAsync();

        Assert.Equal(["a", "b", "c"], handler.Requests[0].SignalIds);
        Assert.Equal(["a", "b"], handler.Requests[1].SignalIds);
        var failure = Assert.Single(failures);
        Assert.True(failure.Dropped);
        Assert.Equal("c", Assert.Single(failure.Signals).SignalId);
        Assert.Equal(ValidationKind.Conflict, Assert.IsAssignableFrom<FlywheelValidationException>(failure.Exception).Kind);
        Assert.Equal(2, batcher.Sent);
    }
}

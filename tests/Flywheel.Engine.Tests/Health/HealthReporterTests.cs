using Flywheel.Core;
using Microsoft.Extensions.Time.Testing;

namespace Flywheel.Engine.Tests.Health;

/// <summary>
/// The health report through the engine: real decisions and signals on a fake clock, joined and flushed, then
/// <see cref="IFlywheelEngine.GetHealthAsync"/>. The arithmetic is tested in Flywheel.Evaluation.Tests; these check
/// that the reporter feeds it what the log holds.
/// </summary>
public sealed class HealthReporterTests : IDisposable
{
    private const string Loop = "home-feed";

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static DecideRequest Request(string id, string user = "u-42") => TestEngine.Request(id) with { UserId = user };

    private static SignalInput Signal(string decisionId, string type, string? id = null) => new() { SignalId = id, DecisionId = decisionId, Type = type };

    [Fact]
    public async Task GetHealthAsync_DecisionsWithSignalsOfEachKind_SplitsCaptureByKindAndCountsLateAndOrphaned()
    {
        var time = new FakeTimeProvider(TestEngine.Start);
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time);
        await engine.PutLoopAsync(TestEngine.FeedLoop(Loop));
        foreach (var id in new[] { "d1", "d2", "d3", "d4" })
        {
            await engine.DecideAsync(Loop, Request(id));
        }
        time.Advance(TimeSpan.FromSeconds(30));
        var inWindow = await engine.RecordSignalsAsync(Loop,
        [
            Signal("d1", "watch_complete"), Signal("d1", "thumbs_up"), // both kinds
            Signal("d2", "thumbs_up"), Signal("d2", "thumbs_down"),    // explicit only
            Signal("d3", "rewatch"),                                   // implicit only
            Signal("never-made", "watch_complete"),                    // orphaned
        ]);
        time.Advance(TimeSpan.FromMinutes(11));
        await engine.FlushAsync();
        var late = await engine.RecordSignalsAsync(Loop, [Signal("d4", "watch_complete")]);
        await engine.FlushAsync();

        var report = await engine.GetHealthAsync(Loop);

        Assert.Equal((1, 1), (inWindow.Orphaned, late.Late));
        Assert.Equal(Loop, report.Loop);
        Assert.Equal(time.GetUtcNow(), report.GeneratedAt);
        Assert.Equal((4L, 4L, 7L), (report.Evidence.Decisions, report.Evidence.Rewards, report.Evidence.Signals));
        var capture = report.Capture;
        Assert.Equal(4, capture.Window.Decisions);
        Assert.Equal(0.75, capture.Rate.Value, 12);
        Assert.Equal(0.5, capture.Implicit.Value, 12);
        Assert.Equal(0.5, capture.Explicit.Value, 12);
        Assert.Equal((1L, 1L), (capture.LateSignals, capture.OrphanedSignals));
        // Signals joined to a decision, per decision: 5 in-window over 4 decisions.
        Assert.Equal(5.0 / 4, report.Fuel.SignalsPerDecision, 12);
        Assert.Equal(HealthStatus.WarmingUp, report.Verdict.Status);
    }

    [Fact]
    public async Task GetHealthAsync_FrozenLoopWithCapturedSignals_IsNoPipe()
    {
        var time = new FakeTimeProvider(TestEngine.Start);
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time);
        await engine.PutLoopAsync(TestEngine.FeedLoop(Loop) with { Mode = LoopMode.Frozen });
        var random = new Random(20261206);
        for (var i = 0; i < 150; i++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            var decision = await engine.DecideAsync(Loop, Request($"d{i}", $"u{i % 7}"));
            // Every decision gets a signal; skips close the window at once, the rest close when it runs out.
            await engine.RecordSignalsAsync(Loop, [Signal(decision.DecisionId, random.NextDouble() < 0.5 ? "skip" : "watch_complete")]);
        }
        time.Advance(TimeSpan.FromMinutes(11));
        await engine.FlushAsync();

        var report = await engine.GetHealthAsync(Loop);

        Assert.Equal(150, report.Evidence.Rewards);
        Assert.Equal(1.0, report.Capture.Rate.Value, 12);
        Assert.Equal(LoopMode.Frozen, report.Pipe.Mode);
        Assert.False(report.Pipe.LearnsOnline);
        Assert.Equal(0, report.Pipe.Deployments);
        Assert.Equal(HealthStatus.NoPipe, report.Verdict.Status);
        Assert.Contains("frozen", report.Verdict.Evidence, StringComparison.Ordinal);
        Assert.Contains("online", report.Verdict.Advice, StringComparison.Ordinal);
        // A frozen model serves what it had: no newly learned policy ever reached users.
        Assert.Null(report.Latency.Online);
    }

    [Fact]
    public async Task GetHealthAsync_UnknownLoop_ThrowsTheSameNotFoundAsOtherMethods()
    {
        var time = new FakeTimeProvider(TestEngine.Start);
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time);
        await engine.PutLoopAsync(TestEngine.FeedLoop(Loop));

        var health = await Assert.ThrowsAsync<FlywheelValidationException>(async () => await engine.GetHealthAsync("nope"));
        var decide = await Assert.ThrowsAsync<FlywheelValidationException>(async () => await engine.DecideAsync("nope", Request("d1")));

        Assert.Equal(ValidationKind.NotFound, health.Kind);
        Assert.Equal((decide.Kind, decide.Field, decide.Message), (health.Kind, health.Field, health.Message));
        Assert.Contains("nope", health.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await engine.GetHealthAsync(null!));
    }

    [Fact]
    public async Task GetHealthAsync_OnlineLoopAfterLearningAndServing_MeasuresLatencyOnTheClock()
    {
        var time = new FakeTimeProvider(TestEngine.Start);
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time);
        await engine.PutLoopAsync(TestEngine.FeedLoop(Loop));
        for (var i = 0; i < 10; i++)
        {
            await engine.DecideAsync(Loop, Request($"d{i}"));
        }

        // Round 1: five skips close five windows at +5 s; a decision at +25 s serves the model that learned them.
        time.Advance(TimeSpan.FromSeconds(5));
        await engine.RecordSignalsAsync(Loop, [.. Enumerable.Range(0, 5).Select(i => Signal($"d{i}", "skip"))]);
        await engine.FlushAsync();
        time.Advance(TimeSpan.FromSeconds(20));
        await engine.DecideAsync(Loop, Request("d10"));
        var before = await engine.GetHealthAsync(Loop);

        // Round 2: five more at +30 s (each a second signal after a first at +28 s), served from +60 s.
        time.Advance(TimeSpan.FromSeconds(3));
        await engine.RecordSignalsAsync(Loop, [.. Enumerable.Range(5, 5).Select(i => Signal($"d{i}", "watch_complete"))]);
        time.Advance(TimeSpan.FromSeconds(2));
        await engine.RecordSignalsAsync(Loop, [.. Enumerable.Range(5, 5).Select(i => Signal($"d{i}", "skip"))]);
        await engine.FlushAsync();
        time.Advance(TimeSpan.FromSeconds(30));
        await engine.DecideAsync(Loop, Request("d11"));
        await engine.DecideAsync(Loop, Request("d12"));

        var report = await engine.GetHealthAsync(Loop);

        // One serving moment only: no learned reward has a known start, so nothing is measured yet.
        Assert.Null(before.Latency.Online);
        var online = Assert.IsType<LatencySummary>(report.Latency.Online);
        Assert.Equal(5, online.Samples);
        // From the first signal's arrival (+28 s) to the first decision served by the model that learned it (+60 s).
        Assert.Equal(32, online.MedianSeconds, 9);
        Assert.Equal(32, online.P90Seconds, 9);
        Assert.Equal(32, online.MaxSeconds, 9);
        Assert.True(report.Pipe.LearnsOnline);
        Assert.Equal(10, report.Pipe.ModelExamples);
        Assert.Empty(report.Latency.Turns);
    }

    [Fact]
    public async Task GetHealthAsync_UserLevelReturnVisits_CountInReturnAndStreaks()
    {
        var time = new FakeTimeProvider(TestEngine.Start);
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time);
        await engine.PutLoopAsync(TestEngine.FeedLoop(Loop));
        await engine.DecideAsync(Loop, Request("d1", "u-a"));
        // A return_visit sent against a decision is that decision's signal, not a visit of its user.
        await engine.RecordSignalsAsync(Loop, [new SignalInput { DecisionId = "d1", UserId = "u-c", Type = "return_visit" }]);
        await engine.RecordSignalsAsync(Loop, [new SignalInput { UserId = "u-b", Type = "return_visit" }]);
        for (var day = 1; day <= 5; day++)
        {
            time.Advance(TimeSpan.FromDays(1));
            var user = day <= 2 ? "u-a" : day == 5 ? "u-b" : null;
            if (user is not null)
            {
                await engine.RecordSignalsAsync(Loop, [new SignalInput { UserId = user, Type = "return_visit" }]);
            }
        }
        await engine.FlushAsync();

        var report = await engine.GetHealthAsync(Loop);

        // u-a: days 0 (decision), 1, 2 (visits); u-b: days 0 and 5 (visits); u-c never visited.
        var returns = report.Return;
        Assert.Equal(2, returns.Users);
        // Days at least one day before the newest (day 5): u-a 0, 1, 2 and u-b 0; u-a's first two were followed the next day.
        Assert.Equal(4, returns.Within1Day.Visits);
        Assert.Equal(0.5, returns.Within1Day.Rate.Value, 12);
        Assert.Equal(0, returns.Within7Days.Visits);
        Assert.Equal(1, returns.Streaks.Single(s => s.Days == "1").Users);
        Assert.Equal(1, returns.Streaks.Single(s => s.Days == "2-3").Users);
        Assert.Equal(2, returns.Streaks.Sum(s => s.Users));
    }
}

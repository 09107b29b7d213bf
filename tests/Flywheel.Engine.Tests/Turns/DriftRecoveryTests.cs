using System.Globalization;
using Flywheel.Core;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace Flywheel.Engine.Tests.Turns;

/// <summary>
/// The wheel heals when the world drifts: a loop with default settings and a turn every 4,000 decisions, driven through
/// the engine over SQLite on a fake clock, meets a world whose every segment's best video moves.
/// </summary>
public sealed class DriftRecoveryTests(ITestOutputHelper output) : IDisposable
{
    private const int BeforeShift = 6000;
    private const int AfterShift = 10_000;
    private const int StaleCheck = 2000;

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>
    /// Drives one loop through a <see cref="DriftWorld"/>: each step the clock moves <see cref="Step"/> seconds, the
    /// signals due are sent, the engine is flushed (so the model that serves has learned exactly the rewards closed by
    /// then: reproducible runs), the turn schedule is checked as a host's timer would, and the step's decisions are made, one per second on average.
    /// </summary>
    private sealed class Driver(FlywheelEngine engine, FakeTimeProvider time, DriftWorld world, string loop)
    {
        private const int Step = 5;
        private const int CheckEverySteps = 12;
        private readonly PriorityQueue<SignalInput, DateTimeOffset> _due = new();
        private int _round;
        private int _steps;

        /// <summary>The expected reward of each served video, in decision order.</summary>
        public List<double> Rewards { get; } = [];

        public async Task RunAsync(int decisions)
        {
            for (var end = _round + decisions; _round < end; _steps++)
            {
                time.Advance(TimeSpan.FromSeconds(Step));
                var now = time.GetUtcNow();
                var signals = new List<SignalInput>();
                while (_due.TryPeek(out var s, out var at) && at <= now)
                {
                    _due.Dequeue();
                    signals.Add(s with { At = at });
                }
                if (signals.Count > 0)
                {
                    await engine.RecordSignalsAsync(loop, signals);
                }
                await engine.FlushAsync();
                if (_steps % CheckEverySteps == 0)
                {
                    // What the schedule's timer runs every TurnCheckInterval on a live server.
                    await engine.RunScheduledTurnsAsync();
                }
                // The step's decisions go in together (one commit); each draws from its own seeded stream.
                var segments = new List<int>();
                for (var k = 0; k < Step && _round + k < end; k++)
                {
                    segments.Add(world.NextContext());
                }
                var served = await Task.WhenAll(segments.Select((segment, k) => engine.DecideAsync(loop, new DecideRequest
                {
                    DecisionId = $"d{_round + k}",
                    Context = DriftWorld.Context(segment),
                    Actions = DriftWorld.Actions,
                }).AsTask()));
                for (var k = 0; k < served.Length; k++, _round++)
                {
                    var action = int.Parse(served[k].ChosenActionId.AsSpan(1), CultureInfo.InvariantCulture);
                    Rewards.Add(world.ExpectedReward(segments[k], action));
                    var i = 0;
                    foreach (var (delay, type) in world.React(segments[k], action))
                    {
                        _due.Enqueue(new SignalInput { SignalId = $"d{_round}-{i++}", DecisionId = served[k].DecisionId, Type = type }, now + TimeSpan.FromSeconds(delay));
                    }
                }
            }
            await engine.FlushAsync();
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task WorldShifts_MeanRewardReturnsWithinTenPercentInTenThousandDecisions(int seed)
    {
        var time = new FakeTimeProvider(TestEngine.Start);
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time);
        // Default settings but for the schedule: a turn every 4,000 decisions (one decision a second).
        await engine.PutLoopAsync(DriftWorld.Loop("feed") with { Turns = new TurnsConfig { EverySeconds = 4000 } });
        var world = new DriftWorld(seed);
        var driver = new Driver(engine, time, world, "feed");

        await driver.RunAsync(BeforeShift);
        var optimumBefore = world.OptimalReward;
        world.Shift();
        // In between, the health report sees the drop for what it is.
        await driver.RunAsync(StaleCheck);
        await engine.FlushAsync();
        var between = await engine.GetHealthAsync("feed");
        output.WriteLine($"health {StaleCheck:N0} decisions after the shift: {between.Verdict.Status}: {between.Verdict.Evidence}");
        await driver.RunAsync(AfterShift - StaleCheck);

        for (var i = 0; i < driver.Rewards.Count; i += 1000)
        {
            output.WriteLine($"decisions {i,6}–{i + 999,6}: mean expected reward {driver.Rewards.Skip(i).Take(1000).Average():F4}");
        }
        var turns = await engine.ListTurnsAsync("feed");
        foreach (var t in turns)
        {
            output.WriteLine($"turn {t.Number} ({LoopConfigJson.Name(t.Trigger)}): {LoopConfigJson.Name(t.Verdict)}, {t.Reason}");
        }
        var before = driver.Rewards.Skip(BeforeShift - 2000).Take(2000).Average();
        var after = driver.Rewards.Skip(BeforeShift + AfterShift - 1000).Take(1000).Average();
        var low = driver.Rewards.Skip(BeforeShift).Take(1000).Average();
        output.WriteLine($"before the shift {before:F4} (optimum {optimumBefore:F4}); first 1,000 after {low:F4}; 9,000–10,000 after {after:F4} (optimum {world.OptimalReward:F4})");

        Assert.True(low < 0.8 * before, $"the shift should hurt: {low:F4} against {before:F4}");
        Assert.True(after >= 0.9 * before, $"mean reward 9,000–10,000 decisions after the shift, {after:F4}, should be within 10% of {before:F4}");
        Assert.Equal(HealthStatus.Stale, between.Verdict.Status);
        Assert.True(between.Staleness.Drift.Stale);
        await engine.FlushAsync();
        var recovered = await engine.GetHealthAsync("feed");
        output.WriteLine($"health at the end: {recovered.Verdict.Status}: {recovered.Verdict.Evidence}");
        Assert.NotEqual(HealthStatus.Stale, recovered.Verdict.Status);
        var drift = Assert.Single(turns, t => t.Trigger == TurnTrigger.Drift);
        Assert.Contains("drift: the reward fell from", drift.Reason, StringComparison.Ordinal);
        Assert.Contains("found at reward", drift.Reason, StringComparison.Ordinal);
        // Judged on the rewards since the change only.
        Assert.True(drift.Window!.AfterSequence >= BeforeShift - 1000, $"the drift turn's window starts at reward {drift.Window.AfterSequence}");
        // Its candidates learned the new world: the searched settings and `recent` only the rewards since the change,
        // `refreshed` the whole log with its learning restarted there.
        var change = drift.Window.AfterSequence;
        Assert.Contains(drift.Candidates, c => c.Name == $"recent (rewards after {change})");
        Assert.Contains(drift.Candidates, c => c.Name == $"refreshed (at reward {change})");
        Assert.Contains(drift.Candidates, c => c.Name == $"learningRate×2, rewards after {change}");
    }
}

using System.Globalization;
using Flywheel.Core;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace Flywheel.Engine.Tests.Turns;

public sealed class DriftRecoveryTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Drives one loop through a <see cref="DriftWorld"/>, one decision a second, checking the turn schedule as a host does.</summary>
    private sealed class Driver(FlywheelEngine engine, FakeTimeProvider time, DriftWorld world, string loop)
    {
        private readonly PriorityQueue<SignalInput, DateTimeOffset> _due = new();
        private int _round;

        public List<double> Rewards { get; } = [];

        public async Task RunAsync(int decisions, int flushEvery, int checkEvery)
        {
            for (var end = _round + decisions; _round < end; _round++)
            {
                time.Advance(TimeSpan.FromSeconds(1));
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
                if (_round % flushEvery == 0)
                {
                    await engine.FlushAsync();
                }
                if (_round % checkEvery == 0)
                {
                    await engine.RunScheduledTurnsAsync();
                }
                var ctx = world.NextContext();
                var d = await engine.DecideAsync(loop, new DecideRequest { DecisionId = $"d{_round}", Context = DriftWorld.Context(ctx), Actions = DriftWorld.Actions });
                var action = int.Parse(d.ChosenActionId.AsSpan(1), CultureInfo.InvariantCulture);
                Rewards.Add(world.ExpectedReward(ctx, action));
                var i = 0;
                foreach (var (delay, type) in world.React(ctx, action))
                {
                    _due.Enqueue(new SignalInput { SignalId = $"d{_round}-{i++}", DecisionId = d.DecisionId, Type = type }, now + TimeSpan.FromSeconds(delay));
                }
            }
            await engine.FlushAsync();
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Experiment(int seed)
    {
        var time = new FakeTimeProvider(TestEngine.Start);
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time);
        await engine.PutLoopAsync(DriftWorld.Loop("feed") with { Turns = new TurnsConfig { EverySeconds = 4000 } });
        var world = new DriftWorld(seed);
        var driver = new Driver(engine, time, world, "feed");
        const int before = 8000, after = 12000;
        await driver.RunAsync(before, flushEvery: 1, checkEvery: 60);
        world.Shift();
        await driver.RunAsync(after, flushEvery: 1, checkEvery: 60);
        for (var i = 0; i < driver.Rewards.Count; i += 1000)
        {
            output.WriteLine($"{i,6}: {driver.Rewards.Skip(i).Take(1000).Average():F4}");
        }
        foreach (var t in await engine.ListTurnsAsync("feed"))
        {
            output.WriteLine($"turn {t.Number} {t.Trigger} at {t.Window?.ThroughSequence}: {t.Verdict} {t.Reason}");
            foreach (var c in t.Candidates.Where(c => c.Name.StartsWith("re", StringComparison.Ordinal)))
            {
                output.WriteLine($"   {c.Name} IPS {c.Estimates.Ips.Value:F4} [{c.Estimates.Ips.Lower:F4}] DR {c.Estimates.Dr.Value:F4} [{c.Estimates.Dr.Lower:F4}] ESS {c.Estimates.EffectiveSampleSize:F0}");
            }
        }
        var pre = driver.Rewards.Skip(before - 2000).Take(2000).Average();
        var post = driver.Rewards.Skip(before + 9000).Take(1000).Average();
        output.WriteLine($"pre {pre:F4} post {post:F4}");
    }
}

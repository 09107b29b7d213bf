using System.Diagnostics;
using System.Diagnostics.Metrics;
using Flywheel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Flywheel.Engine.Tests.Telemetry;

public sealed class FlywheelMetricsTests
{
    private const string Loop = "home-feed";
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Ingest_DecisionsAndSignals_CountedExactlyOnceAcknowledged()
    {
        using var dir = new TempDirectory();
        var time = new FakeTimeProvider(TestEngine.Start);
        await using var engine = await TestEngine.OpenAsync(dir.Path, time);
        // Only this engine's meter: other tests' engines run in parallel under the same meter name.
        using var recorder = new MeterRecorder(engine.Metrics.Meter);
        await engine.PutLoopAsync(TestEngine.FeedLoop());
        for (var i = 0; i < 5; i++)
        {
            await engine.DecideAsync(Loop, TestEngine.Request($"d{i}"));
        }

        var joined = await engine.RecordSignalsAsync(Loop,
        [
            new SignalInput { SignalId = "s1", DecisionId = "d0", Type = "watch_complete" },
            new SignalInput { SignalId = "s2", DecisionId = "d1", Type = "watch_complete" },
            new SignalInput { SignalId = "s3", DecisionId = "d0", Type = "thumbs_up" },
            new SignalInput { SignalId = "s4", DecisionId = "d2", Type = "skip" }, // closes d2's window
        ]);
        var unjoined = await engine.RecordSignalsAsync(Loop,
        [
            new SignalInput { SignalId = "s1", DecisionId = "d0", Type = "watch_complete" }, // a retry
            new SignalInput { SignalId = "s5", DecisionId = "d2", Type = "rewatch" },        // after its window closed
            new SignalInput { SignalId = "s6", DecisionId = "never-made", Type = "stars" },  // no such decision
        ]);

        // No flush: the calls' acknowledgements alone promise the counts.
        Assert.Equal(new SignalBatchResult(4, 0, 0, 0), joined);
        Assert.Equal(new SignalBatchResult(Accepted: 2, Duplicates: 1, Orphaned: 1, Late: 1), unjoined);
        Assert.Equal(5, recorder.Sum("flywheel.decisions", ("loop", Loop)));
        Assert.Equal(5, recorder.Sum("flywheel.decisions", ("loop", Loop), ("explored", "true"))
                        + recorder.Sum("flywheel.decisions", ("loop", Loop), ("explored", "false")));
        Assert.Equal(6, recorder.Sum("flywheel.signals", ("loop", Loop)));
        Assert.Equal(2, recorder.Sum("flywheel.signals", ("type", "watch_complete"), ("kind", "implicit")));
        Assert.Equal(1, recorder.Sum("flywheel.signals", ("type", "thumbs_up"), ("kind", "explicit")));
        Assert.Equal(1, recorder.Sum("flywheel.signals", ("type", "skip"), ("kind", "implicit")));
        Assert.Equal(1, recorder.Sum("flywheel.signals", ("type", "rewatch"), ("kind", "implicit")));
        Assert.Equal(1, recorder.Sum("flywheel.signals", ("type", "stars"), ("kind", "explicit")));
        Assert.Equal(1, recorder.Sum("flywheel.signals.unjoined", ("loop", Loop), ("outcome", "duplicate")));
        Assert.Equal(1, recorder.Sum("flywheel.signals.unjoined", ("loop", Loop), ("outcome", "late")));
        Assert.Equal(1, recorder.Sum("flywheel.signals.unjoined", ("loop", Loop), ("outcome", "orphaned")));
        Assert.Equal(1, recorder.Sum("flywheel.rewards", ("loop", Loop), ("closed_by", "signal")));
        Assert.Equal(0, recorder.Sum("flywheel.rewards", ("closed_by", "window")));

        // The other four windows time out; the flush waits until their rewards are learned too.
        time.Advance(TimeSpan.FromSeconds(601));
        await engine.FlushAsync();

        Assert.Equal(4, recorder.Sum("flywheel.rewards", ("loop", Loop), ("closed_by", "window")));
        Assert.Equal(5, recorder.Sum("flywheel.learner.updates", ("loop", Loop)));
        Assert.Equal(5, recorder.Sum("flywheel.decisions"));
    }

    [Fact]
    public async Task Ingest_RetriedDecision_CountedOnce()
    {
        using var dir = new TempDirectory();
        await using var engine = await TestEngine.OpenAsync(dir.Path, new FakeTimeProvider(TestEngine.Start));
        using var recorder = new MeterRecorder(engine.Metrics.Meter);
        await engine.PutLoopAsync(TestEngine.FeedLoop());

        await engine.DecideAsync(Loop, TestEngine.Request("same"));
        await engine.DecideAsync(Loop, TestEngine.Request("same"));

        Assert.Equal(1, recorder.Sum("flywheel.decisions", ("loop", Loop)));
    }

    [Fact]
    public async Task FrozenLoop_ClosedRewards_NoLearnerUpdates()
    {
        using var dir = new TempDirectory();
        await using var engine = await TestEngine.OpenAsync(dir.Path, new FakeTimeProvider(TestEngine.Start));
        using var recorder = new MeterRecorder(engine.Metrics.Meter);
        await engine.PutLoopAsync(TestEngine.FeedLoop() with { Mode = LoopMode.Frozen });

        await engine.DecideAsync(Loop, TestEngine.Request("d1"));
        await engine.RecordSignalsAsync(Loop, [new SignalInput { DecisionId = "d1", Type = "skip" }]);
        await engine.FlushAsync();

        // The reward closed, but a frozen loop never learns it.
        Assert.Equal(1, recorder.Sum("flywheel.rewards", ("loop", Loop)));
        Assert.Equal(0, recorder.Sum("flywheel.learner.updates"));
    }

    [Fact]
    public async Task RunTurn_LedgerEntry_CountedByVerdict()
    {
        using var dir = new TempDirectory();
        await using var engine = await TestEngine.OpenAsync(dir.Path, new FakeTimeProvider(TestEngine.Start));
        using var recorder = new MeterRecorder(engine.Metrics.Meter);
        await engine.PutLoopAsync(TestEngine.FeedLoop());

        var turn = await engine.RunTurnAsync(Loop);

        Assert.Equal(TurnVerdict.InsufficientData, turn.Verdict);
        Assert.Equal(1, recorder.Sum("flywheel.turns", ("loop", Loop), ("verdict", "insufficient-data")));
        Assert.Equal(1, recorder.Sum("flywheel.turns"));
    }

    [Fact]
    public void VerdictName_EveryVerdict_IsItsWireName()
    {
        var wire = FlywheelJson.EnumNames(typeof(TurnVerdict))!;

        Assert.Equal(wire, Enum.GetValues<TurnVerdict>().Select(FlywheelMetrics.VerdictName));
    }

    [Fact]
    public async Task QueueDepthGauge_CallsWaiting_ObservesThem()
    {
        // Workers not started: what is queued stays queued.
        await using var rig = await ComponentRig.OpenAsync(start: false);
        using var recorder = new MeterRecorder(rig.Parts.Metrics.Meter);
        for (var i = 0; i < 3; i++)
        {
            await rig.Parts.Ingest.EnqueueAsync(new FlushWrite(), None);
        }

        recorder.Observe();

        Assert.Equal(3, recorder.Last("flywheel.ingest.queue.depth"));
    }

    [Fact]
    public async Task AddFlywheel_HostMeterFactory_CreatesTheMeterThroughIt()
    {
        using var dir = new TempDirectory();
        var factory = new RecordingMeterFactory();
        var services = new ServiceCollection().AddSingleton<IMeterFactory>(factory);
        services.AddFlywheel(o => o.ScheduleTurns = false).UseSqlite(dir.Path);
        await using var provider = services.BuildServiceProvider();

        var engine = provider.GetRequiredService<FlywheelEngine>();

        // The host's exporters (OpenTelemetry in the server) subscribe to the meters of its own factory.
        Assert.Same(factory.Created.Single(), engine.Metrics.Meter);
        Assert.Equal(FlywheelEngine.TelemetryName, engine.Metrics.Meter.Name);
    }

    [Fact]
    public async Task DecideAndSignals_WithListener_OneActivityEachWithLoopTag()
    {
        using var dir = new TempDirectory();
        await using var engine = await TestEngine.OpenAsync(dir.Path, new FakeTimeProvider(TestEngine.Start));
        await engine.PutLoopAsync(TestEngine.FeedLoop());
        using var activities = new ActivityRecorder();

        Decision decision;
        ActivityTraceId trace;
        using (var parent = activities.StartParent())
        {
            trace = parent.TraceId;
            decision = await engine.DecideAsync(Loop, TestEngine.Request("d1"));
            await engine.RecordSignalsAsync(Loop, [new SignalInput { DecisionId = "d1", Type = "skip" }]);
        }

        var ours = activities.Flywheel(trace);
        var decide = Assert.Single(ours, a => a.OperationName == "flywheel.decide");
        Assert.Equal(Loop, decide.GetTagItem("flywheel.loop"));
        Assert.Equal(decision.DecisionId, decide.GetTagItem("flywheel.decision_id"));
        var signals = Assert.Single(ours, a => a.OperationName == "flywheel.signals");
        Assert.Equal(Loop, signals.GetTagItem("flywheel.loop"));
        Assert.Equal(2, ours.Count);
    }

    [Fact]
    public async Task Decide_UnknownLoop_ActivityMarkedFailed()
    {
        using var dir = new TempDirectory();
        await using var engine = await TestEngine.OpenAsync(dir.Path, new FakeTimeProvider(TestEngine.Start));
        using var activities = new ActivityRecorder();

        ActivityTraceId trace;
        using (var parent = activities.StartParent())
        {
            trace = parent.TraceId;
            await Assert.ThrowsAnyAsync<Exception>(() => engine.DecideAsync("no-such-loop", TestEngine.Request("d1")).AsTask());
        }

        var decide = Assert.Single(activities.Flywheel(trace), a => a.OperationName == "flywheel.decide");
        Assert.Equal(ActivityStatusCode.Error, decide.Status);
        Assert.Equal("no-such-loop", decide.GetTagItem("flywheel.loop"));
    }

    /// <summary>
    /// Listens to the engine's activity source and a test source of its own, whose parent activity gives the test a trace
    /// id of its own: other tests' engines may be traced meanwhile.
    /// </summary>
    private sealed class ActivityRecorder : IDisposable
    {
        private readonly ActivitySource _source = new($"test-{Guid.NewGuid():N}");
        private readonly List<Activity> _stopped = [];
        private readonly ActivityListener _listener;

        public ActivityRecorder()
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = s => s.Name == FlywheelEngine.TelemetryName || s.Name == _source.Name,
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = a =>
                {
                    lock (_stopped)
                    {
                        _stopped.Add(a);
                    }
                },
            };
            ActivitySource.AddActivityListener(_listener);
        }

        public Activity StartParent() => _source.StartActivity("test")!;

        /// <summary>The engine's stopped activities in <paramref name="trace"/>.</summary>
        public List<Activity> Flywheel(ActivityTraceId trace)
        {
            lock (_stopped)
            {
                return _stopped.Where(a => a.TraceId == trace && a.Source.Name == FlywheelEngine.TelemetryName).ToList();
            }
        }

        public void Dispose()
        {
            _listener.Dispose();
            _source.Dispose();
        }
    }

    /// <summary>Records every measurement of one meter's instruments, with their tags.</summary>
    private sealed class MeterRecorder : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly List<(string Instrument, long Value, KeyValuePair<string, object?>[] Tags)> _measurements = [];

        public MeterRecorder(Meter meter)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter, meter))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>(Record);
            _listener.SetMeasurementEventCallback<int>((i, v, t, s) => Record(i, v, t, s));
            _listener.Start();
        }

        private void Record(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
        {
            lock (_measurements)
            {
                _measurements.Add((instrument.Name, value, tags.ToArray()));
            }
        }

        /// <summary>Polls the observable instruments (the gauge).</summary>
        public void Observe() => _listener.RecordObservableInstruments();

        /// <summary>The sum of an instrument's measurements whose tags include every one of <paramref name="tags"/>.</summary>
        public long Sum(string instrument, params (string Key, string Value)[] tags)
        {
            lock (_measurements)
            {
                return _measurements.Where(m => m.Instrument == instrument && Matches(m.Tags, tags)).Sum(m => m.Value);
            }
        }

        public long Last(string instrument)
        {
            lock (_measurements)
            {
                return _measurements.Last(m => m.Instrument == instrument).Value;
            }
        }

        private static bool Matches(KeyValuePair<string, object?>[] have, (string Key, string Value)[] want)
            => want.All(w => have.Any(h => h.Key == w.Key && Equals(h.Value, w.Value)));

        public void Dispose() => _listener.Dispose();
    }

    private sealed class RecordingMeterFactory : IMeterFactory
    {
        public List<Meter> Created { get; } = [];

        public Meter Create(MeterOptions options)
        {
            var meter = new Meter(options);
            Created.Add(meter);
            return meter;
        }

        public void Dispose()
        {
            foreach (var meter in Created)
            {
                meter.Dispose();
            }
        }
    }
}

using System.Diagnostics;
using System.Diagnostics.Metrics;
using Flywheel.Core;

namespace Flywheel.Engine;

/// <summary>
/// The engine's instruments (docs/operations.md): one <see cref="Meter"/> and one <see cref="ActivitySource"/>, both
/// named <see cref="Name"/>, with System.Diagnostics only so the engine knows no exporter. Each component counts where
/// its event happens: ingest after the group commit (so an acknowledged call is always counted), the learner host per
/// example learned, turns when a ledger entry is written. Tags are existing strings in <see cref="TagList"/> structs, so
/// counting allocates nothing, and an instrument nobody listens to costs one check.
/// </summary>
internal sealed class FlywheelMetrics : IDisposable
{
    /// <summary>The name of the meter and of the activity source.</summary>
    public const string Name = "Flywheel";

    /// <summary>Decide and signal requests, for an OpenTelemetry collector to follow (static: listeners subscribe by name).</summary>
    public static readonly ActivitySource ActivitySource = new(Name);

    private readonly bool _ownsMeter;
    private readonly Counter<long> _decisions;
    private readonly Counter<long> _signals;
    private readonly Counter<long> _unjoined;
    private readonly Counter<long> _rewards;
    private readonly Counter<long> _updates;
    private readonly Counter<long> _turns;
    private Func<int>? _queueDepth;

    /// <summary>Creates the instruments on a meter from <paramref name="meterFactory"/>, or on a meter of its own without one.</summary>
    public FlywheelMetrics(IMeterFactory? meterFactory = null)
    {
        _ownsMeter = meterFactory is null;
        Meter = meterFactory?.Create(Name) ?? new Meter(Name);
        _decisions = Meter.CreateCounter<long>("flywheel.decisions", "{decision}", "Decisions committed, by loop and whether the served action was an exploration step.");
        _signals = Meter.CreateCounter<long>("flywheel.signals", "{signal}", "Signals accepted (committed, duplicates excluded), by loop, type and kind.");
        _unjoined = Meter.CreateCounter<long>("flywheel.signals.unjoined", "{signal}", "Signals that joined no open window, by loop and outcome: duplicate (dropped), late or orphaned (stored).");
        _rewards = Meter.CreateCounter<long>("flywheel.rewards", "{reward}", "Reward windows closed into a reward, by loop and what closed them (window timeout or signal).");
        _updates = Meter.CreateCounter<long>("flywheel.learner.updates", "{update}", "Online learner updates (one per reward learned), by loop.");
        _turns = Meter.CreateCounter<long>("flywheel.turns", "{turn}", "Turn ledger entries written, by loop and verdict.");
        Meter.CreateObservableGauge("flywheel.ingest.queue.depth", () => Volatile.Read(ref _queueDepth)?.Invoke() ?? 0, "{request}",
            "Calls waiting in the ingest queue for the next group commit.");
    }

    /// <summary>The meter holding the instruments (tests listen to exactly this one).</summary>
    public Meter Meter { get; }

    /// <summary>Where the queue-depth gauge reads from, once ingest exists.</summary>
    public void ObserveQueueDepth(Func<int> depth) => Volatile.Write(ref _queueDepth, depth);

    public void Decided(string loop, bool explored)
    {
        if (_decisions.Enabled)
        {
            _decisions.Add(1, new TagList { { "loop", loop }, { "explored", explored ? "true" : "false" } });
        }
    }

    public void SignalAccepted(string loop, string type, SignalKind kind)
    {
        if (_signals.Enabled)
        {
            _signals.Add(1, new TagList { { "loop", loop }, { "type", type }, { "kind", kind == SignalKind.Explicit ? "explicit" : "implicit" } });
        }
    }

    public void SignalUnjoined(string loop, SignalOutcome outcome)
    {
        if (_unjoined.Enabled)
        {
            var name = outcome switch
            {
                SignalOutcome.Duplicate => "duplicate",
                SignalOutcome.Late => "late",
                _ => "orphaned",
            };
            _unjoined.Add(1, new TagList { { "loop", loop }, { "outcome", name } });
        }
    }

    public void RewardJoined(string loop, WindowClose closedBy)
    {
        if (_rewards.Enabled)
        {
            _rewards.Add(1, new TagList { { "loop", loop }, { "closed_by", closedBy == WindowClose.Signal ? "signal" : "window" } });
        }
    }

    public void Learned(string loop)
    {
        if (_updates.Enabled)
        {
            _updates.Add(1, new TagList { { "loop", loop } });
        }
    }

    public void TurnRecorded(string loop, TurnVerdict verdict)
    {
        if (_turns.Enabled)
        {
            _turns.Add(1, new TagList { { "loop", loop }, { "verdict", VerdictName(verdict) } });
        }
    }

    /// <summary>The verdict's wire name (as the ledger's JSON writes it), without allocating.</summary>
    public static string VerdictName(TurnVerdict verdict) => verdict switch
    {
        TurnVerdict.Promoted => "promoted",
        TurnVerdict.Rejected => "rejected",
        TurnVerdict.InsufficientData => "insufficient-data",
        TurnVerdict.AwaitingManualPromotion => "awaiting-manual-promotion",
        TurnVerdict.ManuallyPromoted => "manually-promoted",
        TurnVerdict.RolledBack => "rolled-back",
        TurnVerdict.Graduated => "graduated",
        _ => "unknown",
    };

    /// <summary>Disposes the meter when it is this object's own; a factory's meters are the factory's to dispose.</summary>
    public void Dispose()
    {
        if (_ownsMeter)
        {
            Meter.Dispose();
        }
    }
}

/// <summary>What became of a signal that joined no open window.</summary>
internal enum SignalOutcome
{
    /// <summary>A retry of a signal already stored; dropped.</summary>
    Duplicate,
    /// <summary>Its decision's window had closed; stored, not in the reward.</summary>
    Late,
    /// <summary>No such decision; stored.</summary>
    Orphaned,
}

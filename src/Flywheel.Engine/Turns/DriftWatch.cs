using System.Globalization;
using System.Runtime.CompilerServices;
using Flywheel.Core;
using Flywheel.Evaluation.Health;

namespace Flywheel.Engine;

/// <summary>A drop of a loop's reward found by its <see cref="DriftWatch"/>.</summary>
/// <param name="ChangeSequence">The last reward before the drop began (the estimated change point).</param>
/// <param name="DetectedSequence">The reward at which the drop was found.</param>
/// <param name="MeanBefore">The mean reward of about the <see cref="DriftWatch.Horizon"/> rewards before the change.</param>
/// <param name="MeanAfter">The mean reward from the change to the detection.</param>
/// <param name="RewardsAfter">Rewards from the change to the detection.</param>
internal sealed record DriftAlarm(long ChangeSequence, long DetectedSequence, double MeanBefore, double MeanAfter, long RewardsAfter)
{
    /// <summary>The figures in words, for the ledger.</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"the reward fell from {MeanBefore:F4} (mean of the rewards before reward {ChangeSequence}) to {MeanAfter:F4} (mean of the {RewardsAfter} rewards after it), found at reward {DetectedSequence}");
}

/// <summary>
/// Watches one loop's reward stream, in learning order, for a drop (a Page–Hinkley test on rewards scaled to [0, 1] by
/// the loop's reward range, so one threshold fits every loop), and keeps the alarm until a turn takes it. With the
/// writer's decision counts (<see cref="Decided"/>), a drop the test finds is raised only once the decisions made since
/// it began earn less (<see cref="DecisionBuckets"/>): a burst or a stall changes what closes when, not what users get. The learner host
/// feeds it every reward it learns; the turn runner runs a <see cref="TurnTrigger.Drift"/> turn when it holds an alarm.
/// Thread-safe: one writer (the learner host) and any number of readers.
/// </summary>
internal sealed class DriftWatch
{
    /// <summary>δ on the [0, 1] scale: drops smaller than 2% of the reward range per reward are tolerated.</summary>
    public const double Delta = 0.02;

    /// <summary>λ, the detection threshold of the cumulative deviation (docs/health.md's default).</summary>
    public const double Lambda = PageHinkley.DefaultLambda;

    /// <summary>Rewards the mean before a change is taken over (an exponential moving average of this horizon).</summary>
    public const int Horizon = 1000;

    /// <summary>
    /// Rewards after an alarm that are not watched: rewards of decisions made before the change keep arriving for a
    /// reward window after it, and one change must not raise a second alarm.
    /// </summary>
    public const int Cooldown = 1000;

    private static readonly ConditionalWeakTable<LoopRuntime, DriftWatch> Watches = [];

    private readonly Lock _lock = new();
    private PageHinkley _detector = PageHinkley.ForDrops(Delta, Lambda);
    private double _recentMean;
    private long _tracked;
    private long _changeSequence;
    private double _meanBefore;
    private double _sumAfter;
    private long _countAfter;
    private long _coolingUntil;
    private int _version;
    private DateTimeOffset? _streamStart;
    private DriftAlarm? _pending;
    private DriftAlarm? _last;
    private readonly DecisionBuckets _buckets = new();
    private DateTimeOffset _changeAt;
    private DateTimeOffset? _confirmedChange;
    private DateTimeOffset _now;
    private long _nowBucket;
    private Suspect? _suspect;

    /// <summary>
    /// A drop the test found in closing order from <paramref name="ClosedAt"/>, waiting for the decisions' own rewards
    /// to show it. The decisions it is about began then (a change seen in windows a signal closes early) or up to a
    /// window before (a change seen only in windows that ran out, which close a window after their decision).
    /// </summary>
    private sealed record Suspect(DriftAlarm Alarm, DateTimeOffset ClosedAt, double Drop, DateTimeOffset Until, TimeSpan Window);

    /// <summary>The watch of a loop (created on first use; it lives as long as the loop's runtime).</summary>
    public static DriftWatch For(LoopRuntime loop) => Watches.GetValue(loop, _ => new DriftWatch());

    /// <summary>The alarm no turn has taken yet, or null.</summary>
    public DriftAlarm? Pending
    {
        get
        {
            lock (_lock)
            {
                return _pending;
            }
        }
    }

    /// <summary>The latest alarm, taken or not, or null.</summary>
    public DriftAlarm? Last
    {
        get
        {
            lock (_lock)
            {
                return _last;
            }
        }
    }

    /// <summary>Alarms raised since the watch was created.</summary>
    public long Alarms { get; private set; }

    /// <summary>Suspected drops the decisions' own rewards did not show (a burst or a stall, not the world).</summary>
    public long Dismissed { get; private set; }

    /// <summary>
    /// Counts a decision the writer logged, served by model <paramref name="version"/> under a reward window of
    /// <paramref name="windowSeconds"/>: with the count of decisions by time, an alarm is raised only when the mean
    /// reward of the decisions made since the drop began fell, whatever the traffic did.
    /// </summary>
    public void Decided(DateTimeOffset at, int version, double windowSeconds)
    {
        lock (_lock)
        {
            _buckets.Decided(at, version, windowSeconds);
        }
    }

    /// <summary>Takes <paramref name="alarm"/> (a turn ran for it); a newer alarm stays pending.</summary>
    public void Take(DriftAlarm alarm)
    {
        lock (_lock)
        {
            if (ReferenceEquals(_pending, alarm))
            {
                _pending = null;
            }
        }
    }

    /// <summary>
    /// Adds one learned reward of a decision served by model <paramref name="servedBy"/> while <paramref name="serving"/>
    /// is the champion; answers the alarm it raised, or null. Each champion's rewards are a stream of their own: a new
    /// champion starts the test afresh and rewards of decisions other models served are left out, so a deployment that
    /// serves worse is the guardrail's to judge and never looks like a change of the world. With the decision's time and
    /// the reward's closing time, a stream is watched only from one reward window after its first decision: until then
    /// the rewards that close are only those whose window a signal closed early, which can differ from the rest (a click
    /// that closes at once, before the windows without one run out), and that must not look like a drop.
    /// </summary>
    public DriftAlarm? Observe(long sequence, double reward, RewardConfig range, int servedBy = 0, int serving = 0, DateTimeOffset? decidedAt = null, DateTimeOffset? closedAt = null)
    {
        var span = range.Max - range.Min;
        if (!double.IsFinite(reward) || !(span > 0))
        {
            return null;
        }
        var x = Math.Clamp((reward - range.Min) / span, 0, 1);
        lock (_lock)
        {
            if (servedBy != serving)
            {
                return null;
            }
            if (serving != _version || _streamStart is null)
            {
                _version = serving;
                _detector = PageHinkley.ForDrops(Delta, Lambda);
                _tracked = 0;
                _streamStart = decidedAt ?? DateTimeOffset.MinValue;
                _suspect = null;
                _confirmedChange = null;
            }
            var timed = decidedAt is { } decided && closedAt is { } closed && serving == _buckets.Version && _buckets.Add(decided, closed, x);
            if (timed && closedAt!.Value > _now)
            {
                _now = closedAt.Value;
            }
            if (closedAt is { } closing && closing < _streamStart.Value.AddSeconds(range.WindowSeconds))
            {
                Track(reward);
                return null;
            }
            if (_suspect is not null)
            {
                return Judge(sequence, reward, range);
            }
            if (sequence <= _coolingUntil)
            {
                Track(reward);
                return null;
            }
            var wasWatching = _detector.Sum > 0;
            if (!wasWatching)
            {
                // No drop under way: this reward may be the first after a change.
                _changeSequence = sequence - 1;
                _changeAt = closedAt ?? default;
                _meanBefore = _recentMean;
                _sumAfter = 0;
                _countAfter = 0;
            }
            var fired = _detector.Add(x);
            _sumAfter += reward;
            _countAfter++;
            if (_detector.Sum == 0)
            {
                _countAfter = 0;
                _sumAfter = 0;
            }
            Track(reward);
            if (!fired)
            {
                return null;
            }
            var alarm = new DriftAlarm(_changeSequence, sequence, _meanBefore, _sumAfter / Math.Max(1, _countAfter), _countAfter);
            _detector = PageHinkley.ForDrops(Delta, Lambda);
            if (!timed)
            {
                return Raise(alarm, sequence);
            }
            // Closing order mixes the decisions of now with those of a window ago: the drop must show in the decisions' own rewards.
            var window = TimeSpan.FromSeconds(range.WindowSeconds);
            _suspect = new Suspect(alarm, _changeAt, (alarm.MeanBefore - alarm.MeanAfter) / span, _changeAt + (2 * window), window);
            _nowBucket = long.MinValue;
            return Judge(sequence, null, range);
        }
    }

    /// <summary>
    /// Decides on the suspected drop at each new bucket of time: raised when the decisions made since it began earn at
    /// least half the drop seen in closing order less than those before (and at least <see cref="Delta"/>), dismissed
    /// when two reward windows pass without that. Called under the lock.
    /// </summary>
    private DriftAlarm? Judge(long sequence, double? reward, RewardConfig range)
    {
        if (reward is { } r)
        {
            Track(r);
        }
        var suspect = _suspect!;
        var bucket = _now.UtcTicks / Math.Max(TimeSpan.TicksPerSecond, TimeSpan.FromSeconds(range.WindowSeconds).Ticks / DecisionBuckets.PerWindow);
        if (bucket == _nowBucket)
        {
            return null;
        }
        _nowBucket = bucket;
        var threshold = Math.Max(Delta, suspect.Drop / 2);
        var judged = false;
        foreach (var start in (ReadOnlySpan<DateTimeOffset>)[suspect.ClosedAt, suspect.ClosedAt - suspect.Window])
        {
            // A change already raised shows again a window later, in the windows that ran out: not a new one.
            if (_confirmedChange is { } confirmed && start < confirmed + suspect.Window)
            {
                judged = true;
                continue;
            }
            if (_buckets.MeansAround(start, _now, Horizon, PageHinkley.DefaultMinimumSamples) is not { } m)
            {
                continue;
            }
            judged = true;
            if (m.Before - m.After >= threshold)
            {
                _suspect = null;
                _confirmedChange = start;
                return Raise(suspect.Alarm, sequence);
            }
        }
        if (_now >= suspect.Until)
        {
            _suspect = null;
            if (!judged)
            {
                // Nothing to judge by (too few decisions counted): the test's word stands.
                return Raise(suspect.Alarm, sequence);
            }
            Dismissed++;
        }
        return null;
    }

    private DriftAlarm Raise(DriftAlarm alarm, long sequence)
    {
        _pending = alarm;
        _last = alarm;
        Alarms++;
        _coolingUntil = sequence + Cooldown;
        return alarm;
    }

    private void Track(double reward)
    {
        _tracked++;
        _recentMean = _tracked == 1 ? reward : _recentMean + (reward - _recentMean) / Math.Min(_tracked, Horizon);
    }
}

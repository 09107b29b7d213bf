namespace Flywheel.Engine;

/// <summary>
/// One champion's decisions and rewards by decision time, in buckets of a sixteenth of the reward window: how many
/// decisions the writer logged in each, and the rewards the learner has learned for them, split into those a signal
/// closed early and those whose window ran out. It answers the mean reward of the decisions made in a span of time
/// whatever the traffic did: the closing order a learner reads mixes the decisions of now (early closes) with those of
/// a window ago (time-outs), so a burst or a stall changes what the recent rewards look like without anything changing
/// for users. Windows still open are counted at the mean time-out reward from before the span.
/// Not thread-safe: the <see cref="DriftWatch"/> that owns it locks.
/// </summary>
internal sealed class DecisionBuckets
{
    /// <summary>Buckets per reward window.</summary>
    public const int PerWindow = 16;

    private sealed class Bucket
    {
        public long Decisions;
        public long Early;
        public double EarlySum;
        public long Late;
        public double LateSum;
    }

    private readonly Dictionary<long, Bucket> _buckets = [];
    private int _version = -1;
    private long _windowTicks;
    private long _width;
    private long _countedFrom = long.MaxValue;
    private long _newest = long.MinValue;

    /// <summary>The champion whose decisions are counted (-1 before the first).</summary>
    public int Version => _version;

    /// <summary>Counts one logged decision of model <paramref name="version"/>; a new version or window starts afresh.</summary>
    public void Decided(DateTimeOffset at, int version, double windowSeconds)
    {
        var window = TimeSpan.FromSeconds(windowSeconds).Ticks;
        if (version != _version || window != _windowTicks)
        {
            _buckets.Clear();
            _version = version;
            _windowTicks = window;
            _width = Math.Max(TimeSpan.TicksPerSecond, window / PerWindow);
            // The first bucket may hold decisions made before counting began: it starts with the next one.
            _countedFrom = Index(at) + 1;
            _newest = long.MinValue;
        }
        var index = Index(at);
        if (index < _countedFrom)
        {
            return;
        }
        if (!_buckets.TryGetValue(index, out var bucket))
        {
            bucket = _buckets[index] = new Bucket();
            if (index > _newest)
            {
                _newest = index;
                Prune();
            }
        }
        bucket.Decisions++;
    }

    /// <summary>Adds a learned reward (scaled to [0, 1]) of a decision of <see cref="Version"/>; false when its bucket was not counted.</summary>
    public bool Add(DateTimeOffset decidedAt, DateTimeOffset closedAt, double x)
    {
        if (_width == 0 || !_buckets.TryGetValue(Index(decidedAt), out var bucket))
        {
            return false;
        }
        if (closedAt.UtcTicks - decidedAt.UtcTicks < _windowTicks)
        {
            bucket.Early++;
            bucket.EarlySum += x;
        }
        else
        {
            bucket.Late++;
            bucket.LateSum += x;
        }
        return true;
    }

    /// <summary>
    /// The mean reward of the decisions made from <paramref name="change"/> until a bucket before <paramref name="now"/>
    /// (the newest bucket's early closes may still be on their way) against that of about <paramref name="before"/>
    /// decisions before it, both on the [0, 1] scale; null while either side has fewer than <paramref name="minimum"/>
    /// decisions or fewer than <paramref name="minimum"/> time-outs are known before the change to stand for the windows still open.
    /// </summary>
    public (double Before, double After)? MeansAround(DateTimeOffset change, DateTimeOffset now, long before, long minimum)
    {
        if (_width == 0)
        {
            return null;
        }
        var first = Index(change);
        var last = Index(now) - 1;
        if (last < first)
        {
            return null;
        }
        var prior = new List<Bucket>();
        long priorDecisions = 0;
        for (var i = first - 1; i >= _countedFrom && priorDecisions < before; i--)
        {
            if (_buckets.TryGetValue(i, out var bucket))
            {
                prior.Add(bucket);
                priorDecisions += bucket.Decisions;
            }
        }
        // The time-outs known nearest before the change stand for the windows still open (a window back, or more).
        long late = 0;
        double lateSum = 0;
        for (var i = first - 1; i >= _countedFrom && late < before; i--)
        {
            if (_buckets.TryGetValue(i, out var bucket))
            {
                late += bucket.Late;
                lateSum += bucket.LateSum;
            }
        }
        if (late < minimum)
        {
            return null;
        }
        var open = lateSum / late;
        var (beforeMean, beforeCount) = Mean(prior, open);
        var after = new List<Bucket>();
        for (var i = first; i <= last; i++)
        {
            if (_buckets.TryGetValue(i, out var bucket))
            {
                after.Add(bucket);
            }
        }
        var (afterMean, afterCount) = Mean(after, open);
        return beforeCount < minimum || afterCount < minimum ? null : (beforeMean, afterMean);
    }

    private static (double Mean, long Decisions) Mean(List<Bucket> buckets, double open)
    {
        double sum = 0;
        long count = 0;
        foreach (var b in buckets)
        {
            var decisions = Math.Max(b.Decisions, b.Early + b.Late);
            sum += b.EarlySum + b.LateSum + ((decisions - b.Early - b.Late) * open);
            count += decisions;
        }
        return (count == 0 ? 0 : sum / count, count);
    }

    private long Index(DateTimeOffset at) => _width == 0 ? 0 : Math.DivRem(at.UtcTicks, _width).Quotient;

    /// <summary>Forgets buckets older than three windows before the newest: a reward for them would come too late to matter.</summary>
    private void Prune()
    {
        var oldest = _newest - (3 * PerWindow) - 2;
        if (_buckets.Count <= (3 * PerWindow) + 4)
        {
            return;
        }
        foreach (var index in _buckets.Keys.Where(k => k < oldest).ToList())
        {
            _buckets.Remove(index);
        }
    }
}

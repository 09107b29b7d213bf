using Flywheel.Core;

namespace Flywheel.Evaluation.Health;

/// <summary>
/// What the health report reads from one loop, gathered in one pass over its log. Decisions are added in time order;
/// only narrow columns are kept (a million decisions take about 40 MB), so a report over a large log stays fast.
/// </summary>
public sealed class HealthInput
{
    private double[] _reward = new double[1024];
    private long[] _at = new long[1024];
    private long[] _closedAt = new long[1024];
    private byte[] _kinds = new byte[1024];
    private long[] _signals = new long[1024];
    private readonly Dictionary<string, int> _users = new(StringComparer.Ordinal);
    private readonly List<long> _lastDay = [];
    private readonly List<long> _userDays = [];

    private const byte AnySignal = 1;
    private const byte ImplicitSignal = 2;
    private const byte ExplicitSignal = 4;
    private const byte ExploredChoice = 8;
    private const long DayTicks = TimeSpan.TicksPerDay;

    /// <summary>The loop's config.</summary>
    public required LoopConfig Config { get; init; }

    /// <summary>When the report is made.</summary>
    public required DateTimeOffset Now { get; init; }

    /// <summary>What the log holds, late and orphaned signals included.</summary>
    public required LoopCounts Counts { get; init; }

    /// <summary>The ledger, oldest first.</summary>
    public IReadOnlyList<TurnRecord> Turns { get; init; } = [];

    /// <summary>Examples the serving model has learned.</summary>
    public long ModelExamples { get; init; }

    /// <summary>Seconds from a signal's arrival to the first decision served by a model that learned it.</summary>
    public IReadOnlyList<double> OnlineLatencySeconds { get; set; } = [];

    /// <summary>Contexts of the newest decisions (feature drift's "actual").</summary>
    public IReadOnlyList<Features> RecentContexts { get; set; } = [];

    /// <summary>Contexts of decisions before the recent window (feature drift's "expected").</summary>
    public IReadOnlyList<Features> BaselineContexts { get; set; } = [];

    /// <summary>Decisions added.</summary>
    public long Decisions { get; private set; }

    /// <summary>Decisions whose window has closed.</summary>
    public int Closed { get; private set; }

    /// <summary>The first decision's time.</summary>
    public DateTimeOffset? First { get; private set; }

    /// <summary>The last decision's time.</summary>
    public DateTimeOffset? Last { get; private set; }

    internal ReadOnlySpan<double> Rewards => _reward.AsSpan(0, Closed);

    internal ReadOnlySpan<long> DecidedAt => _at.AsSpan(0, Closed);

    internal ReadOnlySpan<long> ClosedAt => _closedAt.AsSpan(0, Closed);

    internal ReadOnlySpan<long> SignalCounts => _signals.AsSpan(0, Closed);

    internal bool HasSignal(int i) => (_kinds[i] & AnySignal) != 0;

    internal bool HasImplicit(int i) => (_kinds[i] & ImplicitSignal) != 0;

    internal bool HasExplicit(int i) => (_kinds[i] & ExplicitSignal) != 0;

    internal bool WasExplored(int i) => (_kinds[i] & ExploredChoice) != 0;

    internal int Users => _users.Count;

    /// <summary>Each user's active days packed as user·2²⁴ + day, sorted, without repeats.</summary>
    internal long[] UserDays()
    {
        var keys = _userDays.ToArray();
        Array.Sort(keys);
        var distinct = 0;
        for (var i = 0; i < keys.Length; i++)
        {
            if (distinct == 0 || keys[i] != keys[distinct - 1])
            {
                keys[distinct++] = keys[i];
            }
        }
        return keys[..distinct];
    }

    /// <summary>Adds the next decision of the log.</summary>
    public void Add(in DecisionOutcome outcome)
    {
        Decisions++;
        First ??= outcome.At;
        Last = outcome.At;
        if (outcome.UserId is { } user)
        {
            AddVisit(user, outcome.At);
        }
        if (!outcome.IsClosed)
        {
            return;
        }
        if (Closed == _reward.Length)
        {
            var size = _reward.Length * 2;
            Array.Resize(ref _reward, size);
            Array.Resize(ref _at, size);
            Array.Resize(ref _closedAt, size);
            Array.Resize(ref _kinds, size);
            Array.Resize(ref _signals, size);
        }
        _reward[Closed] = outcome.Reward;
        _at[Closed] = outcome.At.UtcTicks;
        _closedAt[Closed] = outcome.ClosedAt.UtcTicks;
        _signals[Closed] = outcome.Signals;
        _kinds[Closed] = (byte)((outcome.Signals > 0 ? AnySignal : 0)
            | (outcome.ImplicitSignals > 0 ? ImplicitSignal : 0)
            | (outcome.ExplicitSignals > 0 ? ExplicitSignal : 0)
            | (outcome.Explored ? ExploredChoice : 0));
        Closed++;
    }

    /// <summary>Adds a user-level signal: a visit that made no decision.</summary>
    public void Add(in UserVisit visit) => AddVisit(visit.UserId, visit.At);

    private void AddVisit(string user, DateTimeOffset at)
    {
        if (!_users.TryGetValue(user, out var id))
        {
            id = _users.Count;
            _users.Add(user, id);
            _lastDay.Add(-1);
        }
        // A user's active day, packed as user·2²⁴ + day number (days since 0001-01-01 fit in 22 bits). The log is in
        // time order, so a day is kept only when it differs from the user's last one; UserDays() removes what is left.
        var day = at.UtcTicks / DayTicks;
        if (_lastDay[id] != day)
        {
            _lastDay[id] = day;
            _userDays.Add(((long)id << 24) | day);
        }
    }
}

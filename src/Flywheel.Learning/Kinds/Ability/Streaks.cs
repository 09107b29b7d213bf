using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace Flywheel.Learning;

/// <summary>
/// How a learner's streak counts days (see <see cref="Streaks"/>). Immutable; validated on construction and on
/// <c>with</c>.
/// </summary>
/// <param name="GraceDays">Missed days in a row that neither break a streak nor add to it, from 0 to
/// <see cref="MaxGraceDays"/>; default 0 (the first missed day breaks it).</param>
/// <param name="DayStartHour">The local hour, from 0 to 23, a learner's day starts at: activity before it counts for the
/// previous day (night owls); default 0 (local midnight).</param>
/// <exception cref="ArgumentOutOfRangeException">A value is outside its range; the parameter names the field.</exception>
public sealed record StreakRules(int GraceDays = 0, int DayStartHour = 0)
{
    /// <summary>The largest <see cref="GraceDays"/> allowed.</summary>
    public const int MaxGraceDays = 7;

    /// <summary>The rules used when none are configured: no grace, days start at local midnight.</summary>
    public static StreakRules Default { get; } = new();

    private readonly int _graceDays = CheckGraceDays(GraceDays);
    private readonly int _dayStartHour = CheckDayStartHour(DayStartHour);

    /// <summary>Missed days in a row that neither break a streak nor add to it, from 0 to <see cref="MaxGraceDays"/>.</summary>
    /// <value>Default 0: a streak breaks on the first missed day.</value>
    public int GraceDays { get => _graceDays; init => _graceDays = CheckGraceDays(value); }

    /// <summary>The local hour, from 0 to 23, a learner's day starts at: activity before it counts for the previous day.</summary>
    /// <value>Default 0: days start at local midnight.</value>
    public int DayStartHour { get => _dayStartHour; init => _dayStartHour = CheckDayStartHour(value); }

    private static int CheckGraceDays(int value) => value is >= 0 and <= MaxGraceDays
        ? value
        : throw new ArgumentOutOfRangeException(nameof(GraceDays), value, $"must be from 0 to {MaxGraceDays}");

    private static int CheckDayStartHour(int value) => value is >= 0 and <= 23
        ? value
        : throw new ArgumentOutOfRangeException(nameof(DayStartHour), value, "must be from 0 to 23");
}

/// <summary>
/// A learner's streak as stored between activities; <c>default</c> is a learner with no activity. Produced by
/// <see cref="Streaks.Record"/>, read with <see cref="Streaks.Read(StreakState, DateTimeOffset, StreakRules)"/>, saved
/// with <see cref="Write"/> and <see cref="Read"/>.
/// </summary>
/// <param name="Current">The streak at the last active day, in learner days; whether it is still alive depends on the
/// reading time (<see cref="Streaks.Read(StreakState, DateTimeOffset, StreakRules)"/>).</param>
/// <param name="Best">The longest streak reached.</param>
/// <param name="LastActiveDay">The latest learner day with activity; null before any.</param>
/// <param name="ActiveDays">Distinct learner days with activity (days that advanced <paramref name="LastActiveDay"/>).</param>
/// <param name="TimeZone">The IANA zone of the last recorded activity; null is UTC.</param>
/// <param name="FirstActiveDay">The first learner day with activity; null before any.</param>
public readonly record struct StreakState(
    int Current,
    int Best,
    DateOnly? LastActiveDay,
    int ActiveDays,
    string? TimeZone,
    DateOnly? FirstActiveDay)
{
    private const byte FormatVersion = 1;
    private const byte HasLastDay = 1, HasFirstDay = 2, HasTimeZone = 4;

    /// <summary>
    /// Writes the state compactly: a version byte, a flags byte, 7-bit encoded counts and day numbers, and the zone id.
    /// </summary>
    public void Write(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var flags = (byte)((LastActiveDay is null ? 0 : HasLastDay)
            | (FirstActiveDay is null ? 0 : HasFirstDay)
            | (TimeZone is null ? 0 : HasTimeZone));
        writer.Write(FormatVersion);
        writer.Write(flags);
        writer.Write7BitEncodedInt(Current);
        writer.Write7BitEncodedInt(Best);
        writer.Write7BitEncodedInt(ActiveDays);
        if (LastActiveDay is { } last)
        {
            writer.Write7BitEncodedInt(last.DayNumber);
        }
        if (FirstActiveDay is { } first)
        {
            writer.Write7BitEncodedInt(first.DayNumber);
        }
        if (TimeZone is not null)
        {
            writer.Write(TimeZone);
        }
    }

    /// <summary>Reads a state written by <see cref="Write"/>.</summary>
    /// <exception cref="InvalidDataException">The version is unknown or the values are inconsistent.</exception>
    public static StreakState Read(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var version = reader.ReadByte();
        if (version != FormatVersion)
        {
            throw new InvalidDataException($"Unknown streak state version {version}.");
        }
        var flags = reader.ReadByte();
        var current = reader.Read7BitEncodedInt();
        var best = reader.Read7BitEncodedInt();
        var activeDays = reader.Read7BitEncodedInt();
        var last = (flags & HasLastDay) != 0 ? Day(reader.Read7BitEncodedInt()) : (DateOnly?)null;
        var first = (flags & HasFirstDay) != 0 ? Day(reader.Read7BitEncodedInt()) : (DateOnly?)null;
        var zone = (flags & HasTimeZone) != 0 ? reader.ReadString() : null;
        var consistent = last is null
            ? current == 0 && best == 0 && activeDays == 0 && first is null
            : current >= 1 && current <= best && best <= activeDays && first is { } f && f <= last;
        if ((flags & ~(HasLastDay | HasFirstDay | HasTimeZone)) != 0 || !consistent)
        {
            throw new InvalidDataException("Inconsistent streak state.");
        }
        return new(current, best, last, activeDays, zone, first);
    }

    private static DateOnly Day(int dayNumber) => dayNumber >= DateOnly.MinValue.DayNumber && dayNumber <= DateOnly.MaxValue.DayNumber
        ? DateOnly.FromDayNumber(dayNumber)
        : throw new InvalidDataException($"Day number {dayNumber} is out of range.");
}

/// <summary>A learner's streak as seen at a given time.</summary>
/// <param name="Current">The streak if still alive at the reading time, else 0.</param>
/// <param name="Best">The longest streak reached.</param>
/// <param name="ActiveDays">Distinct learner days with activity.</param>
/// <param name="LastActiveDay">The latest learner day with activity; null before any.</param>
/// <param name="AtRisk">The streak is alive but the learner has no activity yet on their current day.</param>
/// <param name="TimeZone">The zone the reading used (the last recorded one); null is UTC.</param>
public readonly record struct StreakReading(
    int Current,
    int Best,
    int ActiveDays,
    DateOnly? LastActiveDay,
    bool AtRisk,
    string? TimeZone);

/// <summary>
/// Learner streaks (Duolingo-style) for a tutoring loop. Pure and deterministic: time is always passed in, no clock is
/// read. Thread-safe (time zone lookups are cached in a concurrent dictionary).
/// <list type="bullet">
/// <item>A learner day is the local calendar date in the learner's IANA zone (null is UTC) at the activity, shifted by
/// <see cref="StreakRules.DayStartHour"/>: activity before that local hour counts for the previous day.</item>
/// <item>Each activity uses the zone the learner had at that activity (a traveller's days follow them); the state keeps
/// the zone of the last recorded activity.</item>
/// <item>The streak counts consecutive learner days with activity ending at the last active day; several activities on
/// one day count once.</item>
/// <item>Up to <see cref="StreakRules.GraceDays"/> missed days in a row keep the streak without adding to it; a longer gap
/// restarts it at 1.</item>
/// <item>Activity on a day before the last active day (out-of-order arrival, or a traveller crossing the date line
/// westwards) is ignored: it changes neither the streak, the active days nor the zone.</item>
/// <item>Read at a time <c>now</c>, the streak is alive while the days from the last active day to the learner's day at
/// <c>now</c> (in the last zone) are at most <c>GraceDays + 1</c>; otherwise it reads 0. It is at risk when alive with no
/// activity yet today. The best streak is kept.</item>
/// </list>
/// </summary>
public static class Streaks
{
    private static readonly ConcurrentDictionary<string, TimeZoneInfo> Zones = new(StringComparer.Ordinal);

    /// <summary>Whether <paramref name="id"/> is a time zone id this machine knows (an IANA id such as <c>Asia/Tokyo</c>).</summary>
    public static bool IsValidTimeZone(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        return TryFindZone(id, out _);
    }

    /// <summary>
    /// The learner day of <paramref name="at"/>: the local date in <paramref name="timeZone"/> (null is UTC), the previous
    /// date when the local hour is before <see cref="StreakRules.DayStartHour"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The zone id is unknown.</exception>
    public static DateOnly LearnerDay(DateTimeOffset at, string? timeZone, StreakRules rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        var local = timeZone is null ? at.UtcDateTime : TimeZoneInfo.ConvertTime(at, Zone(timeZone)).DateTime;
        var day = DateOnly.FromDateTime(local);
        return local.Hour < rules.DayStartHour ? day.AddDays(-1) : day;
    }

    /// <summary>
    /// Records one activity at <paramref name="at"/>, made in <paramref name="timeZone"/> (null is UTC), and returns the
    /// new state. Validate client-supplied zones first with <see cref="IsValidTimeZone"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The zone id is unknown.</exception>
    public static StreakState Record(StreakState state, DateTimeOffset at, string? timeZone, StreakRules rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        var day = LearnerDay(at, timeZone, rules);
        if (state.LastActiveDay is not { } last)
        {
            return new(1, Math.Max(state.Best, 1), day, 1, timeZone, day);
        }
        var gap = day.DayNumber - last.DayNumber;
        if (gap < 0)
        {
            return state;
        }
        if (gap == 0)
        {
            return state with { TimeZone = timeZone };
        }
        var current = gap - 1 <= rules.GraceDays ? state.Current + 1 : 1;
        return state with
        {
            Current = current,
            Best = Math.Max(state.Best, current),
            LastActiveDay = day,
            ActiveDays = state.ActiveDays + 1,
            TimeZone = timeZone,
        };
    }

    /// <summary>
    /// The streak as seen at <paramref name="now"/> in the learner's last zone: alive while at most
    /// <c>GraceDays + 1</c> learner days have passed since the last active day (at risk if any have), else 0.
    /// </summary>
    /// <exception cref="ArgumentException">The state's zone id is unknown.</exception>
    public static StreakReading Read(StreakState state, DateTimeOffset now, StreakRules rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        if (state.LastActiveDay is not { } last)
        {
            return new(0, state.Best, state.ActiveDays, null, false, state.TimeZone);
        }
        var since = LearnerDay(now, state.TimeZone, rules).DayNumber - last.DayNumber;
        var alive = since <= rules.GraceDays + 1;
        return new(alive ? state.Current : 0, state.Best, state.ActiveDays, last, alive && since > 0, state.TimeZone);
    }

    private static TimeZoneInfo Zone(string id)
        => TryFindZone(id, out var zone)
            ? zone
            : throw new ArgumentException($"Unknown time zone '{id}'; check it with Streaks.IsValidTimeZone.", "timeZone");

    // Only known zones are cached, so unknown ids sent by clients cannot grow the cache.
    private static bool TryFindZone(string id, [NotNullWhen(true)] out TimeZoneInfo? zone)
    {
        if (Zones.TryGetValue(id, out zone))
        {
            return true;
        }
        if (string.IsNullOrWhiteSpace(id) || !TimeZoneInfo.TryFindSystemTimeZoneById(id, out zone))
        {
            return false;
        }
        zone = Zones.GetOrAdd(id, zone);
        return true;
    }
}

using Flywheel.Learning;

namespace Flywheel.Learning.Tests.Ability;

public class StreakTests
{
    private static readonly StreakRules NoGrace = StreakRules.Default;

    private static DateTimeOffset Utc(int year, int month, int day, int hour = 12, int minute = 0)
        => new(year, month, day, hour, minute, 0, TimeSpan.Zero);

    private static DateOnly Day(int year, int month, int day) => new(year, month, day);

    private static StreakState RecordAll(StreakRules rules, string? zone, params DateTimeOffset[] activity)
        => activity.Aggregate(default(StreakState), (state, at) => Streaks.Record(state, at, zone, rules));

    [Fact]
    public void Record_ConsecutiveDays_CountsEachDay()
    {
        var state = RecordAll(NoGrace, null, Utc(2024, 3, 1), Utc(2024, 3, 2), Utc(2024, 3, 3));

        Assert.Equal(new StreakState(3, 3, Day(2024, 3, 3), 3, null, Day(2024, 3, 1)), state);
    }

    [Fact]
    public void Record_SameDayRepeats_CountOnce()
    {
        var state = RecordAll(NoGrace, null, Utc(2024, 3, 1, 0, 0), Utc(2024, 3, 1, 9), Utc(2024, 3, 1, 23, 59));

        Assert.Equal(new StreakState(1, 1, Day(2024, 3, 1), 1, null, Day(2024, 3, 1)), state);
    }

    [Fact]
    public void Record_FirstActivity_StartsAtOne()
    {
        var state = Streaks.Record(default, Utc(2024, 3, 1), "Asia/Tokyo", NoGrace);

        Assert.Equal(new StreakState(1, 1, Day(2024, 3, 1), 1, "Asia/Tokyo", Day(2024, 3, 1)), state);
    }

    [Theory]
    [InlineData(0, 0, 3)]
    [InlineData(0, 1, 1)]
    [InlineData(1, 1, 3)]
    [InlineData(1, 2, 1)]
    [InlineData(7, 7, 3)]
    [InlineData(7, 8, 1)]
    public void Record_GapAfterTwoDays_GraceKeepsTheStreakWithoutAddingElseRestarts(int grace, int missed, int expected)
    {
        var rules = new StreakRules(GraceDays: grace);
        var state = RecordAll(rules, null, Utc(2024, 3, 1), Utc(2024, 3, 2), Utc(2024, 3, 3 + missed));

        Assert.Equal(expected, state.Current);
        Assert.Equal(Math.Max(2, expected), state.Best);
        Assert.Equal(3, state.ActiveDays);
        Assert.Equal(Day(2024, 3, 3 + missed), state.LastActiveDay);
    }

    [Fact]
    public void Record_GraceDaysThenPractice_MissedDaysNeverAdd()
    {
        var rules = new StreakRules(GraceDays: 2);
        // Active on the 1st, 3rd, 6th and 7th: gaps of one and two missed days, both within grace.
        var state = RecordAll(rules, null, Utc(2024, 3, 1), Utc(2024, 3, 3), Utc(2024, 3, 6), Utc(2024, 3, 7));

        Assert.Equal(4, state.Current);
        Assert.Equal(4, state.ActiveDays);
    }

    [Fact]
    public void LearnerDay_2330Utc_NextDayInTokyoSameDayInNewYork()
    {
        var at = Utc(2024, 3, 1, 23, 30);

        Assert.Equal(Day(2024, 3, 1), Streaks.LearnerDay(at, null, NoGrace));
        Assert.Equal(Day(2024, 3, 1), Streaks.LearnerDay(at, "Etc/UTC", NoGrace));
        Assert.Equal(Day(2024, 3, 2), Streaks.LearnerDay(at, "Asia/Tokyo", NoGrace));
        Assert.Equal(Day(2024, 3, 1), Streaks.LearnerDay(at, "America/New_York", NoGrace));
    }

    [Fact]
    public void LearnerDay_AcrossTheDateLine_AucklandADayAheadOfLosAngeles()
    {
        // 20:00 UTC in June: 08:00 on the 16th in Auckland (NZST, +12), 13:00 on the 15th in Los Angeles (PDT, -7).
        var at = Utc(2024, 6, 15, 20);

        Assert.Equal(Day(2024, 6, 16), Streaks.LearnerDay(at, "Pacific/Auckland", NoGrace));
        Assert.Equal(Day(2024, 6, 15), Streaks.LearnerDay(at, "America/Los_Angeles", NoGrace));
    }

    [Fact]
    public void Record_SameInstantsAcrossTheDateLine_TwoDaysInAucklandOneInLosAngeles()
    {
        // 23:00 and 01:00 in Auckland (midnight between them); 04:00 and 06:00 the same day in Los Angeles.
        DateTimeOffset[] activity = [Utc(2024, 6, 15, 11), Utc(2024, 6, 15, 13)];

        var auckland = RecordAll(NoGrace, "Pacific/Auckland", activity);
        var losAngeles = RecordAll(NoGrace, "America/Los_Angeles", activity);

        Assert.Equal(new StreakState(2, 2, Day(2024, 6, 16), 2, "Pacific/Auckland", Day(2024, 6, 15)), auckland);
        Assert.Equal(new StreakState(1, 1, Day(2024, 6, 15), 1, "America/Los_Angeles", Day(2024, 6, 15)), losAngeles);
    }

    [Theory]
    // Spring forward, Sunday 31 March 2024 (02:00 CET -> 03:00 CEST): a 23-hour day from 23:00Z to 22:00Z.
    [InlineData("2024-03-30T22:59:00Z", "2024-03-30")]
    [InlineData("2024-03-30T23:00:00Z", "2024-03-31")]
    [InlineData("2024-03-31T00:59:00Z", "2024-03-31")] // 01:59 CET
    [InlineData("2024-03-31T01:00:00Z", "2024-03-31")] // 03:00 CEST
    [InlineData("2024-03-31T21:59:00Z", "2024-03-31")]
    [InlineData("2024-03-31T22:00:00Z", "2024-04-01")]
    // Fall back, Sunday 27 October 2024 (03:00 CEST -> 02:00 CET): a 25-hour day from 22:00Z to 23:00Z the next day.
    [InlineData("2024-10-26T21:59:00Z", "2024-10-26")]
    [InlineData("2024-10-26T22:00:00Z", "2024-10-27")]
    [InlineData("2024-10-27T00:30:00Z", "2024-10-27")] // 02:30 CEST
    [InlineData("2024-10-27T01:30:00Z", "2024-10-27")] // 02:30 CET, the repeated hour
    [InlineData("2024-10-27T22:59:00Z", "2024-10-27")]
    [InlineData("2024-10-27T23:00:00Z", "2024-10-28")]
    public void LearnerDay_ParisDstTransitions_FollowsLocalMidnight(string instant, string expected)
    {
        var at = DateTimeOffset.Parse(instant, System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal(DateOnly.Parse(expected, System.Globalization.CultureInfo.InvariantCulture),
            Streaks.LearnerDay(at, "Europe/Paris", NoGrace));
    }

    [Fact]
    public void Record_ParisDstTransitionDays_CountOnceEach()
    {
        var spring = RecordAll(NoGrace, "Europe/Paris",
            Utc(2024, 3, 30, 22, 30), Utc(2024, 3, 30, 23, 30), Utc(2024, 3, 31, 21, 30), Utc(2024, 3, 31, 22, 30));
        var autumn = RecordAll(NoGrace, "Europe/Paris",
            Utc(2024, 10, 26, 21, 30), Utc(2024, 10, 26, 22, 30), Utc(2024, 10, 27, 0, 30), Utc(2024, 10, 27, 1, 30),
            Utc(2024, 10, 27, 22, 30), Utc(2024, 10, 27, 23, 30));

        Assert.Equal(new StreakState(3, 3, Day(2024, 4, 1), 3, "Europe/Paris", Day(2024, 3, 30)), spring);
        Assert.Equal(new StreakState(3, 3, Day(2024, 10, 28), 3, "Europe/Paris", Day(2024, 10, 26)), autumn);
    }

    [Fact]
    public void LearnerDay_DayStartHour4_0200LocalCountsForThePreviousDay()
    {
        var nightOwl = new StreakRules(DayStartHour: 4);
        var tokyo = TimeSpan.FromHours(9);

        Assert.Equal(Day(2024, 3, 1), Streaks.LearnerDay(new(2024, 3, 2, 2, 0, 0, tokyo), "Asia/Tokyo", nightOwl));
        Assert.Equal(Day(2024, 3, 1), Streaks.LearnerDay(new(2024, 3, 2, 3, 59, 0, tokyo), "Asia/Tokyo", nightOwl));
        Assert.Equal(Day(2024, 3, 2), Streaks.LearnerDay(new(2024, 3, 2, 4, 0, 0, tokyo), "Asia/Tokyo", nightOwl));
        Assert.Equal(Day(2024, 3, 2), Streaks.LearnerDay(new(2024, 3, 2, 2, 0, 0, tokyo), "Asia/Tokyo", NoGrace));
        // The shift applies to local time, not UTC: 02:00 UTC is 11:00 in Tokyo.
        Assert.Equal(Day(2024, 3, 1), Streaks.LearnerDay(Utc(2024, 3, 2, 2), null, nightOwl));
        Assert.Equal(Day(2024, 3, 2), Streaks.LearnerDay(Utc(2024, 3, 2, 2), "Asia/Tokyo", nightOwl));
    }

    [Fact]
    public void RecordAndRead_DayStartHour4_NightOwlKeepsTheStreak()
    {
        var nightOwl = new StreakRules(DayStartHour: 4);
        var tokyo = TimeSpan.FromHours(9);
        // 22:00 on the 1st and 02:00 on the 2nd are one learner day; 20:00 on the 2nd is the next.
        var state = RecordAll(nightOwl, "Asia/Tokyo",
            new(2024, 3, 1, 22, 0, 0, tokyo), new(2024, 3, 2, 2, 0, 0, tokyo), new(2024, 3, 2, 20, 0, 0, tokyo));

        Assert.Equal(new StreakState(2, 2, Day(2024, 3, 2), 2, "Asia/Tokyo", Day(2024, 3, 1)), state);
        // 03:00 on the 4th is still the learner's 3rd: at risk, not broken (it would be broken with midnight days).
        var lateNight = new DateTimeOffset(2024, 3, 4, 3, 0, 0, tokyo);
        Assert.Equal(new StreakReading(2, 2, 2, Day(2024, 3, 2), true, "Asia/Tokyo"), Streaks.Read(state, lateNight, nightOwl));
        Assert.Equal(0, Streaks.Read(state, lateNight, NoGrace).Current);
        Assert.Equal(0, Streaks.Read(state, new DateTimeOffset(2024, 3, 4, 4, 0, 0, tokyo), nightOwl).Current);
    }

    [Fact]
    public void Record_TravellerTokyoToNewYork_DaysFollowTheLearner()
    {
        // 20:00 on 10 June in Tokyo; after the flight, 22:00 on 10 June in New York (11:00 on the 11th in Tokyo).
        var state = Streaks.Record(default, Utc(2024, 6, 10, 11), "Asia/Tokyo", NoGrace);
        state = Streaks.Record(state, Utc(2024, 6, 11, 2), "America/New_York", NoGrace);

        Assert.Equal(new StreakState(1, 1, Day(2024, 6, 10), 1, "America/New_York", Day(2024, 6, 10)), state);
        Assert.Equal(2, Streaks.Record(state, Utc(2024, 6, 11, 2), "Asia/Tokyo", NoGrace).Current);

        // 21:00 on 11 June in New York is the next day; read the next morning in New York, it is at risk.
        state = Streaks.Record(state, Utc(2024, 6, 12, 1), "America/New_York", NoGrace);
        Assert.Equal(new StreakState(2, 2, Day(2024, 6, 11), 2, "America/New_York", Day(2024, 6, 10)), state);
        Assert.Equal(new StreakReading(2, 2, 2, Day(2024, 6, 11), true, "America/New_York"),
            Streaks.Read(state, Utc(2024, 6, 12, 14), NoGrace));
    }

    [Fact]
    public void Record_TravellerAucklandToLosAngeles_EarlierLocalDayIsIgnoredUntilTheNextOne()
    {
        // 09:00 on Tuesday 11 June in Auckland; after the flight, 20:00 on Monday 10 June in Los Angeles.
        var auckland = Streaks.Record(default, Utc(2024, 6, 10, 21), "Pacific/Auckland", NoGrace);
        var monday = Streaks.Record(auckland, Utc(2024, 6, 11, 3), "America/Los_Angeles", NoGrace);

        Assert.Equal(auckland, monday);

        // 18:00 on Tuesday in Los Angeles: the same learner day as the Auckland one; the zone moves with them.
        var tuesday = Streaks.Record(monday, Utc(2024, 6, 12, 1), "America/Los_Angeles", NoGrace);
        Assert.Equal(new StreakState(1, 1, Day(2024, 6, 11), 1, "America/Los_Angeles", Day(2024, 6, 11)), tuesday);
    }

    [Fact]
    public void Record_OutOfOrderActivity_Ignored()
    {
        var grace = new StreakRules(GraceDays: 1);
        var state = RecordAll(grace, null, Utc(2024, 6, 10), Utc(2024, 6, 12));

        var late = Streaks.Record(state, Utc(2024, 6, 11), "Asia/Tokyo", grace);
        var veryLate = Streaks.Record(state, Utc(2024, 5, 1), null, grace);

        Assert.Equal(new StreakState(2, 2, Day(2024, 6, 12), 2, null, Day(2024, 6, 10)), state);
        Assert.Equal(state, late);
        Assert.Equal(state, veryLate);
    }

    [Fact]
    public void Read_NoActivity_Zero()
    {
        Assert.Equal(new StreakReading(0, 0, 0, null, false, null), Streaks.Read(default, Utc(2024, 6, 10), NoGrace));
    }

    [Theory]
    [InlineData(0, 10, 1, false)] // later the same day
    [InlineData(0, 11, 1, true)] // yesterday's streak is at risk today
    [InlineData(0, 12, 0, false)] // the day after, broken
    [InlineData(1, 12, 1, true)] // one grace day
    [InlineData(1, 13, 0, false)]
    [InlineData(7, 18, 1, true)]
    [InlineData(7, 19, 0, false)]
    [InlineData(0, 9, 1, false)] // a reading before the last activity
    public void Read_DaysSinceLastActive_AliveUpToGracePlusOne(int grace, int readDay, int expected, bool atRisk)
    {
        var rules = new StreakRules(GraceDays: grace);
        var state = RecordAll(rules, null, Utc(2024, 6, 10, 8));

        var reading = Streaks.Read(state, Utc(2024, 6, readDay, 23, 59), rules);

        Assert.Equal(new StreakReading(expected, 1, 1, Day(2024, 6, 10), atRisk, null), reading);
    }

    [Fact]
    public void Read_UsesTheLearnersLastZone()
    {
        var state = Streaks.Record(default, Utc(2024, 6, 10, 3), "Asia/Tokyo", NoGrace); // 12:00 on the 10th in Tokyo

        // 16:00 UTC on the 11th is 01:00 on the 12th in Tokyo: broken there, although UTC is only a day later.
        Assert.Equal(1, Streaks.Read(state, Utc(2024, 6, 11, 14, 59), NoGrace).Current);
        Assert.Equal(0, Streaks.Read(state, Utc(2024, 6, 11, 15), NoGrace).Current);
    }

    [Fact]
    public void Read_AfterABreak_KeepsTheBestStreak()
    {
        var state = RecordAll(NoGrace, null, Utc(2024, 3, 1), Utc(2024, 3, 2), Utc(2024, 3, 3), Utc(2024, 3, 6));

        Assert.Equal(new StreakState(1, 3, Day(2024, 3, 6), 4, null, Day(2024, 3, 1)), state);
        Assert.Equal(new StreakReading(0, 3, 4, Day(2024, 3, 6), false, null), Streaks.Read(state, Utc(2024, 3, 9), NoGrace));

        // Four consecutive days later: a new best.
        for (var d = 10; d <= 13; d++)
        {
            state = Streaks.Record(state, Utc(2024, 3, d), null, NoGrace);
        }
        Assert.Equal((4, 4, 8), (state.Current, state.Best, state.ActiveDays));
    }

    [Theory]
    [InlineData(-1, 0, "GraceDays")]
    [InlineData(8, 0, "GraceDays")]
    [InlineData(0, -1, "DayStartHour")]
    [InlineData(0, 24, "DayStartHour")]
    public void StreakRules_OutOfRange_ThrowsNamingTheField(int grace, int dayStart, string field)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new StreakRules(grace, dayStart));
        Assert.Equal(field, error.ParamName);
    }

    [Fact]
    public void StreakRules_With_Validates()
    {
        var edges = new StreakRules(7, 23);

        Assert.Equal((7, 23), (edges.GraceDays, edges.DayStartHour));
        Assert.Equal(new StreakRules(0, 0), StreakRules.Default);
        Assert.Equal("GraceDays", Assert.Throws<ArgumentOutOfRangeException>(() => edges with { GraceDays = 8 }).ParamName);
        Assert.Equal("DayStartHour", Assert.Throws<ArgumentOutOfRangeException>(() => edges with { DayStartHour = 24 }).ParamName);
    }

    [Fact]
    public void IsValidTimeZone_IanaIds()
    {
        Assert.True(Streaks.IsValidTimeZone("Asia/Tokyo"));
        Assert.True(Streaks.IsValidTimeZone("America/New_York"));
        Assert.True(Streaks.IsValidTimeZone("UTC"));
        Assert.False(Streaks.IsValidTimeZone("Mars/Olympus_Mons"));
        Assert.False(Streaks.IsValidTimeZone(""));
        Assert.False(Streaks.IsValidTimeZone(" "));
        Assert.Throws<ArgumentNullException>(() => Streaks.IsValidTimeZone(null!));
    }

    [Fact]
    public void Record_UnknownZone_ThrowsNamingTheId()
    {
        var error = Assert.Throws<ArgumentException>(() => Streaks.Record(default, Utc(2024, 6, 10), "Mars/Olympus_Mons", NoGrace));

        Assert.Contains("Mars/Olympus_Mons", error.Message, StringComparison.Ordinal);
        Assert.Equal("timeZone", error.ParamName);
        Assert.Throws<ArgumentException>(() => Streaks.LearnerDay(Utc(2024, 6, 10), "", NoGrace));
        Assert.Throws<ArgumentException>(() => Streaks.Read(default(StreakState) with { LastActiveDay = Day(2024, 6, 10), TimeZone = "Nowhere" },
            Utc(2024, 6, 10), NoGrace));
    }

    [Fact]
    public void Record_NullRules_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => Streaks.Record(default, Utc(2024, 6, 10), null, null!));
        Assert.Throws<ArgumentNullException>(() => Streaks.Read(default, Utc(2024, 6, 10), null!));
    }

    public static TheoryData<StreakState> States => new()
    {
        default(StreakState),
        new StreakState(1, 1, Day(2024, 6, 10), 1, null, Day(2024, 6, 10)),
        new StreakState(12, 40, Day(2024, 6, 10), 300, "America/Los_Angeles", Day(2023, 1, 1)),
        new StreakState(1, 1, DateOnly.MaxValue, 1, "Pacific/Auckland", DateOnly.MinValue),
    };

    [Theory]
    [MemberData(nameof(States))]
    public void Snapshot_RoundTrip_Equal(StreakState state)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            state.Write(writer);
            state.Write(writer);
        }
        stream.Position = 0;
        using var reader = new BinaryReader(stream);

        Assert.Equal(state, StreakState.Read(reader));
        Assert.Equal(state, StreakState.Read(reader));
        Assert.Equal(stream.Length, stream.Position);
    }

    [Fact]
    public void Snapshot_Compact_FewBytes()
    {
        var state = RecordAll(NoGrace, null, Utc(2024, 6, 10), Utc(2024, 6, 11));

        Assert.Equal(11, Bytes(state).Length); // version, flags, three counts, two 3-byte day numbers
        Assert.Equal(5, Bytes(default).Length);
    }

    [Fact]
    public void Snapshot_UnknownVersionOrInconsistent_Throws()
    {
        var bytes = Bytes(new StreakState(2, 2, Day(2024, 6, 11), 2, null, Day(2024, 6, 10)));
        var badVersion = (byte[])bytes.Clone();
        badVersion[0] = 9;
        var currentAboveBest = (byte[])bytes.Clone();
        currentAboveBest[2] = 3;

        Assert.Throws<InvalidDataException>(() => StreakState.Read(new BinaryReader(new MemoryStream(badVersion))));
        Assert.Throws<InvalidDataException>(() => StreakState.Read(new BinaryReader(new MemoryStream(currentAboveBest))));
        Assert.Throws<EndOfStreamException>(() => StreakState.Read(new BinaryReader(new MemoryStream(bytes[..^1]))));
    }

    private static byte[] Bytes(StreakState state)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream))
        {
            state.Write(writer);
        }
        return stream.ToArray();
    }
}

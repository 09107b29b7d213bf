using System.Globalization;
using System.Text.Json;
using Xunit.Abstractions;

namespace Flywheel.Learning.Tests.Ability;

/// <summary>
/// FSRS-6 against hand-worked examples A–D (docs/ability.md, "Reviews"), the published FSRS-6 vectors, and against ts-fsrs 5.4.2 itself, run under Node.js
/// on a thousand seeded review histories (tests/fsrs/reference.mjs).
/// </summary>
public sealed class FsrsTests(ITestOutputHelper output)
{
    private const double Exact = 1e-9;
    private static readonly DateTimeOffset Noon = new(2024, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly MemoryState AfterGood = new(2.11810397, 2.3065);

    // --- Rounding -------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(2.5, 3)]
    [InlineData(-2.5, -2)]
    [InlineData(-0.5, 0)]
    [InlineData(0.49999999999999994, 0)]
    [InlineData(-477163070.5, -477163070)]
    [InlineData(1.4999999999999998, 1)]
    [InlineData(-1.5000000000000002, -2)]
    [InlineData(4503599627370497, 4503599627370497)]
    public void JsRound_RoundsHalvesUpLikeJavaScript(double x, double expected)
        => Assert.Equal(expected, Fsrs.JsRound(x));

    // --- Worked example A: a new card rated Good ------------------------------------------------------------------

    [Fact]
    public void Next_NewCard_GivesInitialDifficultyAndStability()
    {
        double[] difficulty = [6.4133, 5.11217071, 2.11810397, 1];
        for (var grade = 1; grade <= 4; grade++)
        {
            var state = Fsrs.Default.Next(null, 0, grade);
            Assert.Equal(difficulty[grade - 1], state.Difficulty, Exact);
            Assert.Equal(FsrsParameters.DefaultWeights[grade - 1], state.Stability);
            Assert.Equal(state, Fsrs.Default.Next(default(MemoryState), 0, grade));
        }
    }

    [Fact]
    public void Review_NewCard_OrdersTheFourIntervals()
    {
        // Raw intervals are [1, 1, 2, 8]; each grade must wait at least a day longer than the one below.
        int[] days = [1, 2, 3, 8];
        for (var grade = 1; grade <= 4; grade++)
        {
            var card = Fsrs.Default.Review(null, Noon, grade);
            Assert.Equal(Fsrs.Default.Next(null, 0, grade), card.Memory);
            Assert.Equal(Noon, card.LastReview);
            Assert.Equal(Noon.AddDays(days[grade - 1]), card.Due);
            Assert.Equal(1, card.Reviews);
            Assert.Equal(0, card.Lapses);
        }
        Assert.Equal(2.11810397, Fsrs.Default.Review(null, Noon, Fsrs.Good).Memory.Difficulty, Exact);
    }

    // --- Worked example B: reviewed 3 days later ------------------------------------------------------------------

    [Fact]
    public void Retrievability_ThreeDaysAfterGood_IsExampleB()
    {
        Assert.Equal(0.88094796, Fsrs.Default.Retrievability(3, 2.3065), Exact);
        Assert.Equal(0.9, Fsrs.Default.Retrievability(2.3065, 2.3065), Exact);
        Assert.Equal(1, Fsrs.Default.Retrievability(0, 2.3065));
    }

    [Theory]
    [InlineData(Fsrs.Again, 7.39450274, 0.63685069, 1)]
    [InlineData(Fsrs.Hard, 4.75285849, 9.23487052, 9)]
    [InlineData(Fsrs.Good, 2.11121424, 13.82690327, 14)]
    [InlineData(Fsrs.Easy, 1, 23.88306328, 24)]
    public void Next_ThreeDaysAfterGood_IsExampleB(int grade, double difficulty, double stability, int days)
    {
        var state = Fsrs.Default.Next(AfterGood, 3, grade);
        Assert.Equal(difficulty, state.Difficulty, Exact);
        Assert.Equal(stability, state.Stability, Exact);

        var first = Fsrs.Default.Review(null, Noon, Fsrs.Good);
        var at = Noon.AddDays(3);
        var card = Fsrs.Default.Review(first, at, grade);
        Assert.Equal(state, card.Memory);
        Assert.Equal(at.AddDays(days), card.Due);
        Assert.Equal(2, card.Reviews);
        Assert.Equal(grade == Fsrs.Again ? 1 : 0, card.Lapses);
        Assert.Equal(0.88094796, Fsrs.Default.Recall(first, at), Exact);
    }

    [Theory]
    [InlineData(0.9, 14)]
    [InlineData(0.95, 6)]
    [InlineData(0.85, 26)]
    [InlineData(0.80, 46)]
    public void Interval_OtherRetentions_IsExampleB(double retention, int days)
        => Assert.Equal(days, new Fsrs(FsrsParameters.Default with { RequestRetention = retention }).Interval(13.82690327));

    // --- Worked example C: same-day review, short-term mode -------------------------------------------------------

    [Theory]
    [InlineData(Fsrs.Again, 7.39450274, 0.77508398)]
    [InlineData(Fsrs.Hard, 4.75285849, 2.3065)]
    [InlineData(Fsrs.Good, 2.11121424, 2.3065)]
    [InlineData(Fsrs.Easy, 1, 3.94605407)]
    public void Next_SameDayShortTerm_IsExampleC(int grade, double difficulty, double stability)
    {
        var state = new Fsrs(FsrsParameters.Default with { EnableShortTerm = true }).Next(AfterGood, 0, grade);
        Assert.Equal(difficulty, state.Difficulty, Exact);
        Assert.Equal(stability, state.Stability, Exact);
    }

    [Fact]
    public void Next_SameDayLongTerm_KeepsStabilityUnlessForgotten()
    {
        Assert.Equal(2.3065, Fsrs.Default.Next(AfterGood, 0, Fsrs.Hard).Stability);
        Assert.Equal(2.3065, Fsrs.Default.Next(AfterGood, 0, Fsrs.Easy).Stability);
        Assert.True(Fsrs.Default.Next(AfterGood, 0, Fsrs.Again).Stability < 2.3065);
    }

    // --- Worked example D: ts-fsrs's FSRS-6 memory-state vectors --------------------------------------------------

    [Theory]
    [InlineData(true, 53.62690465, 53.62691)]
    [InlineData(false, 53.33506455, 53.335106)]
    public void Next_RepoVector_IsExampleD(bool shortTerm, double stability, double published)
    {
        // ts-fsrs's own test checks the published figures (from fsrs-rs) to 4 decimals only: what ts-fsrs 5.4.2
        // computes is `stability` and D = 6.35748708, which the published vector gives as 6.3574867.
        int[] grades = [1, 3, 3, 3, 3, 3];
        int[] days = [0, 0, 1, 3, 8, 21];
        var fsrs = new Fsrs(FsrsParameters.Default with { EnableShortTerm = shortTerm });
        MemoryState? state = null;
        for (var i = 0; i < grades.Length; i++)
        {
            state = fsrs.Next(state, days[i], grades[i]);
        }
        Assert.Equal(stability, state!.Value.Stability, Exact);
        Assert.Equal(6.35748708, state.Value.Difficulty, Exact);
        Assert.Equal(published, state.Value.Stability, 5e-5);
        Assert.Equal(6.3574867, state.Value.Difficulty, 5e-5);

        if (!shortTerm)
        {
            ReviewCard? card = null;
            var at = new DateTimeOffset(2022, 12, 29, 12, 30, 0, TimeSpan.Zero);
            for (var i = 0; i < grades.Length; i++)
            {
                at = at.AddDays(days[i]);
                card = Fsrs.Default.Review(card, at, grades[i]);
            }
            Assert.Equal(state.Value, card!.Value.Memory);
            Assert.Equal(6, card.Value.Reviews);
            Assert.Equal(0, card.Value.Lapses);
        }
    }

    [Fact]
    public void Next_FirstRepeat_IsExampleD()
    {
        double[] difficulty = [6.4133, 5.11217071, 2.11810397, 1];
        Assert.Equal(difficulty, Enumerable.Range(1, 4).Select(g => Fsrs.Default.Next(null, 0, g).Difficulty));
    }

    // --- The scheduler's clock ------------------------------------------------------------------------------------

    [Fact]
    public void ElapsedDays_CountsUtcCalendarDates()
    {
        var lateEvening = new DateTimeOffset(2024, 3, 1, 23, 59, 0, TimeSpan.Zero);
        Assert.Equal(1, Fsrs.ElapsedDays(lateEvening, lateEvening.AddMinutes(2)));
        Assert.Equal(0, Fsrs.ElapsedDays(lateEvening.AddHours(-23), lateEvening));
        // 10:00 in Sydney on 2 March is 23:00 UTC on 1 March.
        var sydney = new DateTimeOffset(2024, 3, 2, 10, 0, 0, TimeSpan.FromHours(11));
        Assert.Equal(0, Fsrs.ElapsedDays(Noon, sydney));
        Assert.Equal(-1, Fsrs.ElapsedDays(Noon, Noon.AddDays(-1)));
    }

    [Fact]
    public void Review_AcrossMidnight_CountsADayButRecallCountsNone()
    {
        var lateEvening = new DateTimeOffset(2024, 3, 1, 23, 59, 0, TimeSpan.Zero);
        var first = Fsrs.Default.Review(null, lateEvening, Fsrs.Good);
        var at = lateEvening.AddMinutes(2);

        Assert.Equal(1, Fsrs.Default.Recall(first, at));
        var r = Fsrs.Default.Retrievability(1, first.Memory.Stability);
        Assert.Equal(Fsrs.Default.Next(first.Memory, 1, Fsrs.Good), Fsrs.Default.Review(first, at, Fsrs.Good).Memory);
        Assert.True(r < 1);
    }

    [Fact]
    public void Review_SameInstantInAnotherOffset_GivesTheSameCard()
    {
        var first = Fsrs.Default.Review(null, Noon, Fsrs.Hard);
        var at = Noon.AddDays(5).AddHours(11);
        var here = Fsrs.Default.Review(first, at, Fsrs.Good);
        var there = Fsrs.Default.Review(first, at.ToOffset(TimeSpan.FromHours(14)), Fsrs.Good);
        Assert.Equal(here.Memory, there.Memory);
        Assert.Equal(here.Due.UtcDateTime, there.Due.UtcDateTime);
    }

    [Fact]
    public void Review_EarlierTheSameDay_CountsZeroDays()
    {
        var first = Fsrs.Default.Review(null, Noon, Fsrs.Good);
        var card = Fsrs.Default.Review(first, Noon.AddHours(-3), Fsrs.Good);
        Assert.Equal(Fsrs.Default.Next(first.Memory, 0, Fsrs.Good), card.Memory);
        Assert.Equal(1, Fsrs.Default.Recall(first, Noon.AddHours(-3)));
    }

    [Theory]
    [InlineData(1.0, 36500)]
    [InlineData(0.9, 1)]
    public void Review_IntervalsCollapsed_StillOrderedByGrade(double retention, int maximum)
    {
        // Retention 1 makes every raw interval 1 day, as does a maximum of 1 day; the ordering spreads them to 1..4.
        var fsrs = new Fsrs(FsrsParameters.Default with { RequestRetention = retention, MaximumInterval = maximum });
        var first = fsrs.Review(null, Noon, Fsrs.Easy);
        var at = first.Due.AddDays(30);
        for (var grade = 1; grade <= 4; grade++)
        {
            Assert.Equal(at.AddDays(grade), fsrs.Review(first, at, grade).Due);
        }
    }

    // --- Validation -----------------------------------------------------------------------------------------------

    [Fact]
    public void Validate_Defaults_Pass()
    {
        FsrsParameters.Default.Validate();
        (FsrsParameters.Default with { EnableShortTerm = true }).Validate();
        Assert.Equal(21, FsrsParameters.DefaultWeights.Count);
        Assert.Equal(0.9, FsrsParameters.Default.RequestRetention);
        Assert.Equal(36500, FsrsParameters.Default.MaximumInterval);
        Assert.False(FsrsParameters.Default.EnableShortTerm);
    }

    [Theory]
    [InlineData(12, 0.3, "w12")]
    [InlineData(4, 0.5, "w4")]
    [InlineData(20, 0.05, "w20")]
    [InlineData(0, double.NaN, "w0")]
    [InlineData(16, double.PositiveInfinity, "w16")]
    public void Validate_WeightOutOfRange_NamesIt(int index, double value, string name)
    {
        var weights = FsrsParameters.DefaultWeights.ToArray();
        weights[index] = value;
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new Fsrs(FsrsParameters.Default with { Weights = weights }));
        Assert.Equal(nameof(FsrsParameters.Weights), error.ParamName);
        Assert.Contains(name + " must lie in", error.Message);
    }

    [Fact]
    public void Validate_W19Zero_OnlyInLongTermMode()
    {
        var weights = FsrsParameters.DefaultWeights.ToArray();
        weights[19] = 0;
        new FsrsParameters { Weights = weights }.Validate();
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new FsrsParameters { Weights = weights, EnableShortTerm = true }.Validate());
        Assert.Contains("w19", error.Message);
    }

    [Theory]
    [InlineData(17)]
    [InlineData(19)]
    [InlineData(22)]
    public void Validate_WrongWeightCount_NamesWeights(int count)
    {
        var weights = new double[count];
        var error = Assert.Throws<ArgumentException>(() => new FsrsParameters { Weights = weights }.Validate());
        Assert.Equal(nameof(FsrsParameters.Weights), error.ParamName);
        Assert.Contains("21 weights", error.Message);
        Assert.Throws<ArgumentNullException>(() => new FsrsParameters { Weights = null! }.Validate());
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-0.1)]
    [InlineData(1.01)]
    [InlineData(double.NaN)]
    public void Validate_RetentionOutsideZeroToOne_NamesIt(double retention)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new FsrsParameters { RequestRetention = retention }.Validate());
        Assert.Equal(nameof(FsrsParameters.RequestRetention), error.ParamName);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    [InlineData(3_650_001)]
    public void Validate_MaximumIntervalOutOfRange_NamesIt(int maximum)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new FsrsParameters { MaximumInterval = maximum }.Validate());
        Assert.Equal(nameof(FsrsParameters.MaximumInterval), error.ParamName);
    }

    [Fact]
    public void Constructor_CopiesTheWeights()
    {
        var weights = FsrsParameters.DefaultWeights.ToArray();
        var fsrs = new Fsrs(new FsrsParameters { Weights = weights });
        weights[20] = 0.5;
        Assert.Equal(0.1542, fsrs.Parameters.Weights[20]);
        Assert.Equal(Fsrs.Default.Retrievability(10, 3), fsrs.Retrievability(10, 3));
    }

    [Fact]
    public void Next_InvalidArguments_Throw()
    {
        Assert.Equal("grade", Assert.Throws<ArgumentOutOfRangeException>(() => Fsrs.Default.Next(AfterGood, 1, 0)).ParamName);
        Assert.Equal("grade", Assert.Throws<ArgumentOutOfRangeException>(() => Fsrs.Default.Next(null, 0, 5)).ParamName);
        Assert.Equal("elapsedDays", Assert.Throws<ArgumentOutOfRangeException>(() => Fsrs.Default.Next(AfterGood, -1, 3)).ParamName);
        Assert.Equal("elapsedDays", Assert.Throws<ArgumentOutOfRangeException>(() => Fsrs.Default.Next(AfterGood, double.NaN, 3)).ParamName);
        Assert.Equal("state", Assert.Throws<ArgumentException>(() => Fsrs.Default.Next(new MemoryState(0.5, 3), 1, 3)).ParamName);
        Assert.Equal("state", Assert.Throws<ArgumentException>(() => Fsrs.Default.Next(new MemoryState(5, 0.0001), 1, 3)).ParamName);
        Assert.Equal("stability", Assert.Throws<ArgumentOutOfRangeException>(() => Fsrs.Default.Retrievability(1, 0)).ParamName);
        Assert.Equal("stability", Assert.Throws<ArgumentOutOfRangeException>(() => Fsrs.Default.Interval(double.NaN)).ParamName);
    }

    [Fact]
    public void Review_InvalidArguments_Throw()
    {
        var first = Fsrs.Default.Review(null, Noon, Fsrs.Good);
        Assert.Equal("at", Assert.Throws<ArgumentOutOfRangeException>(() => Fsrs.Default.Review(first, Noon.AddDays(-1), Fsrs.Good)).ParamName);
        Assert.Equal("grade", Assert.Throws<ArgumentOutOfRangeException>(() => Fsrs.Default.Review(first, Noon, 0)).ParamName);
        Assert.Equal("card", Assert.Throws<ArgumentException>(() => Fsrs.Default.Review(first with { Memory = default }, Noon, 3)).ParamName);
        var shortTerm = new Fsrs(FsrsParameters.Default with { EnableShortTerm = true });
        Assert.Throws<NotSupportedException>(() => shortTerm.Review(null, Noon, Fsrs.Good));
    }

    // --- Conformance with ts-fsrs 5.4.2 ---------------------------------------------------------------------------

    private const double Tolerance = 1e-6;
    private const long Day = 86_400_000;

    private sealed record History(string Name, FsrsParameters? Parameters, DateTimeOffset[] At, int[] Grades);

    private sealed record ReferenceRun(string Version, ReferenceStep[][] Results);

    private sealed record ReferenceStep(int ElapsedDays, double? Retrievability, double Recall, double Stability, double Difficulty,
        int ScheduledDays, long Due, int Reps, int Lapses, ReferenceMemory ShortTerm);

    private sealed record ReferenceMemory(double Stability, double Difficulty);

    [NodeFact]
    public async Task Review_RandomHistories_MatchTsFsrs()
    {
        await NodeReference.EnsureInstalledAsync();
        var histories = new List<History>();
        var random = new Random(20251207);
        for (var i = 0; i < 1000; i++)
        {
            histories.Add(RandomHistory(random, $"random {i}", null));
        }
        for (var i = 0; i < 200; i++)
        {
            histories.Add(RandomHistory(random, $"random parameters {i}", RandomParameters(random)));
        }
        histories.AddRange(EdgeCases());

        using var temp = new TempDirectory("flywheel-fsrs-");
        var input = temp.Write("histories.json", JsonSerializer.Serialize(new
        {
            histories = histories.Select(h => new
            {
                parameters = h.Parameters is { } p
                    ? new { w = p.Weights, requestRetention = p.RequestRetention, maximumInterval = p.MaximumInterval }
                    : null,
                reviews = h.At.Select((at, i) => new { at = at.ToUnixTimeMilliseconds(), grade = h.Grades[i] }),
            }),
        }));
        var resultsPath = temp.File("results.json");
        var run = await NodeReference.RunAsync("node", ["reference.mjs", input, resultsPath]);
        Assert.True(run.ExitCode == 0, $"reference.mjs failed (exit {run.ExitCode}):\n{run.Output}");
        var reference = JsonSerializer.Deserialize<ReferenceRun>(await File.ReadAllTextAsync(resultsPath), new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
        Assert.Equal("v5.4.2 using FSRS-6.0", reference.Version);
        Assert.Equal(histories.Count, reference.Results.Length);

        var compared = 0;
        var calendarDiffers = 0;
        var maxDifference = new SortedDictionary<string, double>(StringComparer.Ordinal);
        // Stops at the first mismatch: later steps build on it.
        void Check(string what, int h, int step, double ours, double theirs, double tolerance)
        {
            var difference = Math.Abs(ours - theirs);
            maxDifference[what] = Math.Max(maxDifference.GetValueOrDefault(what), difference);
            if (!(difference <= tolerance))
            {
                var history = histories[h];
                var reviews = string.Join(", ", history.At.Select((at, i) => $"{at.UtcDateTime:O} grade {history.Grades[i]}"));
                Assert.Fail(string.Create(CultureInfo.InvariantCulture,
                    $"history {h} ({history.Name}) step {step}: {what} is {ours:R} here, {theirs:R} in ts-fsrs (|Δ| = {difference:R}).\nReviews: {reviews}"));
            }
        }

        for (var h = 0; h < histories.Count; h++)
        {
            var history = histories[h];
            var parameters = history.Parameters ?? FsrsParameters.Default;
            var fsrs = new Fsrs(parameters);
            var shortTerm = new Fsrs(parameters with { EnableShortTerm = true });
            Assert.Equal(history.At.Length, reference.Results[h].Length);
            ReviewCard? card = null;
            MemoryState? memory = null;
            for (var step = 0; step < history.At.Length; step++)
            {
                var (at, grade, expected) = (history.At[step], history.Grades[step], reference.Results[h][step]);
                var elapsed = card is { } before ? Fsrs.ElapsedDays(before.LastReview, at) : 0;
                Check("elapsed days", h, step, elapsed, expected.ElapsedDays, 0);
                Check("recall", h, step, card is { } known ? fsrs.Recall(known, at) : 0, expected.Recall, Tolerance);
                if (card is { } reviewed)
                {
                    calendarDiffers += Math.Floor((at - reviewed.LastReview).TotalMilliseconds / Day) != elapsed ? 1 : 0;
                    Check("retrievability", h, step, fsrs.Retrievability(elapsed, reviewed.Memory.Stability), expected.Retrievability ?? double.NaN, Tolerance);
                }

                card = fsrs.Review(card, at, grade);
                Check("stability", h, step, card.Value.Memory.Stability, expected.Stability, Tolerance);
                Check("difficulty", h, step, card.Value.Memory.Difficulty, expected.Difficulty, Tolerance);
                Check("scheduled days", h, step, (card.Value.Due - at).TotalDays, expected.ScheduledDays, 0);
                Check("due (Unix ms)", h, step, card.Value.Due.ToUnixTimeMilliseconds(), expected.Due, 0);
                Check("reviews", h, step, card.Value.Reviews, expected.Reps, 0);
                Check("lapses", h, step, card.Value.Lapses, expected.Lapses, 0);

                memory = shortTerm.Next(memory, elapsed, grade);
                Check("short-term stability", h, step, memory.Value.Stability, expected.ShortTerm.Stability, Tolerance);
                Check("short-term difficulty", h, step, memory.Value.Difficulty, expected.ShortTerm.Difficulty, Tolerance);
                compared++;
            }
        }

        output.WriteLine($"ts-fsrs {reference.Version}: {histories.Count} histories, {compared} reviews compared, " +
            $"{calendarDiffers} of them where UTC calendar days and whole 24-hour days differ");
        foreach (var (what, difference) in maxDifference)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  max |Δ| {what}: {difference:R}"));
        }
    }

    /// <summary>1–20 reviews with uniform grades; gaps of 0–400 days, often whole days or within the day; sub-millisecond
    /// ticks and a random UTC offset on every time (ts-fsrs sees whole Unix milliseconds).</summary>
    private static History RandomHistory(Random random, string name, FsrsParameters? parameters)
    {
        var count = random.Next(1, 21);
        var at = new DateTimeOffset[count];
        var grades = new int[count];
        var ms = random.NextInt64(631_152_000_000, 2_208_988_800_000); // 1990 to 2040
        for (var i = 0; i < count; i++)
        {
            if (i > 0)
            {
                ms += random.NextDouble() switch
                {
                    < 0.1 => 0,
                    < 0.25 => random.NextInt64(0, Day),
                    < 0.4 => random.Next(0, 401) * Day,
                    _ => random.NextInt64(0, 400 * Day + 1),
                };
            }
            var utc = DateTimeOffset.FromUnixTimeMilliseconds(ms).AddTicks(random.Next(0, 10_000));
            at[i] = utc.ToOffset(TimeSpan.FromMinutes(random.Next(-12 * 60, 14 * 60 + 1)));
            grades[i] = random.Next(1, 5);
        }
        return new History(name, parameters, at, grades);
    }

    // The ranges ts-fsrs clamps weights into, with w19's short-term floor so both modes accept them.
    private static readonly (double Min, double Max)[] WeightRanges =
    [
        (0.001, 100), (0.001, 100), (0.001, 100), (0.001, 100), (1, 10), (0.001, 4), (0.001, 4), (0.001, 0.75),
        (0, 4.5), (0, 0.8), (0.001, 3.5), (0.001, 5), (0.001, 0.25), (0.001, 0.9), (0, 4), (0, 1), (1, 6),
        (0, 2), (0, 2), (0.01, 0.8), (0.1, 0.8),
    ];

    /// <summary>Half uniform over ts-fsrs's whole ranges, half within ±50 % of the defaults; random retention and maximum.</summary>
    private static FsrsParameters RandomParameters(Random random)
    {
        var wide = random.NextDouble() < 0.5;
        var weights = WeightRanges.Select((range, i) => wide
            ? range.Min + random.NextDouble() * (range.Max - range.Min)
            : Math.Clamp(FsrsParameters.DefaultWeights[i] * (0.5 + random.NextDouble()), range.Min, range.Max)).ToArray();
        return new FsrsParameters
        {
            Weights = weights,
            RequestRetention = 0.7 + 0.29 * random.NextDouble(),
            MaximumInterval = random.NextDouble() < 0.5 ? 36500 : random.Next(1, 36501),
        };
    }

    private static IEnumerable<History> EdgeCases()
    {
        History Spaced(string name, FsrsParameters? parameters, DateTimeOffset start, long gap, params int[] grades)
            => new(name, parameters, [.. grades.Select((_, i) => start.AddMilliseconds(i * (double)gap))], grades);

        int[] Repeat(int grade, int count) => [.. Enumerable.Repeat(grade, count)];

        for (var grade = 1; grade <= 4; grade++)
        {
            yield return Spaced($"first review {grade}", null, Noon, 0, grade);
        }
        yield return Spaced("20 Again at one instant", null, Noon, 0, Repeat(1, 20));
        yield return Spaced("20 Good at one instant", null, Noon, 0, Repeat(3, 20));
        yield return Spaced("20 Again a day apart", null, Noon, Day, Repeat(1, 20));
        yield return Spaced("20 Easy 400 days apart", null, new DateTimeOffset(1950, 1, 1, 0, 0, 0, TimeSpan.Zero), 400 * Day, Repeat(4, 20));
        yield return Spaced("alternating Again and Easy", null, Noon, 2 * Day + 1, [.. Enumerable.Range(0, 20).Select(i => i % 2 == 0 ? 1 : 4)]);
        yield return Spaced("a century between reviews", null, Noon, 36_524 * Day, 3, 3, 1);

        // Each review on its due date, as a learner who keeps up would do.
        var onTime = new List<DateTimeOffset>();
        ReviewCard? card = null;
        var at = Noon;
        for (var i = 0; i < 20; i++)
        {
            onTime.Add(at);
            card = Fsrs.Default.Review(card, at, Fsrs.Good);
            at = card.Value.Due;
        }
        yield return new History("20 Good on their due dates", null, [.. onTime], Repeat(3, 20));

        var midnight = new DateTimeOffset(2024, 3, 2, 0, 0, 0, TimeSpan.Zero);
        yield return new History("a millisecond across midnight, then a day less a millisecond", null,
            [midnight.AddMilliseconds(-1), midnight, midnight.AddDays(1).AddMilliseconds(-1), midnight.AddDays(2)], [3, 3, 2, 4]);
        yield return new History("back in time within the UTC day", null,
            [Noon.AddHours(6), Noon.AddHours(-6), Noon.AddHours(-11)], [3, 1, 3]);
        yield return new History("across the Unix epoch", null,
            [new DateTimeOffset(1969, 12, 31, 23, 59, 59, 999, TimeSpan.Zero), new DateTimeOffset(1970, 1, 1, 0, 0, 0, 1, TimeSpan.Zero), new DateTimeOffset(1970, 1, 9, 5, 0, 0, TimeSpan.Zero)],
            [2, 3, 3]);
        yield return new History("local dates differ from UTC dates", null,
            [new DateTimeOffset(2024, 3, 2, 9, 0, 0, TimeSpan.FromHours(14)), new DateTimeOffset(2024, 3, 1, 20, 0, 0, TimeSpan.FromHours(-10)), new DateTimeOffset(2024, 3, 4, 1, 0, 0, TimeSpan.FromHours(13))],
            [3, 3, 3]);

        yield return Spaced("retention 1: every raw interval is one day", new FsrsParameters { RequestRetention = 1 }, Noon, 5 * Day, 3, 4, 2, 1, 3);
        yield return Spaced("retention 0.01: every interval capped, ordering beyond the cap", new FsrsParameters { RequestRetention = 0.01 }, Noon, 10 * Day, 1, 2, 3, 4, 4);
        yield return Spaced("maximum interval 1 day", new FsrsParameters { MaximumInterval = 1 }, Noon, 3 * Day, 4, 4, 3, 1, 2);
        yield return Spaced("retention 0.5, maximum 100 days", new FsrsParameters { RequestRetention = 0.5, MaximumInterval = 100 }, Noon, 40 * Day, 3, 3, 4, 1, 3, 3);
        var lowest = WeightRanges.Select(r => r.Min).ToArray();
        var highest = WeightRanges.Select(r => r.Max).ToArray();
        yield return Spaced("every weight at its lower bound", new FsrsParameters { Weights = lowest }, Noon, 7 * Day, 3, 1, 2, 4, 3, 3);
        yield return Spaced("every weight at its upper bound", new FsrsParameters { Weights = highest }, Noon, 7 * Day, 3, 1, 2, 4, 3, 3);
    }
}

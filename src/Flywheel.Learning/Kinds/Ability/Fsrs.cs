using System.Collections.ObjectModel;
using System.Globalization;

namespace Flywheel.Learning;

/// <summary>What FSRS knows about a learner's memory of one item.</summary>
/// <param name="Difficulty">How hard the item is for this learner, in [1, 10].</param>
/// <param name="Stability">Days after which predicted recall has fallen to 90 %, in [0.001, 36500].</param>
public readonly record struct MemoryState(double Difficulty, double Stability);

/// <summary>An item that has been reviewed at least once, as the long-term scheduler keeps it.</summary>
/// <param name="Memory">The memory state after the last review.</param>
/// <param name="LastReview">When the last review happened.</param>
/// <param name="Due">When the next review is scheduled: <see cref="LastReview"/> plus whole days.</param>
/// <param name="Reviews">Reviews so far, the first included.</param>
/// <param name="Lapses">Reviews rated Again, not counting a first review rated Again.</param>
public readonly record struct ReviewCard(MemoryState Memory, DateTimeOffset LastReview, DateTimeOffset Due, int Reviews, int Lapses);

/// <summary>
/// Settings of <see cref="Fsrs"/>: the 21 FSRS-6 weights, the recall probability to schedule for and the longest
/// interval. <see cref="Validate"/> rejects a weight outside the range that ts-fsrs would clamp it into, so a valid set
/// behaves the same here and in ts-fsrs. Immutable; safe to share between threads.
/// </summary>
public sealed record FsrsParameters
{
    /// <summary>ts-fsrs 5.4.2's default FSRS-6 weights w0..w20.</summary>
    public static IReadOnlyList<double> DefaultWeights { get; } = new ReadOnlyCollection<double>(
    [
        0.212, 1.2931, 2.3065, 8.2956, // w0..w3: initial stability after Again, Hard, Good, Easy
        6.4133, 0.8334, // w4, w5: initial difficulty
        3.0194, 0.001, // w6: difficulty change per grade step; w7: mean reversion
        1.8722, 0.1666, 0.796, // w8..w10: stability after recall
        1.4835, 0.0614, 0.2629, 1.6483, // w11..w14: stability after a lapse
        0.6014, 1.8729, // w15: Hard penalty; w16: Easy bonus
        0.5425, 0.0912, 0.0658, // w17..w19: same-day reviews (short-term mode only)
        0.1542, // w20: decay of the forgetting curve
    ]);

    /// <summary>The defaults: <see cref="DefaultWeights"/>, retention 0.9, at most 36,500 days, long-term mode.</summary>
    public static FsrsParameters Default { get; } = new();

    // The ranges ts-fsrs clamps each weight into (CLAMP_PARAMETERS with one relearning step). w19's floor is 0.01 in
    // short-term mode and 0 in long-term mode.
    private static readonly (double Min, double Max)[] Ranges =
    [
        (0.001, 100), (0.001, 100), (0.001, 100), (0.001, 100),
        (1, 10), (0.001, 4), (0.001, 4), (0.001, 0.75),
        (0, 4.5), (0, 0.8), (0.001, 3.5),
        (0.001, 5), (0.001, 0.25), (0.001, 0.9), (0, 4),
        (0, 1), (1, 6),
        (0, 2), (0, 2), (0, 0.8),
        (0.1, 0.8),
    ];

    /// <summary>The FSRS-6 weights w0..w20. <value>Default <see cref="DefaultWeights"/>.</value></summary>
    public IReadOnlyList<double> Weights { get; init; } = DefaultWeights;

    /// <summary>The recall probability at which reviews are scheduled, in (0, 1]. <value>Default 0.9.</value></summary>
    public double RequestRetention { get; init; } = 0.9;

    /// <summary>
    /// The longest interval <see cref="Fsrs.Interval"/> gives, in days, from 1 to 3,650,000 (dates end in the year 9999
    /// anyway). <value>Default 36,500.</value>
    /// </summary>
    public int MaximumInterval { get; init; } = 36500;

    /// <summary>
    /// ts-fsrs's <c>enable_short_term</c>: when true, <see cref="Fsrs.Next"/> treats a review on the same day
    /// (elapsed days 0) with the short-term formula (w17..w19) and lets Again shrink stability by e^(w17·w18);
    /// <see cref="Fsrs.Review"/>, which is the long-term scheduler, then refuses to run. <value>Default false.</value>
    /// </summary>
    public bool EnableShortTerm { get; init; }

    /// <summary>Checks the settings; throws an <see cref="ArgumentException"/> naming the bad one.</summary>
    public void Validate()
    {
        if (Weights is null)
        {
            throw new ArgumentNullException(nameof(Weights));
        }
        if (Weights.Count != Ranges.Length)
        {
            throw new ArgumentException($"FSRS-6 needs {Ranges.Length} weights, w0..w20; got {Weights.Count}", nameof(Weights));
        }
        for (var i = 0; i < Ranges.Length; i++)
        {
            var (min, max) = Ranges[i];
            if (i == 19 && EnableShortTerm)
            {
                min = 0.01;
            }
            var w = Weights[i];
            if (!(w >= min && w <= max))
            {
                throw new ArgumentOutOfRangeException(nameof(Weights), w,
                    string.Create(CultureInfo.InvariantCulture, $"w{i} must lie in [{min}, {max}]"));
            }
        }
        if (!(RequestRetention > 0 && RequestRetention <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(RequestRetention), RequestRetention, "request retention must lie in (0, 1]");
        }
        if (MaximumInterval is < 1 or > 3_650_000)
        {
            throw new ArgumentOutOfRangeException(nameof(MaximumInterval), MaximumInterval, "maximum interval must be from 1 to 3,650,000 days");
        }
    }
}

/// <summary>
/// FSRS-6 spaced-repetition scheduling, computing what the npm package ts-fsrs 5.4.2 computes without fuzz: the memory
/// model (<see cref="Retrievability"/>, <see cref="Next"/>, <see cref="Interval"/>) and the long-term scheduler
/// (<see cref="Review"/>, <see cref="Recall"/>; ts-fsrs with <c>enable_short_term: false</c>), including its rounding
/// of intermediate results to 8 decimals. Grades are 1 = Again, 2 = Hard, 3 = Good, 4 = Easy. Immutable; safe to share
/// between threads.
/// </summary>
public sealed class Fsrs
{
    /// <summary>Grade 1: the learner did not recall the item.</summary>
    public const int Again = 1;

    /// <summary>Grade 2: recalled with serious difficulty.</summary>
    public const int Hard = 2;

    /// <summary>Grade 3: recalled.</summary>
    public const int Good = 3;

    /// <summary>Grade 4: recalled easily.</summary>
    public const int Easy = 4;

    private const double MinStability = 0.001;
    private const double MaxStability = 36500;
    private const double MillisecondsPerDay = 86_400_000;

    private readonly double[] _w;
    private readonly double _decay;
    private readonly double _factor;
    private readonly double _intervalModifier;

    /// <summary>FSRS with <see cref="FsrsParameters.Default"/>.</summary>
    public static Fsrs Default { get; } = new(FsrsParameters.Default);

    /// <summary>FSRS with the given settings, which are validated and copied.</summary>
    /// <exception cref="ArgumentException">A setting is out of range; the message names it.</exception>
    public Fsrs(FsrsParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        parameters.Validate();
        _w = [.. parameters.Weights];
        Parameters = parameters with { Weights = Array.AsReadOnly(_w) };
        _decay = -_w[20];
        // 0.9^(1/decay) − 1, so that recall is 0.9 after `stability` days; written as ts-fsrs evaluates it.
        _factor = Round8(Math.Exp(1 / _decay * Math.Log(0.9)) - 1);
        _intervalModifier = Round8((Math.Pow(parameters.RequestRetention, 1 / _decay) - 1) / _factor);
    }

    /// <summary>The settings in use.</summary>
    public FsrsParameters Parameters { get; }

    /// <summary>
    /// Predicted probability of recall <paramref name="elapsedDays"/> days after a review that left
    /// <paramref name="stability"/>: (1 + factor·t/S)^(−w20), rounded to 8 decimals; 0.9 when t = S.
    /// </summary>
    public double Retrievability(double elapsedDays, double stability)
    {
        CheckElapsed(elapsedDays);
        if (!(stability > 0 && double.IsFinite(stability)))
        {
            throw new ArgumentOutOfRangeException(nameof(stability), stability, "stability must be positive and finite");
        }
        return Curve(elapsedDays, stability);
    }

    /// <summary>
    /// The memory state after a review rated <paramref name="grade"/> (1..4), <paramref name="elapsedDays"/> days after
    /// the review that left <paramref name="state"/> (ts-fsrs <c>next_state</c>). A null state, or (0, 0), is a new item.
    /// </summary>
    /// <exception cref="ArgumentException">The grade is not 1..4, the elapsed days are negative or not a number, or the
    /// state has difficulty below 1 or stability below 0.001.</exception>
    public MemoryState Next(MemoryState? state, double elapsedDays, int grade)
    {
        CheckGrade(grade);
        CheckElapsed(elapsedDays);
        if (state is not { } memory || memory == default)
        {
            return Initial(grade);
        }
        CheckMemory(memory, nameof(state));
        return Step(memory, elapsedDays, grade, Curve(elapsedDays, memory.Stability));
    }

    /// <summary>
    /// Days until the next review for <paramref name="stability"/> at <see cref="FsrsParameters.RequestRetention"/>:
    /// round(S·modifier), at least 1 and at most <see cref="FsrsParameters.MaximumInterval"/>. No fuzz.
    /// </summary>
    public int Interval(double stability)
    {
        if (!(stability >= 0 && double.IsFinite(stability)))
        {
            throw new ArgumentOutOfRangeException(nameof(stability), stability, "stability must be finite and not negative");
        }
        return IntervalOf(stability);
    }

    /// <summary>
    /// Days between two reviews as the scheduler counts them: the difference of their UTC calendar dates, so 23:59 to
    /// 00:01 the next day is 1 and 00:01 to 23:59 the same day is 0.
    /// </summary>
    public static int ElapsedDays(DateTimeOffset lastReview, DateTimeOffset at)
        => (at.UtcDateTime.Date - lastReview.UtcDateTime.Date).Days;

    /// <summary>
    /// Reviews <paramref name="card"/> (null for a new item) at <paramref name="at"/> with <paramref name="grade"/> (1..4)
    /// under the long-term scheduler, as ts-fsrs's <c>fsrs({enable_short_term: false, enable_fuzz: false}).next</c>
    /// does: elapsed days by <see cref="ElapsedDays"/> (0 for a new item); the four grades' states and intervals, the
    /// intervals then ordered so that Again &lt; Hard &lt; Good &lt; Easy (each at least one day longer than the grade
    /// below, which can exceed the maximum interval); and the card due that many whole days after <paramref name="at"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The grade is not 1..4, <paramref name="at"/> falls on an earlier UTC date than
    /// the card's last review, or the card's memory state is invalid.</exception>
    /// <exception cref="NotSupportedException">The parameters enable short-term mode, whose scheduler (learning steps
    /// in minutes) is not implemented here.</exception>
    public ReviewCard Review(ReviewCard? card, DateTimeOffset at, int grade)
    {
        CheckGrade(grade);
        if (Parameters.EnableShortTerm)
        {
            throw new NotSupportedException("Review is ts-fsrs's long-term scheduler; use parameters with EnableShortTerm = false.");
        }

        Span<MemoryState> states = stackalloc MemoryState[4];
        if (card is not { } last)
        {
            for (var g = Again; g <= Easy; g++)
            {
                states[g - 1] = Initial(g);
            }
        }
        else
        {
            CheckMemory(last.Memory, nameof(card));
            var elapsed = ElapsedDays(last.LastReview, at);
            if (elapsed < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(at), at, "the review falls on an earlier UTC date than the card's last review");
            }
            var r = Curve(elapsed, last.Memory.Stability);
            for (var g = Again; g <= Easy; g++)
            {
                states[g - 1] = Step(last.Memory, elapsed, g, r);
            }
        }

        var again = IntervalOf(states[0].Stability);
        var hard = IntervalOf(states[1].Stability);
        var good = IntervalOf(states[2].Stability);
        var easy = IntervalOf(states[3].Stability);
        again = Math.Min(again, hard);
        hard = Math.Max(hard, again + 1);
        good = Math.Max(good, hard + 1);
        easy = Math.Max(easy, good + 1);
        var days = grade switch { Again => again, Hard => hard, Good => good, _ => easy };

        var reviews = card is { } before ? before.Reviews + 1 : 1;
        var lapses = card is { } previous ? previous.Lapses + (grade == Again ? 1 : 0) : 0;
        return new ReviewCard(states[grade - 1], at, at.AddDays(days), reviews, lapses);
    }

    /// <summary>
    /// Predicted probability of recalling <paramref name="card"/> at <paramref name="at"/>, as ts-fsrs's
    /// <c>get_retrievability(card, at, false)</c> computes it: elapsed days are whole 24-hour periods since the last
    /// review (not calendar dates, unlike <see cref="Review"/>), 0 if <paramref name="at"/> is earlier, and stability
    /// is first rounded to 8 decimals.
    /// </summary>
    public double Recall(ReviewCard card, DateTimeOffset at)
    {
        CheckMemory(card.Memory, nameof(card));
        var milliseconds = at.ToUnixTimeMilliseconds() - card.LastReview.ToUnixTimeMilliseconds();
        var elapsed = Math.Max(Math.Floor(milliseconds / MillisecondsPerDay), 0);
        var stability = double.Parse(card.Memory.Stability.ToString("F8", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        return Curve(elapsed, stability);
    }

    private MemoryState Initial(int grade)
        => new(Math.Clamp(InitialDifficulty(grade), 1, 10), Math.Max(_w[grade - 1], 0.1));

    /// <summary>D0(G) = w4 − e^((G−1)·w5) + 1, unclamped (the mean reversion uses D0(Easy), which is below 1).</summary>
    private double InitialDifficulty(int grade) => Round8(_w[4] - Math.Exp((grade - 1) * _w[5]) + 1);

    /// <summary>The memory state of a known item after a review; <paramref name="r"/> is recall before it.</summary>
    private MemoryState Step(MemoryState memory, double elapsedDays, int grade, double r)
    {
        var (d, s) = (memory.Difficulty, memory.Stability);
        double stability;
        if (elapsedDays == 0 && Parameters.EnableShortTerm)
        {
            var increase = Math.Pow(s, -_w[19]) * Math.Exp(_w[17] * (grade - 3 + _w[18]));
            if (grade >= Hard)
            {
                increase = Math.Max(increase, 1);
            }
            stability = Round8(Math.Clamp(s * increase, MinStability, MaxStability));
        }
        else if (grade == Again)
        {
            var forgotten = Round8(Math.Clamp(
                _w[11] * Math.Pow(d, -_w[12]) * (Math.Pow(s + 1, _w[13]) - 1) * Math.Exp((1 - r) * _w[14]),
                MinStability, MaxStability));
            // A lapse never raises stability; short-term mode lowers the ceiling by e^(w17·w18).
            var shrink = Parameters.EnableShortTerm ? _w[17] * _w[18] : 0;
            stability = Math.Min(Math.Max(Round8(s / Math.Exp(shrink)), MinStability), forgotten);
        }
        else
        {
            var penalty = grade == Hard ? _w[15] : 1;
            var bonus = grade == Easy ? _w[16] : 1;
            stability = Round8(Math.Clamp(
                s * (1 + Math.Exp(_w[8]) * (11 - d) * Math.Pow(s, -_w[9]) * (Math.Exp((1 - r) * _w[10]) - 1) * penalty * bonus),
                MinStability, MaxStability));
        }

        // Linear damping of the change, then mean reversion towards D0(Easy); only the result is clamped.
        var change = -_w[6] * (grade - 3);
        var damped = d + Round8(change * (10 - d) / 9);
        var difficulty = Math.Clamp(Round8(_w[7] * InitialDifficulty(Easy) + (1 - _w[7]) * damped), 1, 10);
        return new MemoryState(difficulty, stability);
    }

    private double Curve(double elapsedDays, double stability) => Round8(Math.Pow(1 + _factor * elapsedDays / stability, _decay));

    private int IntervalOf(double stability)
        => (int)Math.Min(Math.Max(1, JsRound(stability * _intervalModifier)), Parameters.MaximumInterval);

    /// <summary>ts-fsrs's <c>roundTo(x, 8)</c>: JavaScript's Math.round of x·10^8, divided by 10^8.</summary>
    private static double Round8(double x) => JsRound(x * 1e8) / 1e8;

    /// <summary>JavaScript's Math.round: to the nearest integer, ties towards +∞ (−2.5 → −2, 2.5 → 3).</summary>
    internal static double JsRound(double x)
    {
        var rounded = Math.Round(x, MidpointRounding.AwayFromZero);
        // x − trunc(x) is exact, so this catches exactly the negative ties, which JavaScript rounds up.
        return x < 0 && x - Math.Truncate(x) == -0.5 ? rounded + 1 : rounded;
    }

    private static void CheckGrade(int grade)
    {
        if (grade is < Again or > Easy)
        {
            throw new ArgumentOutOfRangeException(nameof(grade), grade, "grade must be 1 (Again), 2 (Hard), 3 (Good) or 4 (Easy)");
        }
    }

    private static void CheckElapsed(double elapsedDays)
    {
        if (!(elapsedDays >= 0 && double.IsFinite(elapsedDays)))
        {
            throw new ArgumentOutOfRangeException(nameof(elapsedDays), elapsedDays, "elapsed days must be finite and not negative");
        }
    }

    private static void CheckMemory(MemoryState memory, string name)
    {
        if (!(memory.Difficulty >= 1 && double.IsFinite(memory.Difficulty) && memory.Stability >= MinStability && double.IsFinite(memory.Stability)))
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"invalid memory state (difficulty {memory.Difficulty}, stability {memory.Stability}): difficulty must be at least 1 and stability at least 0.001"),
                name);
        }
    }
}

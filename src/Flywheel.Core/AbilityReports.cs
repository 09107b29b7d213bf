using System.Text.Json.Serialization;
using Flywheel.Core.Json;

namespace Flywheel.Core;

/// <summary>An estimate on the logit scale of an <c>ability</c> loop, with its 95% interval.</summary>
/// <param name="Value">The estimate: abilities and difficulties share one scale, where equal values mean even odds.</param>
/// <param name="Lower">The interval's lower end.</param>
/// <param name="Upper">The interval's upper end.</param>
/// <param name="StandardError">Its standard error, from the information of the answers seen (and a unit prior).</param>
public sealed record AbilityEstimate(double Value, double Lower, double Upper, double StandardError);

/// <summary>A learner of an <c>ability</c> loop (<c>GET /v1/loops/{loop}/learners/{userId}</c>).</summary>
public sealed record LearnerReport
{
    /// <summary>The loop.</summary>
    public required string Loop { get; init; }

    /// <summary>The learner.</summary>
    public required string UserId { get; init; }

    /// <summary>The learner's ability.</summary>
    public required AbilityEstimate Ability { get; init; }

    /// <summary>Answers learned from.</summary>
    public required long Answers { get; init; }

    /// <summary>Of them, correct.</summary>
    public required long Correct { get; init; }

    /// <summary>Correct / answers (null before the first answer).</summary>
    [JsonConverter(typeof(FiniteOrNullConverter))]
    public required double SuccessRate { get; init; }

    /// <summary>
    /// The success rate of the last ten or so answers (an exponential average); the next exercise aims at the target
    /// corrected by how far this strays from it.
    /// </summary>
    [JsonConverter(typeof(FiniteOrNullConverter))]
    public required double RecentSuccess { get; init; }

    /// <summary>When the learner last answered.</summary>
    [JsonConverter(typeof(UtcTimeConverter))]
    public DateTimeOffset? LastAnswerAt { get; init; }

    /// <summary>The learner's streak as of now.</summary>
    public required StreakReport Streak { get; init; }

    /// <summary>Items whose review is due now.</summary>
    public required int ReviewsDue { get; init; }

    /// <summary>Items the learner has a memory of (answered at least once).</summary>
    public required int ItemsSeen { get; init; }
}

/// <summary>A learner's streak of active days (docs/ability.md, "Streaks").</summary>
/// <param name="Current">Consecutive active days up to the last, while still alive; 0 once broken.</param>
/// <param name="Best">The longest streak so far.</param>
/// <param name="ActiveDays">Days with at least one answer.</param>
/// <param name="LastActiveDay">The learner's last active day, in their time zone.</param>
/// <param name="AtRisk">True when the streak is alive but the learner has not answered yet today.</param>
/// <param name="TimeZone">The learner's time zone (IANA id), from their latest decision; UTC when never given.</param>
public sealed record StreakReport(int Current, int Best, int ActiveDays, DateOnly? LastActiveDay, bool AtRisk, string TimeZone);

/// <summary>An item (exercise) of an <c>ability</c> loop (<c>GET /v1/loops/{loop}/items/{actionId}</c>).</summary>
public sealed record ItemReport
{
    /// <summary>The loop.</summary>
    public required string Loop { get; init; }

    /// <summary>The item.</summary>
    public required string ActionId { get; init; }

    /// <summary>The item's difficulty.</summary>
    public required AbilityEstimate Difficulty { get; init; }

    /// <summary>
    /// For <c>irt</c> loops: the difficulty the item's features alone predict (what a new item with these features starts from).
    /// </summary>
    [JsonConverter(typeof(FiniteOrNullConverter))]
    public double FromFeatures { get; init; } = double.NaN;

    /// <summary>First answers by each learner, the ones difficulty is learned from.</summary>
    public required long Answers { get; init; }

    /// <summary>Of them, correct.</summary>
    public required long Correct { get; init; }

    /// <summary>Correct / answers (null before the first answer).</summary>
    [JsonConverter(typeof(FiniteOrNullConverter))]
    public required double SuccessRate { get; init; }
}

/// <summary>A learner's reviews due by a time (<c>GET /v1/loops/{loop}/learners/{userId}/reviews?due=…</c>).</summary>
/// <param name="Loop">The loop.</param>
/// <param name="UserId">The learner.</param>
/// <param name="Due">The time the list is for: items due at or before it.</param>
/// <param name="Items">The items, least remembered first.</param>
public sealed record ReviewList(
    string Loop,
    string UserId,
    [property: JsonConverter(typeof(UtcTimeConverter))] DateTimeOffset Due,
    IReadOnlyList<ReviewItem> Items);

/// <summary>One item's memory for a learner under FSRS.</summary>
/// <param name="ActionId">The item.</param>
/// <param name="DueAt">When its review falls due: recall has dropped to the loop's retention.</param>
/// <param name="Recall">The predicted probability of recall at the list's time.</param>
/// <param name="Stability">Days for recall to fall to 90%.</param>
/// <param name="Difficulty">FSRS's memory difficulty, 1–10 (not the item's ability-scale difficulty).</param>
/// <param name="LastReview">The last answer.</param>
/// <param name="Reviews">Answers so far.</param>
/// <param name="Lapses">Wrong answers after a first right one.</param>
public sealed record ReviewItem(
    string ActionId,
    [property: JsonConverter(typeof(UtcTimeConverter))] DateTimeOffset DueAt,
    double Recall,
    double Stability,
    double Difficulty,
    [property: JsonConverter(typeof(UtcTimeConverter))] DateTimeOffset LastReview,
    int Reviews,
    int Lapses);

/// <summary>An <c>ability</c> loop's learners in the health report: are they learning at the planned difficulty, and coming back?</summary>
/// <param name="TargetSuccess">The loop's target.</param>
/// <param name="Learners">Learners with at least one answer.</param>
/// <param name="Answers">Answers learned from.</param>
/// <param name="SuccessRate">Correct / answers over every answer (null before the first).</param>
/// <param name="RecentSuccess">The mean of learners' recent success (about their last ten answers), over learners with ten answers or more; null when none has.</param>
/// <param name="ActiveLast7Days">Learners who answered in the last 7 days.</param>
/// <param name="Streaking">Learners whose streak is alive now.</param>
/// <param name="AtRisk">Of them, those who have not answered yet today (their time).</param>
/// <param name="LongestStreak">The longest streak alive now.</param>
/// <param name="ReviewsDue">Reviews due now, over all learners.</param>
public sealed record LearnerHealth(
    double TargetSuccess,
    long Learners,
    long Answers,
    [property: JsonConverter(typeof(FiniteOrNullConverter))] double SuccessRate,
    [property: JsonConverter(typeof(FiniteOrNullConverter))] double RecentSuccess,
    long ActiveLast7Days,
    long Streaking,
    long AtRisk,
    int LongestStreak,
    long ReviewsDue);

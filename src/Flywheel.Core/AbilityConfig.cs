using System.Text.Json.Serialization;
using Flywheel.Core.Json;

namespace Flywheel.Core;

/// <summary>How an <c>ability</c> loop models learners and items and picks the next exercise (docs/ability.md).</summary>
public sealed record AbilityConfig
{
    /// <summary>The signal type that carries an answer: value 1 when correct, 0 when not; it closes the window.</summary>
    public const string CorrectSignal = "correct";

    /// <summary>
    /// The probability of success the next exercise aims at: hard enough to teach, easy enough not to discourage.
    /// 0.05–0.95. <value>Default 0.7.</value>
    /// </summary>
    public double TargetSuccess { get; init; } = 0.7;

    /// <summary>
    /// How item difficulty is estimated: <c>elo</c> (each item from its own answers) or <c>irt</c> (a logistic model
    /// that also learns from the items' features, so that a new item starts where its features put it).
    /// <value>Default elo.</value>
    /// </summary>
    public AbilityModel Model { get; init; } = AbilityModel.Elo;

    /// <summary>
    /// The chance of answering correctly by guessing (1/number of options for multiple choice, 0 for open answers);
    /// 0–0.5. <value>Default 0.</value>
    /// </summary>
    public double Guess { get; init; }

    /// <summary>
    /// Whether decide prefers candidate exercises whose review is due (by the learner's memory of them), least
    /// remembered first. <value>Default false.</value>
    /// </summary>
    public bool Reviews { get; init; }

    /// <summary>
    /// The probability of recall at which a review falls due (FSRS's requested retention); 0.5–0.99.
    /// <value>Default 0.9.</value>
    /// </summary>
    public double Retention { get; init; } = 0.9;

    /// <summary>Missed days in a row that do not break a streak (they do not extend it either); 0–7. <value>Default 0.</value></summary>
    public int GraceDays { get; init; }

    /// <summary>
    /// The local hour at which a learner's day starts: answers before it count for the day before (0–23).
    /// <value>Default 0 (midnight).</value>
    /// </summary>
    public int DayStartHour { get; init; }

    internal void Validate()
    {
        Check("ability.targetSuccess", TargetSuccess, 0.05, 0.95);
        Check("ability.guess", Guess, 0, 0.5);
        Check("ability.retention", Retention, 0.5, 0.99);
        if (!Enum.IsDefined(Model))
        {
            throw new FlywheelValidationException("ability.model", $"must be 'elo' or 'irt'; got {(int)Model}");
        }
        if (Guess >= TargetSuccess)
        {
            throw new FlywheelValidationException("ability.targetSuccess", $"must be above ability.guess ({Guess}): a guess alone would reach it");
        }
        if (GraceDays is < 0 or > 7)
        {
            throw new FlywheelValidationException("ability.graceDays", $"must be at least 0 and at most 7; got {GraceDays}");
        }
        if (DayStartHour is < 0 or > 23)
        {
            throw new FlywheelValidationException("ability.dayStartHour", $"must be at least 0 and at most 23; got {DayStartHour}");
        }
    }

    private static void Check(string field, double value, double min, double max)
    {
        if (!double.IsFinite(value) || value < min || value > max)
        {
            throw new FlywheelValidationException(field, $"must be at least {min} and at most {max}; got {value}");
        }
    }
}

/// <summary>How an <c>ability</c> loop estimates item difficulty.</summary>
[JsonConverter(typeof(WireEnumConverter<AbilityModel>))]
public enum AbilityModel
{
    /// <summary>Elo with a decaying step: each item's difficulty from its own answers.</summary>
    Elo,

    /// <summary>A logistic (Rasch) model whose item difficulty is a learned function of the item's features plus the item's own deviation from it.</summary>
    Irt,
}

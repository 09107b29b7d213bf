using System.Text.Json.Serialization;
using Flywheel.Core.Json;
namespace Flywheel.Core;

/// <summary>What started a ledger entry.</summary>
[JsonConverter(typeof(WireEnumConverter<TurnTrigger>))]
public enum TurnTrigger
{
    /// <summary>The loop's schedule (<c>turns.everySeconds</c> with <c>turns.minDecisions</c> new decisions).</summary>
    Schedule,
    /// <summary>A person or a program (<c>POST …/turns</c>, <c>…/promote</c>, <c>…/rollback</c>).</summary>
    Manual,
    /// <summary>The guardrail that watches a new champion's online reward.</summary>
    Guardrail,
    /// <summary>
    /// A drop of the loop's reward stream (a Page–Hinkley alarm): the turn runs early, judged on the rewards since the
    /// estimated change, and its reason names the reward before and after and where the change was found.
    /// </summary>
    Drift,
}

/// <summary>The outcome of a ledger entry.</summary>
[JsonConverter(typeof(WireEnumConverter<TurnVerdict>))]
public enum TurnVerdict
{
    /// <summary>A candidate beat the champion under the promotion policy and now serves.</summary>
    Promoted,
    /// <summary>No candidate beat the champion; the champion keeps serving.</summary>
    Rejected,
    /// <summary>Too few new decisions to judge; nothing changed.</summary>
    InsufficientData,
    /// <summary>The promotion policy is <c>manual</c>: candidates were evaluated and registered, nothing was promoted.</summary>
    AwaitingManualPromotion,
    /// <summary>A model was promoted by hand.</summary>
    ManuallyPromoted,
    /// <summary>The champion was replaced by its predecessor.</summary>
    RolledBack,
    /// <summary>An apprentice loop's learner beat the baseline it served; the loop now serves the learner (online).</summary>
    Graduated,
}

/// <summary>One policy evaluated in a turn: a candidate, the champion, or a reference policy.</summary>
public sealed record TurnCandidate
{
    /// <summary>
    /// What it is: <c>champion</c>, <c>uniform</c>, <c>baseline</c>, or the setting a candidate changes
    /// (<c>learningRate×2</c>, <c>+context*context*action</c>, …).
    /// </summary>
    public required string Name { get; init; }

    /// <summary>The registered model version (null for reference policies).</summary>
    public int? Version { get; init; }

    /// <summary>Its learner settings (null for reference policies).</summary>
    public LearnerConfig? Learner { get; init; }

    /// <summary>Its exploration settings (null for reference policies).</summary>
    public ExplorationConfig? Exploration { get; init; }

    /// <summary>Its off-policy estimates on the turn's window.</summary>
    public required OffPolicyEstimates Estimates { get; init; }
}

/// <summary>The online reward of a deployed model against its predecessor, measured after the deploy.</summary>
public sealed record OnlineLift
{
    /// <summary>The deployed model.</summary>
    public required int Version { get; init; }

    /// <summary>The model it replaced.</summary>
    public required int PredecessorVersion { get; init; }

    /// <summary>Rewarded decisions the deployed model served.</summary>
    public required long Decisions { get; init; }

    /// <summary>Its mean reward.</summary>
    [JsonConverter(typeof(FiniteOrNullConverter))]
    public required double Mean { get; init; }

    /// <summary>Rewarded decisions the predecessor served in the window before the deploy.</summary>
    public required long PredecessorDecisions { get; init; }

    /// <summary>The predecessor's mean reward.</summary>
    [JsonConverter(typeof(FiniteOrNullConverter))]
    public required double PredecessorMean { get; init; }

    /// <summary>Mean − predecessor mean, with its Welch interval at the loop's confidence.</summary>
    public required Estimate Difference { get; init; }

    /// <summary>Difference ÷ |predecessor mean| (NaN when that is 0).</summary>
    [JsonConverter(typeof(FiniteOrNullConverter))]
    public required double Relative { get; init; }

    /// <summary>When it was measured.</summary>
    [JsonConverter(typeof(UtcTimeConverter))]
    public required DateTimeOffset MeasuredAt { get; init; }
}

/// <summary>
/// One entry of a loop's turn ledger: a turn (train, evaluate, decide), a manual promotion, or a rollback, with the
/// evidence and the reason.
/// </summary>
public sealed record TurnRecord
{
    /// <summary>The loop.</summary>
    public required string Loop { get; init; }

    /// <summary>The entry's number, from 1.</summary>
    [JsonPropertyName("turn")]
    public required long Number { get; init; }

    /// <summary>What started it.</summary>
    public required TurnTrigger Trigger { get; init; }

    /// <summary>When it started.</summary>
    [JsonConverter(typeof(UtcTimeConverter))]
    public required DateTimeOffset StartedAt { get; init; }

    /// <summary>When it finished.</summary>
    [JsonConverter(typeof(UtcTimeConverter))]
    public required DateTimeOffset FinishedAt { get; init; }

    /// <summary>
    /// The data it judged on (null for entries that judged no data). A scheduled or manual turn judges all the evidence
    /// gathered since <see cref="EvidenceSince"/>, not only the rewards since the previous turn (those are
    /// <see cref="NewDecisions"/>), so the window grows from turn to turn until what serves changes.
    /// </summary>
    public DataWindow? Window { get; init; }

    /// <summary>
    /// Rewarded decisions that came in since the previous judged turn (what <c>turns.minDecisions</c> counts); null on
    /// entries that judged no data and on entries written before the judged window could grow.
    /// </summary>
    public long? NewDecisions { get; init; }

    /// <summary>
    /// Where the judged evidence begins, in words (<c>v3 became champion</c>, <c>apprentice mode began</c>, …); null on
    /// entries that judged no data and on older entries.
    /// </summary>
    public string? EvidenceSince { get; init; }

    /// <summary>The loop's mode when the turn judged it (null on entries that judged no data and on older entries).</summary>
    public LoopMode? Mode { get; init; }

    /// <summary>The champion when it started.</summary>
    public required int ChampionVersion { get; init; }

    /// <summary>The policies evaluated, champion and reference policies included.</summary>
    public IReadOnlyList<TurnCandidate> Candidates { get; init; } = [];

    /// <summary>The outcome.</summary>
    public required TurnVerdict Verdict { get; init; }

    /// <summary>Why, with the figures that decided it.</summary>
    public required string Reason { get; init; }

    /// <summary>The model that serves after it (null when nothing changed).</summary>
    public int? DeployedVersion { get; init; }

    /// <summary>When that model began to serve.</summary>
    [JsonConverter(typeof(UtcTimeConverter))]
    public DateTimeOffset? DeployedAt { get; init; }

    /// <summary>The deployed model's measured online lift, filled in when the next window has closed.</summary>
    public OnlineLift? Lift { get; init; }
}

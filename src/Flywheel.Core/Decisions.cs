using System.Text.Json.Serialization;
using Flywheel.Core.Json;
namespace Flywheel.Core;

/// <summary>A candidate the product could show: an id plus features.</summary>
public sealed record ActionCandidate
{
    /// <summary>Creates a candidate.</summary>
    public ActionCandidate(string id, Features? features = null)
    {
        Id = id;
        Features = features ?? new Features();
    }

    /// <summary>The action's id, unique within a decision.</summary>
    public string Id { get; init; }

    /// <summary>The action's namespaced features.</summary>
    public Features Features { get; init; }
}

/// <summary>A request for a decision (the HTTP API).</summary>
public sealed record DecideRequest
{
    /// <summary>
    /// Client-chosen id (the id rules of <see cref="FlywheelLimits.IsValidId"/>); generated when absent. A retry with the
    /// same id and the same request returns the stored answer; the same id with another request (user, context, actions,
    /// baseline) is refused as a <see cref="ValidationKind.Conflict"/> naming <c>decisionId</c>.
    /// </summary>
    public string? DecisionId { get; init; }

    /// <summary>The user the decision is for, if known.</summary>
    public string? UserId { get; init; }

    /// <summary>The context features.</summary>
    [JsonIgnore]
    public Features Context { get; init; } = new();

    // On the wire an absent or null context is none.
    [JsonInclude, JsonPropertyName("context")]
    internal Features? WireContext { get => Context; init => Context = value ?? new(); }

    /// <summary>The candidate actions.</summary>
    public IReadOnlyList<ActionCandidate> Actions { get; init; } = [];

    /// <summary>What the product would have shown without Flywheel (used by apprentice mode and evaluation).</summary>
    public string? BaselineActionId { get; init; }

    /// <summary>
    /// The user's time zone (an IANA id such as <c>Europe/Paris</c>), if known: an <c>ability</c> loop counts the
    /// learner's streak in their local days.
    /// </summary>
    public string? TimeZone { get; init; }
}

/// <summary>
/// One action of a served ranking. For a <c>choose</c> loop: every action, with the probability that the engine would
/// have put it first. For a <c>rank</c> loop: the served slots in order, each with its 1-based <see cref="Slot"/> and
/// the probability that the engine put this action in this slot given the actions above it.
/// </summary>
/// <param name="ActionId">The action.</param>
/// <param name="Probability">Its probability, as above.</param>
public sealed record RankedAction(string ActionId, double Probability)
{
    /// <summary>The slot it was served in, from 1 (<c>rank</c> loops); null for <c>choose</c> loops.</summary>
    public int? Slot { get; init; }
}

/// <summary>The engine's answer to a decide request.</summary>
public sealed record Decision
{
    /// <summary>The decision's id.</summary>
    public required string DecisionId { get; init; }

    /// <summary>The loop.</summary>
    public required string Loop { get; init; }

    /// <summary>The version of the model that scored the actions.</summary>
    public required int ModelVersion { get; init; }

    /// <summary>The action to show.</summary>
    public required string ChosenActionId { get; init; }

    /// <summary>True when the chosen action was not the model's best (an exploration step).</summary>
    public required bool Explored { get; init; }

    /// <summary>Every action, chosen first, with its probability of being chosen.</summary>
    public required IReadOnlyList<RankedAction> Ranking { get; init; }
}

/// <summary>A signal as the product sends it (the HTTP API).</summary>
public sealed record SignalInput
{
    /// <summary>
    /// Client-chosen id, for idempotent retries (the id rules of <see cref="FlywheelLimits.IsValidId"/>); generated when
    /// absent. The same id with another signal (type, value, decision, user or time) refuses the whole batch as a
    /// <see cref="ValidationKind.Conflict"/> naming the item, such as <c>signals[3].signalId</c>.
    /// </summary>
    public string? SignalId { get; init; }

    /// <summary>The decision the signal follows; absent for user-level signals such as <c>return_visit</c>.</summary>
    public string? DecisionId { get; init; }

    /// <summary>
    /// The served action the signal concerns: required on a decision of a <c>rank</c> loop (a click names the result
    /// clicked), and then one of the actions served; not allowed on other loops.
    /// </summary>
    public string? ActionId { get; init; }

    /// <summary>The user, required when there is no decision id.</summary>
    public string? UserId { get; init; }

    /// <summary>The signal type, declared in the loop config.</summary>
    public required string Type { get; init; }

    /// <summary>The value, multiplied by the type's weight. <value>Default 1.</value></summary>
    public double? Value { get; init; }

    /// <summary>When it happened, as reported by the product. Defaults to the arrival time.</summary>
    [JsonConverter(typeof(UtcTimeConverter))]
    public DateTimeOffset? At { get; init; }

    /// <summary>
    /// Generation loops only: the user's final text after editing the decision's output (an <c>edited</c> signal).
    /// Without a <see cref="Value"/>, the value is the normalised edit distance from the stored output to this text.
    /// </summary>
    public string? Text { get; init; }
}

/// <summary>The outcome of recording a batch of signals.</summary>
/// <param name="Accepted">Signals newly stored (orphaned and late ones included).</param>
/// <param name="Duplicates">Signals whose id was already stored; they change nothing.</param>
/// <param name="Orphaned">Accepted signals whose decision id is unknown to the loop.</param>
/// <param name="Late">Accepted signals that arrived after their decision's reward window closed.</param>
public sealed record SignalBatchResult(int Accepted, int Duplicates, int Orphaned, int Late);

/// <summary>One decision with everything that followed it: the audit view.</summary>
[JsonConverter(typeof(DecisionAuditConverter))]
public sealed record DecisionAudit
{
    /// <summary>The decision as stored.</summary>
    public required DecisionRecord Decision { get; init; }

    /// <summary>Its signals in arrival order.</summary>
    public required IReadOnlyList<SignalRecord> Signals { get; init; }

    /// <summary>Its reward, once the window has closed.</summary>
    public RewardRecord? Reward { get; init; }

    /// <summary>The text it generated and the prompt that produced it (generation loops), once recorded.</summary>
    public OutputRecord? Output { get; init; }
}

using System.Text.Json.Serialization;
using Flywheel.Core.Json;
namespace Flywheel.Core;

/// <summary>A decision as stored in the event log.</summary>
public sealed record DecisionRecord
{
    /// <summary>The loop.</summary>
    public required string Loop { get; init; }

    /// <summary>The decision's id, unique within the loop.</summary>
    public required string DecisionId { get; init; }

    /// <summary>When the engine made it.</summary>
    [JsonConverter(typeof(UtcTimeConverter))]
    public required DateTimeOffset At { get; init; }

    /// <summary>The user, if known.</summary>
    public string? UserId { get; init; }

    /// <summary>The context features.</summary>
    public required Features Context { get; init; }

    /// <summary>The candidate actions.</summary>
    public required IReadOnlyList<ActionCandidate> Actions { get; init; }

    /// <summary>The product's baseline action, if given.</summary>
    public string? BaselineActionId { get; init; }

    /// <summary>The action served.</summary>
    public required string ChosenActionId { get; init; }

    /// <summary>Whether the chosen action was an exploration step.</summary>
    public required bool Explored { get; init; }

    /// <summary>The served ranking with probabilities.</summary>
    public required IReadOnlyList<RankedAction> Ranking { get; init; }

    /// <summary>The model version that scored it.</summary>
    public required int ModelVersion { get; init; }

    /// <summary>What each shadow model would have served instead (empty when the loop has no shadow).</summary>
    public IReadOnlyList<ShadowChoice> Shadows { get; init; } = [];

    /// <summary>
    /// True when a <c>rank</c> loop served this decision's top slots in a uniformly shuffled order (its
    /// <c>interventionRate</c> share): the decisions that measure each slot's examination probability.
    /// </summary>
    public bool Intervened { get; init; }

    /// <summary>The user's time zone as the request gave it (IANA id), or null.</summary>
    public string? TimeZone { get; init; }

    /// <summary>The probability with which the chosen action was served.</summary>
    public double ChosenProbability
    {
        get
        {
            for (var i = 0; i < Ranking.Count; i++)
            {
                if (Ranking[i].ActionId == ChosenActionId)
                {
                    return Ranking[i].Probability;
                }
            }
            throw new InvalidOperationException($"decision '{DecisionId}' has no probability for its chosen action '{ChosenActionId}'");
        }
    }

    /// <summary>The answer returned to the product.</summary>
    public Decision ToDecision() => new()
    {
        DecisionId = DecisionId,
        Loop = Loop,
        ModelVersion = ModelVersion,
        ChosenActionId = ChosenActionId,
        Explored = Explored,
        Ranking = Ranking,
    };
}

/// <summary>What a shadow model would have served for a decision, recorded with the decision it did not serve.</summary>
/// <param name="Version">The shadow model's version.</param>
/// <param name="ActionId">The action it would have served (drawn from its own distribution).</param>
/// <param name="Probability">Its probability of that action.</param>
/// <param name="ServedProbability">Its probability of the action actually served: the importance weight's numerator.</param>
public sealed record ShadowChoice(int Version, string ActionId, double Probability, double ServedProbability);

/// <summary>A signal as stored in the event log.</summary>
public sealed record SignalRecord
{
    /// <summary>The loop.</summary>
    public required string Loop { get; init; }

    /// <summary>The signal's id, unique within the loop.</summary>
    public required string SignalId { get; init; }

    /// <summary>The decision it follows, if any.</summary>
    public string? DecisionId { get; init; }

    /// <summary>The served action it concerns (signals on decisions of <c>rank</c> loops).</summary>
    public string? ActionId { get; init; }

    /// <summary>The user, if given.</summary>
    public string? UserId { get; init; }

    /// <summary>The signal type.</summary>
    public required string Type { get; init; }

    /// <summary>The value.</summary>
    public required double Value { get; init; }

    /// <summary>When it happened, as reported.</summary>
    [JsonConverter(typeof(UtcTimeConverter))]
    public required DateTimeOffset At { get; init; }

    /// <summary>When the engine received it; this time, not <see cref="At"/>, decides whether it fell in the window.</summary>
    [JsonConverter(typeof(UtcTimeConverter))]
    public required DateTimeOffset ReceivedAt { get; init; }

    /// <summary>True when it arrived after its decision's window closed: stored and counted, never learned from.</summary>
    public bool Late { get; init; }

    /// <summary>True when its decision id is unknown to the loop.</summary>
    public bool Orphaned { get; init; }

    /// <summary>The user's final text (an <c>edited</c> signal of a generation loop that stores text), or null.</summary>
    public string? Text { get; init; }
}

/// <summary>How a reward window closed.</summary>
[JsonConverter(typeof(WireEnumConverter<WindowClose>))]
public enum WindowClose
{
    /// <summary>The window's time ran out.</summary>
    [JsonStringEnumMemberName("window")]
    Timeout,
    /// <summary>A signal type with <c>closesWindow</c> arrived.</summary>
    Signal,
}

/// <summary>One decision's reward, fixed when its window closed.</summary>
public sealed record RewardRecord
{
    /// <summary>The loop.</summary>
    public required string Loop { get; init; }

    /// <summary>The decision.</summary>
    public required string DecisionId { get; init; }

    /// <summary>Position in the loop's learning order, from 1; learners replay rewards in this order.</summary>
    public required long Sequence { get; init; }

    /// <summary>The reward; for a <c>rank</c> loop the sum of its slots' rewards.</summary>
    public required double Reward { get; init; }

    /// <summary>Each served slot's own reward, top first (<c>rank</c> loops); null for <c>choose</c> loops.</summary>
    public IReadOnlyList<SlotReward>? Slots { get; init; }

    /// <summary>How many signals it was computed from.</summary>
    public required int SignalCount { get; init; }

    /// <summary>How many of them were of an implicit type (behaviour), by the config in force when the window closed.</summary>
    public int ImplicitSignals { get; init; }

    /// <summary>How many of them were of an explicit type (asked for).</summary>
    public int ExplicitSignals { get; init; }

    /// <summary>When the window closed.</summary>
    [JsonConverter(typeof(UtcTimeConverter))]
    public required DateTimeOffset ClosedAt { get; init; }

    /// <summary>Why the window closed.</summary>
    public required WindowClose ClosedBy { get; init; }
}

/// <summary>The reward one served slot of a ranking earned, by the loop's reward rule over the signals naming its action.</summary>
/// <param name="Slot">The slot, from 1.</param>
/// <param name="ActionId">The action served there.</param>
/// <param name="Reward">Its reward (the reward's default when no signal named it).</param>
/// <param name="Signals">How many in-window signals named it.</param>
public sealed record SlotReward(int Slot, string ActionId, double Reward, int Signals);

/// <summary>A persisted learner snapshot.</summary>
public sealed record ModelSnapshotRecord
{
    /// <summary>The loop.</summary>
    public required string Loop { get; init; }

    /// <summary>The model version.</summary>
    public required int Version { get; init; }

    /// <summary>The last reward sequence the learner had learned from; replay continues after it.</summary>
    public required long LearnedThrough { get; init; }

    /// <summary>When it was taken.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>The serialized learner.</summary>
    public required byte[] Data { get; init; }
}

/// <summary>One decision as the health report reads it: when, for whom, by which model, and how its window closed.</summary>
/// <param name="At">When it was made.</param>
/// <param name="UserId">The user, if known.</param>
/// <param name="ModelVersion">The model that served it.</param>
/// <param name="RewardSequence">Its reward's position in learning order; 0 while its window is open.</param>
/// <param name="Reward">Its reward (0 while open).</param>
/// <param name="ClosedAt">When its window closed (default while open).</param>
/// <param name="Signals">Signals inside its window.</param>
/// <param name="ImplicitSignals">Of them, implicit.</param>
/// <param name="ExplicitSignals">Of them, explicit.</param>
/// <param name="Explored">Whether the served action was an exploration step rather than the model's pick.</param>
public readonly record struct DecisionOutcome(
    DateTimeOffset At, string? UserId, int ModelVersion, long RewardSequence, double Reward, DateTimeOffset ClosedAt,
    int Signals, int ImplicitSignals, int ExplicitSignals, bool Explored = false)
{
    /// <summary>True once its reward window has closed.</summary>
    public bool IsClosed => RewardSequence > 0;
}

/// <summary>A user-level signal (one without a decision id, such as <c>return_visit</c>): a visit by a user.</summary>
/// <param name="UserId">The user.</param>
/// <param name="At">When it happened, as reported.</param>
public readonly record struct UserVisit(string UserId, DateTimeOffset At);

/// <summary>When the first signal of a rewarded decision arrived.</summary>
/// <param name="Sequence">The reward's sequence.</param>
/// <param name="FirstSignalAt">When its first in-window signal was received.</param>
public readonly record struct RewardArrival(long Sequence, DateTimeOffset FirstSignalAt);

/// <summary>Counts of what a loop's log holds.</summary>
public sealed record LoopCounts(long Decisions, long Signals, long LateSignals, long OrphanedSignals, long Rewards);

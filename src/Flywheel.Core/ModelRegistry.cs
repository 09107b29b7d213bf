using System.Text.Json.Serialization;
using Flywheel.Core.Json;
namespace Flywheel.Core;

/// <summary>Where a registered model stands.</summary>
[JsonConverter(typeof(WireEnumConverter<ModelStatus>))]
public enum ModelStatus
{
    /// <summary>Trained by a turn and evaluated; not served.</summary>
    Candidate,
    /// <summary>Scores every live decision without being served; the decision records what it would have served.</summary>
    Shadow,
    /// <summary>The model that serves the loop.</summary>
    Champion,
    /// <summary>No longer served: rejected, replaced or rolled back.</summary>
    Retired,
}

/// <summary>A stretch of a loop's reward log: rewards with sequence in (<see cref="AfterSequence"/>, <see cref="ThroughSequence"/>].</summary>
public sealed record DataWindow
{
    /// <summary>The last reward sequence before the window (0 for the start of the log).</summary>
    public required long AfterSequence { get; init; }

    /// <summary>The last reward sequence in the window.</summary>
    public required long ThroughSequence { get; init; }

    /// <summary>When the window's first decision was made (null for an empty window).</summary>
    [JsonConverter(typeof(UtcTimeConverter))]
    public DateTimeOffset? From { get; init; }

    /// <summary>When the window's last decision was made (null for an empty window).</summary>
    [JsonConverter(typeof(UtcTimeConverter))]
    public DateTimeOffset? To { get; init; }

    /// <summary>Decisions (with their rewards) in the window.</summary>
    public required long Decisions { get; init; }

    /// <summary>Signals those rewards were computed from.</summary>
    public required long Signals { get; init; }
}

/// <summary>One model version of a loop, with its lineage and status.</summary>
public sealed record ModelRecord
{
    /// <summary>The loop.</summary>
    public required string Loop { get; init; }

    /// <summary>The version, unique within the loop; decisions name the version that served them.</summary>
    public required int Version { get; init; }

    /// <summary>The champion it was trained to replace, if any.</summary>
    public int? ParentVersion { get; init; }

    /// <summary>Where it stands.</summary>
    public required ModelStatus Status { get; init; }

    /// <summary>Its learner settings.</summary>
    public required LearnerConfig Learner { get; init; }

    /// <summary>Its exploration settings.</summary>
    public required ExplorationConfig Exploration { get; init; }

    /// <summary>The turn that trained it (null for a model made by a loop config).</summary>
    public long? Turn { get; init; }

    /// <summary>What it was trained on: the log from the start through <see cref="DataWindow.ThroughSequence"/>, evaluated on the window.</summary>
    public DataWindow? Window { get; init; }

    /// <summary>
    /// The last reward sequence its stored weights have learned (null when no weights are stored): deploying it
    /// replays the rewards after this position first.
    /// </summary>
    public long? TrainedThrough { get; init; }

    /// <summary>Its off-policy estimates on <see cref="Window"/> (null for a model made by a loop config).</summary>
    public OffPolicyEstimates? Estimates { get; init; }

    /// <summary>When it was registered.</summary>
    [JsonConverter(typeof(UtcTimeConverter))]
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When its status last changed.</summary>
    [JsonConverter(typeof(UtcTimeConverter))]
    public required DateTimeOffset StatusChangedAt { get; init; }

    /// <summary>Why its status last changed.</summary>
    public string? Reason { get; init; }
}

using System.Text.Json.Serialization;
using Flywheel.Core.Json;

namespace Flywheel.Core;

/// <summary>What an erasure removed: counts only, so the audit trail keeps nothing of the person erased.</summary>
/// <param name="Decisions">Decisions made for the user, with their rewards and shadow choices.</param>
/// <param name="Signals">Signals of those decisions and signals that named the user.</param>
/// <param name="Rewards">Rewards of those decisions.</param>
public sealed record ErasureCounts(long Decisions, long Signals, long Rewards);

/// <summary>
/// One erasure (<c>DELETE /v1/users/{userId}</c>) as the audit trail keeps it: when, which request, what was removed.
/// The user's id is not kept.
/// </summary>
public sealed record ErasureRecord
{
    /// <summary>Position in the audit trail (1, 2, …).</summary>
    public long Sequence { get; init; }

    /// <summary>When the erasure was committed.</summary>
    [JsonConverter(typeof(UtcTimeConverter))]
    public required DateTimeOffset ErasedAt { get; init; }

    /// <summary>What was removed.</summary>
    public required ErasureCounts Removed { get; init; }
}

/// <summary>The answer to an erasure: the audit entry, and the user it was for (known to the caller, never stored).</summary>
public sealed record ErasureResult
{
    /// <summary>The user erased.</summary>
    public required string UserId { get; init; }

    /// <summary>The audit entry written for it.</summary>
    public required ErasureRecord Audit { get; init; }
}

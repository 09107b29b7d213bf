namespace Flywheel.Core;

/// <summary>
/// Thrown when the engine's bounded ingest queue is full. Nothing of the refused call was stored; retry after
/// <see cref="RetryAfter"/> (HTTP adapters answer 503 with <c>Retry-After</c>).
/// </summary>
public sealed class FlywheelOverloadedException(TimeSpan retryAfter)
    : Exception($"Flywheel is overloaded; retry after {retryAfter.TotalSeconds:0.###} s.")
{
    /// <summary>How long to wait before retrying.</summary>
    public TimeSpan RetryAfter { get; } = retryAfter;
}

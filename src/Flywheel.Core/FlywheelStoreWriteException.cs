namespace Flywheel.Core;

/// <summary>Why a store cannot write: each needs an operator, and each says so differently.</summary>
public enum StoreWriteFailure
{
    /// <summary>The disk (or the quota) holding the data is full.</summary>
    DiskFull,

    /// <summary>The data directory or the database file is read-only: a read-only mount, or no write permission.</summary>
    ReadOnly,

    /// <summary>The disk failed a write for another reason (an I/O error).</summary>
    IoError,
}

/// <summary>
/// A write the store could not make because of the disk under it (full, read-only, failing), not because of the data.
/// Nothing of the failed write was stored and nothing acknowledged before it is lost; the same write can succeed once
/// the operator has fixed the disk, without a restart. HTTP adapters answer 503 with <c>Retry-After</c>.
/// </summary>
/// <param name="reason">Why the write failed.</param>
/// <param name="message">One line for the operator: where, why and what to do.</param>
/// <param name="inner">The store's own error.</param>
public sealed class FlywheelStoreWriteException(StoreWriteFailure reason, string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>Why the write failed.</summary>
    public StoreWriteFailure Reason { get; } = reason;

    /// <summary>
    /// How long a caller should wait before trying again: <value>10 s for a full disk, 30 s for a read-only one, 5 s for
    /// an I/O error</value> (an operator frees space faster than they repair a mount).
    /// </summary>
    public TimeSpan RetryAfter { get; } = DefaultRetryAfter(reason);

    /// <summary>The <see cref="RetryAfter"/> of each <see cref="StoreWriteFailure"/>.</summary>
    public static TimeSpan DefaultRetryAfter(StoreWriteFailure reason) => reason switch
    {
        StoreWriteFailure.DiskFull => TimeSpan.FromSeconds(10),
        StoreWriteFailure.ReadOnly => TimeSpan.FromSeconds(30),
        _ => TimeSpan.FromSeconds(5),
    };
}

using Flywheel.Core;
using Microsoft.Extensions.Logging;

namespace Flywheel.Engine;

/// <summary>
/// Whether the store takes writes, as the engine's writes last found it: failing since a write (a group commit, a loop
/// change, a turn) met a full, read-only or failing disk, writable again once a group commit or a probe succeeds.
/// Readiness reads it. While writable, asking costs nothing; while failing, each question tries the store's smallest write (callers
/// that ask at once share one try), so the store reports ready again as soon as the operator has fixed the disk, even
/// if no traffic arrives to prove it. Logs once when the store starts failing and once when it recovers.
/// </summary>
internal sealed partial class StoreWriteHealth(IFlywheelStore store, ILogger logger)
{
    private readonly object _gate = new();
    private FlywheelStoreWriteException? _failure;
    private Task<FlywheelStoreWriteException?>? _probe;

    /// <summary>The fault of the last failed write, or null while writes succeed.</summary>
    public FlywheelStoreWriteException? Failure => Volatile.Read(ref _failure);

    /// <summary>Records a write that failed for the disk.</summary>
    public void Failed(FlywheelStoreWriteException fault)
    {
        var previous = Interlocked.Exchange(ref _failure, fault);
        if (previous is null || previous.Reason != fault.Reason)
        {
            LogFailing(fault.Reason, fault.Message);
        }
    }

    /// <summary>Records a write that succeeded.</summary>
    public void Succeeded()
    {
        if (Volatile.Read(ref _failure) is not null && Interlocked.Exchange(ref _failure, null) is { } previous)
        {
            LogRecovered(previous.Reason);
        }
    }

    /// <summary>Null when the store takes writes; else the fault that keeps it from them (after one probe write).</summary>
    public async ValueTask<FlywheelStoreWriteException?> CheckAsync(CancellationToken cancellationToken)
    {
        if (Failure is null)
        {
            return null;
        }
        Task<FlywheelStoreWriteException?> probe;
        lock (_gate)
        {
            if (_probe is null || _probe.IsCompleted)
            {
                _probe = ProbeAsync();
            }
            probe = _probe;
        }
        return await probe.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<FlywheelStoreWriteException?> ProbeAsync()
    {
        try
        {
            await store.CheckWritableAsync(CancellationToken.None).ConfigureAwait(false);
            Succeeded();
            return null;
        }
        catch (FlywheelStoreWriteException fault)
        {
            Failed(fault);
            return fault;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Store writes are failing ({Reason}) until the disk is fixed: {Detail}")]
    private partial void LogFailing(StoreWriteFailure reason, string detail);

    [LoggerMessage(Level = LogLevel.Information, Message = "The store takes writes again (it was failing: {Reason}).")]
    private partial void LogRecovered(StoreWriteFailure reason);
}

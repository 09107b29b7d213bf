using Flywheel.Core;
using Microsoft.Extensions.Logging;

namespace Flywheel.Engine;

/// <summary>An erasure, ordered with every other write so that nothing of the user is committed after it.</summary>
internal sealed class EraseWrite(string userId) : WriteRequest
{
    public string UserId { get; } = userId;

    public TaskCompletionSource<ErasureRecord> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

internal sealed partial class IngestWriter
{
    /// <summary>Erases the user once everything queued before is committed; answers the audit entry.</summary>
    public async ValueTask<ErasureRecord> EraseUserAsync(string userId, CancellationToken cancellationToken)
    {
        var erase = new EraseWrite(userId);
        await EnqueueAsync(erase, cancellationToken).ConfigureAwait(false);
        return await erase.Done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs after the group commit of the calls queued with the erasures, so decisions and signals of the user that
    /// arrived before the erasure go too. The user's open windows are dropped from memory only once the store has
    /// deleted their decisions: a window that closed later would write a reward for a decision that no longer exists.
    /// </summary>
    private async Task EraseQueuedAsync(List<WriteRequest> calls)
    {
        foreach (var call in calls)
        {
            if (call is not EraseWrite erase)
            {
                continue;
            }
            var record = await store.EraseUserAsync(erase.UserId, time.GetUtcNow()).ConfigureAwait(false);
            var windows = 0;
            foreach (var loop in loops.All())
            {
                var pending = loop.Windows.Pending;
                List<string>? gone = null;
                foreach (var (id, decision) in pending)
                {
                    if (string.Equals(decision.Record.UserId, erase.UserId, StringComparison.Ordinal))
                    {
                        (gone ??= []).Add(id);
                    }
                }
                foreach (var id in gone ?? [])
                {
                    pending.Remove(id);
                    windows++;
                }
            }
            LogErased(record.Sequence, record.Removed.Decisions, record.Removed.Signals, record.Removed.Rewards, windows);
            erase.Done.TrySetResult(record);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Erasure {Sequence}: removed {Decisions} decisions, {Signals} signals, {Rewards} rewards and {Windows} open windows of one user.")]
    private partial void LogErased(long sequence, long decisions, long signals, long rewards, int windows);
}

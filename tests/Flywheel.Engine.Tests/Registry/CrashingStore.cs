using System.Runtime.CompilerServices;
using Flywheel.Core;

namespace Flywheel.Engine.Tests.Registry;

/// <summary>
/// A store decorator that simulates a process kill at a chosen write: once armed, the Nth write either fails before it
/// reaches the store or fails after it is durable, and from then on every write fails, as if the process had died
/// there (shutdown writes nothing more). Reads pass through. Counts writes so a test can visit every step of an operation.
/// </summary>
internal sealed class CrashingStore(IFlywheelStore inner) : IFlywheelStore
{
    private int _writes;
    private int _crashAt;
    private bool _afterWrite;

    /// <summary>Writes since the last <see cref="Arm"/> (or since opening).</summary>
    public int Writes => Volatile.Read(ref _writes);

    /// <summary>True once the simulated kill happened.</summary>
    public bool Crashed { get; private set; }

    /// <summary>The kind of each write since the last <see cref="Arm"/>, in order.</summary>
    public List<string> Log { get; } = [];

    /// <summary>Kills at write <paramref name="crashAt"/> (1-based; 0 never), before or after it is stored; resets the count.</summary>
    public void Arm(int crashAt, bool afterWrite)
    {
        lock (Log)
        {
            _writes = 0;
            _crashAt = crashAt;
            _afterWrite = afterWrite;
            Log.Clear();
        }
    }

    private async ValueTask WriteAsync(Func<ValueTask> write, [CallerMemberName] string name = "")
    {
        bool crashBefore, crashAfter;
        lock (Log)
        {
            if (Crashed)
            {
                throw new IOException("the process was killed (simulated)");
            }
            var n = ++_writes;
            Log.Add(name);
            crashBefore = n == _crashAt && !_afterWrite;
            crashAfter = n == _crashAt && _afterWrite;
            if (crashBefore)
            {
                Crashed = true;
                throw new IOException($"killed before write {n} ({name})");
            }
        }
        await write();
        if (crashAfter)
        {
            lock (Log)
            {
                Crashed = true;
            }
            throw new IOException($"killed after write {_crashAt} ({name})");
        }
    }

    public ValueTask InitializeAsync(CancellationToken cancellationToken = default) => inner.InitializeAsync(cancellationToken);

    public ValueTask SaveLoopAsync(LoopConfig config, CancellationToken cancellationToken = default) => WriteAsync(() => inner.SaveLoopAsync(config, cancellationToken));

    public ValueTask<IReadOnlyList<LoopConfig>> LoadLoopsAsync(CancellationToken cancellationToken = default) => inner.LoadLoopsAsync(cancellationToken);

    public ValueTask CommitAsync(StoreBatch batch, CancellationToken cancellationToken = default)
        => batch.IsEmpty ? inner.CommitAsync(batch, cancellationToken) : WriteAsync(() => inner.CommitAsync(batch, cancellationToken));

    public ValueTask<DecisionRecord?> GetDecisionAsync(string loop, string decisionId, CancellationToken cancellationToken = default) => inner.GetDecisionAsync(loop, decisionId, cancellationToken);

    public ValueTask<IReadOnlySet<string>> FindDecisionsAsync(string loop, IReadOnlyCollection<string> decisionIds, CancellationToken cancellationToken = default) => inner.FindDecisionsAsync(loop, decisionIds, cancellationToken);

    public ValueTask<IReadOnlySet<string>> FindSignalsAsync(string loop, IReadOnlyCollection<string> signalIds, CancellationToken cancellationToken = default) => inner.FindSignalsAsync(loop, signalIds, cancellationToken);

    public ValueTask<IReadOnlyList<SignalRecord>> FindSignalRecordsAsync(string loop, IReadOnlyCollection<string> signalIds, CancellationToken cancellationToken = default) => inner.FindSignalRecordsAsync(loop, signalIds, cancellationToken);

    public ValueTask<IReadOnlyList<SignalRecord>> GetSignalsAsync(string loop, string decisionId, CancellationToken cancellationToken = default) => inner.GetSignalsAsync(loop, decisionId, cancellationToken);

    public ValueTask<RewardRecord?> GetRewardAsync(string loop, string decisionId, CancellationToken cancellationToken = default) => inner.GetRewardAsync(loop, decisionId, cancellationToken);

    public IAsyncEnumerable<(DecisionRecord Decision, IReadOnlyList<SignalRecord> Signals)> ReadOpenDecisionsAsync(string loop, CancellationToken cancellationToken = default) => inner.ReadOpenDecisionsAsync(loop, cancellationToken);

    public IAsyncEnumerable<(DecisionRecord Decision, RewardRecord Reward)> ReadRewardsAsync(string loop, long afterSequence, CancellationToken cancellationToken = default) => inner.ReadRewardsAsync(loop, afterSequence, cancellationToken);

    public ValueTask<long> GetLastRewardSequenceAsync(string loop, CancellationToken cancellationToken = default) => inner.GetLastRewardSequenceAsync(loop, cancellationToken);

    public ValueTask SaveSnapshotAsync(ModelSnapshotRecord snapshot, CancellationToken cancellationToken = default) => WriteAsync(() => inner.SaveSnapshotAsync(snapshot, cancellationToken));

    public ValueTask<ModelSnapshotRecord?> LoadSnapshotAsync(string loop, CancellationToken cancellationToken = default) => inner.LoadSnapshotAsync(loop, cancellationToken);

    public ValueTask<LoopCounts> CountAsync(string loop, CancellationToken cancellationToken = default) => inner.CountAsync(loop, cancellationToken);

    public ValueTask SaveModelAsync(ModelRecord model, CancellationToken cancellationToken = default) => WriteAsync(() => inner.SaveModelAsync(model, cancellationToken));

    public ValueTask SaveModelDataAsync(string loop, int version, byte[]? data, CancellationToken cancellationToken = default) => WriteAsync(() => inner.SaveModelDataAsync(loop, version, data, cancellationToken));

    public ValueTask<byte[]?> LoadModelDataAsync(string loop, int version, CancellationToken cancellationToken = default) => inner.LoadModelDataAsync(loop, version, cancellationToken);

    public ValueTask<IReadOnlyList<ModelRecord>> LoadModelsAsync(string loop, CancellationToken cancellationToken = default) => inner.LoadModelsAsync(loop, cancellationToken);

    public ValueTask SaveTurnAsync(TurnRecord turn, CancellationToken cancellationToken = default) => WriteAsync(() => inner.SaveTurnAsync(turn, cancellationToken));

    public ValueTask CommitRegistryAsync(RegistryChange change, CancellationToken cancellationToken = default) => WriteAsync(() => inner.CommitRegistryAsync(change, cancellationToken));

    public ValueTask<IReadOnlyList<TurnRecord>> LoadTurnsAsync(string loop, CancellationToken cancellationToken = default) => inner.LoadTurnsAsync(loop, cancellationToken);

    public IAsyncEnumerable<DecisionOutcome> ReadOutcomesAsync(string loop, CancellationToken cancellationToken = default) => inner.ReadOutcomesAsync(loop, cancellationToken);

    public ValueTask<OutputRecord?> GetOutputAsync(string loop, string decisionId, CancellationToken cancellationToken = default) => inner.GetOutputAsync(loop, decisionId, cancellationToken);

    public IAsyncEnumerable<GenerationRecord> ReadGenerationsAsync(string loop, DateTimeOffset from, DateTimeOffset to, bool withText, CancellationToken cancellationToken = default)
        => inner.ReadGenerationsAsync(loop, from, to, withText, cancellationToken);

    public IAsyncEnumerable<UserVisit> ReadUserVisitsAsync(string loop, CancellationToken cancellationToken = default) => inner.ReadUserVisitsAsync(loop, cancellationToken);

    public ValueTask<IReadOnlyList<Features>> ReadContextsAsync(string loop, DateTimeOffset from, DateTimeOffset to, int count, CancellationToken cancellationToken = default) => inner.ReadContextsAsync(loop, from, to, count, cancellationToken);

    public ValueTask<ErasureRecord> EraseUserAsync(string userId, DateTimeOffset at, CancellationToken cancellationToken = default) => inner.EraseUserAsync(userId, at, cancellationToken);

    public ValueTask<IReadOnlyList<ErasureRecord>> LoadErasuresAsync(CancellationToken cancellationToken = default) => inner.LoadErasuresAsync(cancellationToken);

    public ValueTask CheckWritableAsync(CancellationToken cancellationToken = default) => inner.CheckWritableAsync(cancellationToken);

    public ValueTask<IReadOnlyList<RewardArrival>> ReadRewardArrivalsAsync(string loop, long afterSequence, long throughSequence, CancellationToken cancellationToken = default) => inner.ReadRewardArrivalsAsync(loop, afterSequence, throughSequence, cancellationToken);

    public ValueTask<IReadOnlyList<TurnRecord>> LoadLatestTurnsAsync(string loop, int count, CancellationToken cancellationToken = default) => inner.LoadLatestTurnsAsync(loop, count, cancellationToken);

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}

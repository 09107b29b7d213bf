using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Flywheel.Core;
using Microsoft.Data.Sqlite;
using static Flywheel.Storage.Sqlite.SqliteRows;

namespace Flywheel.Storage.Sqlite;

/// <summary>
/// The embedded <see cref="IFlywheelStore"/>: one SQLite file in WAL mode (docs/operations.md). One long-lived writer
/// connection, guarded by a lock, takes every write; reads open their own pooled read-only connections, so they
/// never wait for the writer. Each <see cref="CommitAsync"/> is one transaction with prepared, reused statements.
/// </summary>
/// <remarks>
/// Create it with <see cref="OpenAsync"/>, or construct it and call <see cref="InitializeAsync"/> before anything
/// else. Times are stored as UTC ticks and come back exact, with offset zero.
/// </remarks>
public sealed partial class SqliteFlywheelStore : IFlywheelStore
{
    /// <summary>The schema version this build writes and reads (kept in <c>PRAGMA user_version</c>).</summary>
    public const int SchemaVersion = SqliteSchema.Version;

    /// <summary>Most ids bound into one <c>IN (…)</c> lookup.</summary>
    private const int LookupChunk = 500;

    private readonly SqliteDatabase _db;

    /// <summary>Creates a store over the file that <paramref name="options"/> names; call <see cref="InitializeAsync"/> next.</summary>
    /// <param name="options">Where the file lives and how durable commits are.</param>
    public SqliteFlywheelStore(SqliteStoreOptions options) => _db = new SqliteDatabase(options, this);

    /// <summary>One round of the background checkpointer, now (tests).</summary>
    internal void CheckpointNow() => _db.CheckpointNow();

    /// <summary>The full path of the database file.</summary>
    public string DatabasePath => _db.Path;

    /// <summary>The durability commits have.</summary>
    public SqliteDurability Durability => _db.Durability;

    /// <summary>The database file and the promise an acknowledgement makes under <see cref="Durability"/>.</summary>
    public string Description => $"SQLite at {DatabasePath}; durability {DurabilityPromise(Durability)}";

    /// <summary>The promise an acknowledgement makes under <paramref name="durability"/>, for logs and docs.</summary>
    public static string DurabilityPromise(SqliteDurability durability) => durability == SqliteDurability.Power
        ? "power: every acknowledged event is fsynced (synchronous=FULL) and survives power loss"
        : "process: every acknowledged event survives any process crash (WAL, synchronous=NORMAL); the last commits may be lost on power loss";

    /// <summary>Creates a store and initializes it: the directory, the file, WAL mode and the schema.</summary>
    /// <param name="options">Where the file lives and how durable commits are.</param>
    /// <param name="cancellationToken">Cancels the wait for the writer.</param>
    /// <returns>The ready store; the caller disposes it.</returns>
    public static async ValueTask<SqliteFlywheelStore> OpenAsync(SqliteStoreOptions options, CancellationToken cancellationToken = default)
    {
        var store = new SqliteFlywheelStore(options);
        try
        {
            await store.InitializeAsync(cancellationToken).ConfigureAwait(false);
            return store;
        }
        catch
        {
            await store.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// Creates the data directory and the file, switches it to WAL, sets <c>synchronous</c> from <see cref="Durability"/>
    /// and creates the schema when missing. Calling it again does nothing. Throws <see cref="NotSupportedException"/>
    /// for a file written by a newer schema version.
    /// </remarks>
    public ValueTask InitializeAsync(CancellationToken cancellationToken = default) => _db.InitializeAsync(cancellationToken);

    /// <inheritdoc />
    public async ValueTask SaveLoopAsync(LoopConfig config, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        var json = LoopConfigJson.Serialize(config);
        using var lease = await _db.WriteAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var command = lease.Connection.CreateCommand();
            command.CommandText = """
                INSERT INTO loops (id, config, updated_at) VALUES ($id, $config, $updated_at)
                ON CONFLICT (id) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at
                """;
            command.Parameters.AddWithValue("$id", config.Id);
            command.Parameters.AddWithValue("$config", json);
            command.Parameters.AddWithValue("$updated_at", _db.Time.GetUtcNow().UtcTicks);
            command.ExecuteNonQuery();
        }
        catch (SqliteException ex) when (lease.Fault(ex) is { } fault)
        {
            throw fault;
        }
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<LoopConfig>> LoadLoopsAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await _db.OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT config FROM loops ORDER BY id";
        using var reader = command.ExecuteReader();
        var loops = new List<LoopConfig>();
        while (reader.Read())
        {
            loops.Add(LoopConfigJson.Parse(reader.GetString(0)));
        }
        return loops;
    }

    /// <inheritdoc />
    /// <remarks>
    /// Decisions, then signals in list order (which fixes their arrival order), then rewards, all in one
    /// transaction: on any failure, such as a duplicate id, nothing of the batch is written and the exception
    /// (a <see cref="SqliteException"/> for constraint violations, a <see cref="FlywheelStoreWriteException"/> for a
    /// full, read-only or failing disk) propagates. <paramref name="cancellationToken"/> cancels the wait for the
    /// writer; a transaction once begun runs to its end.
    /// </remarks>
    public async ValueTask CommitAsync(StoreBatch batch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var lease = await _db.WriteAsync(cancellationToken).ConfigureAwait(false);
        var writer = lease.Connection;
        if (batch.IsEmpty)
        {
            return;
        }
        cancellationToken.ThrowIfCancellationRequested();
        var statements = lease.Statements;
        try
        {
            using var transaction = writer.BeginTransaction();
            statements.Enlist(transaction);
            foreach (var decision in batch.Decisions)
            {
                statements.InsertDecision(decision);
            }
            foreach (var signal in batch.Signals)
            {
                statements.InsertSignal(signal);
            }
            foreach (var reward in batch.Rewards)
            {
                statements.InsertReward(reward);
            }
            foreach (var output in batch.Outputs)
            {
                statements.InsertOutput(output);
            }
            transaction.Commit();
        }
        catch (SqliteException ex) when (lease.Fault(ex) is { } fault)
        {
            throw fault;
        }
        lease.Committed();
    }

    /// <inheritdoc />
    public async ValueTask<DecisionRecord?> GetDecisionAsync(string loop, string decisionId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(decisionId);
        await using var connection = await _db.OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {SqliteSchema.DecisionColumns} FROM decisions AS d WHERE d.loop = $loop AND d.decision_id = $id";
        command.Parameters.AddWithValue("$loop", loop);
        command.Parameters.AddWithValue("$id", decisionId);
        using var reader = command.ExecuteReader();
        return reader.Read() ? ReadDecision(reader, 0, loop) : null;
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlySet<string>> FindDecisionsAsync(string loop, IReadOnlyCollection<string> decisionIds, CancellationToken cancellationToken = default)
        => FindAsync("SELECT decision_id FROM decisions WHERE loop = $loop AND decision_id IN (", loop, decisionIds, cancellationToken);

    /// <inheritdoc />
    public ValueTask<IReadOnlySet<string>> FindSignalsAsync(string loop, IReadOnlyCollection<string> signalIds, CancellationToken cancellationToken = default)
        => FindAsync("SELECT signal_id FROM signals WHERE loop = $loop AND signal_id IN (", loop, signalIds, cancellationToken);

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<SignalRecord>> FindSignalRecordsAsync(string loop, IReadOnlyCollection<string> signalIds, CancellationToken cancellationToken = default)
    {
        var found = new List<SignalRecord>();
        await LookupAsync($"SELECT {SqliteSchema.SignalColumns} FROM signals AS s WHERE s.loop = $loop AND s.signal_id IN (", loop, signalIds,
            reader => found.Add(ReadSignal(reader, 0, loop)), cancellationToken).ConfigureAwait(false);
        return found;
    }

    private async ValueTask<IReadOnlySet<string>> FindAsync(string sqlPrefix, string loop, IReadOnlyCollection<string> ids, CancellationToken cancellationToken)
    {
        var found = new HashSet<string>(StringComparer.Ordinal);
        await LookupAsync(sqlPrefix, loop, ids, reader => found.Add(reader.GetString(0)), cancellationToken).ConfigureAwait(false);
        return found;
    }

    /// <summary>Runs <paramref name="sqlPrefix"/> <c>…IN (ids)</c> in chunks, handing each row to <paramref name="read"/>.</summary>
    private async ValueTask LookupAsync(string sqlPrefix, string loop, IReadOnlyCollection<string> ids, Action<SqliteDataReader> read, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Count == 0)
        {
            _db.ThrowIfDisposed();
            return;
        }
        var wanted = new HashSet<string>(ids, StringComparer.Ordinal).ToArray();
        await using var connection = await _db.OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        SqliteCommand? fullChunk = null;
        try
        {
            for (var start = 0; start < wanted.Length; start += LookupChunk)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var count = Math.Min(LookupChunk, wanted.Length - start);
                SqliteCommand command;
                if (count == LookupChunk)
                {
                    command = fullChunk ??= CreateLookup(connection, sqlPrefix, LookupChunk);
                }
                else
                {
                    command = CreateLookup(connection, sqlPrefix, count);
                }
                try
                {
                    command.Parameters[0].Value = loop;
                    for (var i = 0; i < count; i++)
                    {
                        command.Parameters[i + 1].Value = wanted[start + i];
                    }
                    using var reader = command.ExecuteReader();
                    while (reader.Read())
                    {
                        read(reader);
                    }
                }
                finally
                {
                    if (command != fullChunk)
                    {
                        command.Dispose();
                    }
                }
            }
        }
        finally
        {
            fullChunk?.Dispose();
        }
    }

    private static SqliteCommand CreateLookup(SqliteConnection connection, string sqlPrefix, int count)
    {
        var sql = new StringBuilder(sqlPrefix, sqlPrefix.Length + (count * 7) + 1);
        var command = connection.CreateCommand();
        command.Parameters.Add("$loop", SqliteType.Text);
        for (var i = 0; i < count; i++)
        {
            var name = "$p" + i.ToString(CultureInfo.InvariantCulture);
            sql.Append(i == 0 ? "" : ",").Append(name);
            command.Parameters.Add(name, SqliteType.Text);
        }
        sql.Append(')');
        command.CommandText = sql.ToString();
        return command;
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<SignalRecord>> GetSignalsAsync(string loop, string decisionId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(decisionId);
        await using var connection = await _db.OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {SqliteSchema.SignalColumns} FROM signals AS s WHERE s.loop = $loop AND s.decision_id = $id ORDER BY s.seq";
        command.Parameters.AddWithValue("$loop", loop);
        command.Parameters.AddWithValue("$id", decisionId);
        using var reader = command.ExecuteReader();
        var signals = new List<SignalRecord>();
        while (reader.Read())
        {
            signals.Add(ReadSignal(reader, 0, loop));
        }
        return signals;
    }

    /// <inheritdoc />
    public async ValueTask<RewardRecord?> GetRewardAsync(string loop, string decisionId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(decisionId);
        await using var connection = await _db.OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {SqliteSchema.RewardColumns} FROM rewards AS r WHERE r.loop = $loop AND r.decision_id = $id";
        command.Parameters.AddWithValue("$loop", loop);
        command.Parameters.AddWithValue("$id", decisionId);
        using var reader = command.ExecuteReader();
        return reader.Read() ? ReadReward(reader, 0, loop) : null;
    }

    /// <inheritdoc />
    /// <remarks>
    /// Two queries in one read transaction: first the non-late signals of every open decision (grouped in memory),
    /// then the open decisions themselves, streamed in (<c>at</c>, insertion) order.
    /// </remarks>
    public async IAsyncEnumerable<(DecisionRecord Decision, IReadOnlyList<SignalRecord> Signals)> ReadOpenDecisionsAsync(
        string loop, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loop);
        await using var connection = await _db.OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        using var transaction = connection.BeginTransaction(deferred: true);

        // CROSS JOIN keeps decisions as the outer loop: only open decisions' signals are fetched, through the
        // (loop, decision_id) index, instead of every signal the loop ever received.
        var signalsByDecision = new Dictionary<string, List<SignalRecord>>(StringComparer.Ordinal);
        using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = $"""
                SELECT {SqliteSchema.SignalColumns}
                FROM decisions AS d
                CROSS JOIN signals AS s
                WHERE d.loop = $loop
                  AND NOT EXISTS (SELECT 1 FROM rewards AS r WHERE r.loop = d.loop AND r.decision_id = d.decision_id)
                  AND s.loop = d.loop AND s.decision_id = d.decision_id AND s.late = 0
                ORDER BY s.seq
                """;
            command.Parameters.AddWithValue("$loop", loop);
            using var reader = command.ExecuteReader();
            var rows = 0;
            while (reader.Read())
            {
                if ((++rows & 1023) == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }
                var signal = ReadSignal(reader, 0, loop);
                if (!signalsByDecision.TryGetValue(signal.DecisionId!, out var list))
                {
                    list = [];
                    signalsByDecision.Add(signal.DecisionId!, list);
                }
                list.Add(signal);
            }
        }

        using var decisions = connection.CreateCommand();
        decisions.Transaction = transaction;
        decisions.CommandText = $"""
            SELECT {SqliteSchema.DecisionColumns}
            FROM decisions AS d
            WHERE d.loop = $loop
              AND NOT EXISTS (SELECT 1 FROM rewards AS r WHERE r.loop = d.loop AND r.decision_id = d.decision_id)
            ORDER BY d.at, d.rowid
            """;
        decisions.Parameters.AddWithValue("$loop", loop);
        using var decisionReader = decisions.ExecuteReader();
        while (decisionReader.Read())
        {
            cancellationToken.ThrowIfCancellationRequested();
            var decision = ReadDecision(decisionReader, 0, loop);
            IReadOnlyList<SignalRecord> signals = signalsByDecision.Remove(decision.DecisionId, out var found) ? found : [];
            yield return (decision, signals);
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// Reads in chunks of <see cref="SqliteStoreOptions.ReadChunkRows"/>, each its own short read transaction, and
    /// yields a chunk only after its statement is reset: a turn or evaluation that takes minutes over the rows never
    /// pins a snapshot, so the checkpointer can still reset the WAL meanwhile. Sequence numbers only grow, so paging
    /// on them neither skips nor repeats a reward.
    /// </remarks>
    public async IAsyncEnumerable<(DecisionRecord Decision, RewardRecord Reward)> ReadRewardsAsync(
        string loop, long afterSequence, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loop);
        await using var connection = await _db.OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT {SqliteSchema.RewardColumns}, {SqliteSchema.DecisionColumns}
            FROM rewards AS r
            JOIN decisions AS d ON d.loop = r.loop AND d.decision_id = r.decision_id
            WHERE r.loop = $loop AND r.seq > $after
            ORDER BY r.seq
            LIMIT $limit
            """;
        command.Parameters.AddWithValue("$loop", loop);
        var after = command.Parameters.AddWithValue("$after", afterSequence);
        command.Parameters.AddWithValue("$limit", _db.ReadChunkRows);
        var chunk = new List<(DecisionRecord, RewardRecord)>(Math.Min(_db.ReadChunkRows, 4096));
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            chunk.Clear();
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    var reward = ReadReward(reader, 0, loop);
                    chunk.Add((ReadDecision(reader, SqliteSchema.RewardColumnCount, loop), reward));
                }
            }
            foreach (var row in chunk)
            {
                yield return row;
            }
            if (chunk.Count < _db.ReadChunkRows)
            {
                yield break;
            }
            after.Value = chunk[^1].Item2.Sequence;
        }
    }

    /// <inheritdoc />
    public async ValueTask<long> GetLastRewardSequenceAsync(string loop, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loop);
        await using var connection = await _db.OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        using var command = connection.CreateCommand();
        // An erasure may have deleted the newest rewards; their sequence numbers stay used (the learner's snapshot and
        // the ledger refer to positions), so the mark it left counts too.
        command.CommandText = """
            SELECT MAX(COALESCE((SELECT MAX(seq) FROM rewards WHERE loop = $loop), 0),
                       COALESCE((SELECT last_seq FROM reward_marks WHERE loop = $loop), 0))
            """;
        command.Parameters.AddWithValue("$loop", loop);
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    /// <inheritdoc />
    public async ValueTask SaveSnapshotAsync(ModelSnapshotRecord snapshot, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(snapshot.Data);
        using var lease = await _db.WriteAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            WriteSnapshot(lease.Connection, null, snapshot);
        }
        catch (SqliteException ex) when (lease.Fault(ex) is { } fault)
        {
            throw fault;
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// Rewrites the schema version with its own value in a transaction of its own: one page through the WAL, where
    /// every commit goes, so it fails as a commit would on a full, read-only or failing disk. One page can still fit
    /// where a group commit does not, so a disk with less than 1 MiB free counts as full even when the page fits.
    /// </remarks>
    public async ValueTask CheckWritableAsync(CancellationToken cancellationToken = default)
    {
        using var lease = await _db.WriteAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var transaction = lease.Connection.BeginTransaction();
            SqliteDatabase.Execute(lease.Connection, $"PRAGMA user_version = {SqliteSchema.Version.ToString(CultureInfo.InvariantCulture)};", transaction);
            transaction.Commit();
        }
        catch (SqliteException ex) when (lease.Fault(ex) is { } fault)
        {
            throw fault;
        }
        lease.Committed();
        var directory = Path.GetDirectoryName(DatabasePath)!;
        if (SqliteFaults.FreeBytes(directory) is { } free && free < SqliteFaults.ProbeFreeBytes)
        {
            var cause = $"{free} bytes free; it counts as writable again from {SqliteFaults.ProbeFreeBytes} bytes";
            throw SqliteFaults.WriteFault(StoreWriteFailure.DiskFull, directory, cause, new IOException(cause));
        }
    }

    /// <summary>Replaces the loop's snapshot row; inside <paramref name="transaction"/> when the write is part of a larger one.</summary>
    private static void WriteSnapshot(SqliteConnection writer, SqliteTransaction? transaction, ModelSnapshotRecord snapshot)
    {
        using var command = writer.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO snapshots (loop, version, learned_through, created_at, data)
            VALUES ($loop, $version, $learned_through, $created_at, $data)
            ON CONFLICT (loop) DO UPDATE SET
                version = excluded.version, learned_through = excluded.learned_through,
                created_at = excluded.created_at, data = excluded.data
            """;
        command.Parameters.AddWithValue("$loop", snapshot.Loop);
        command.Parameters.AddWithValue("$version", snapshot.Version);
        command.Parameters.AddWithValue("$learned_through", snapshot.LearnedThrough);
        command.Parameters.AddWithValue("$created_at", snapshot.CreatedAt.UtcTicks);
        command.Parameters.Add("$data", SqliteType.Blob).Value = snapshot.Data;
        command.ExecuteNonQuery();
    }

    /// <inheritdoc />
    public async ValueTask<ModelSnapshotRecord?> LoadSnapshotAsync(string loop, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loop);
        await using var connection = await _db.OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT version, learned_through, created_at, data FROM snapshots WHERE loop = $loop";
        command.Parameters.AddWithValue("$loop", loop);
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }
        return new ModelSnapshotRecord
        {
            Loop = loop,
            Version = reader.GetInt32(0),
            LearnedThrough = reader.GetInt64(1),
            CreatedAt = FromTicks(reader.GetInt64(2)),
            Data = reader.IsDBNull(3) ? [] : reader.GetFieldValue<byte[]>(3),
        };
    }

    /// <inheritdoc />
    public async ValueTask<LoopCounts> CountAsync(string loop, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loop);
        await using var connection = await _db.OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT (SELECT COUNT(*) FROM decisions WHERE loop = $loop),
                   (SELECT COUNT(*) FROM signals WHERE loop = $loop),
                   (SELECT COUNT(*) FROM signals WHERE loop = $loop AND late = 1),
                   (SELECT COUNT(*) FROM signals WHERE loop = $loop AND orphaned = 1),
                   (SELECT COUNT(*) FROM rewards WHERE loop = $loop)
            """;
        command.Parameters.AddWithValue("$loop", loop);
        using var reader = command.ExecuteReader();
        reader.Read();
        return new LoopCounts(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4));
    }

    /// <summary>Finishes any commit in progress, then closes the file, so another store in this process can open it.</summary>
    public ValueTask DisposeAsync() => _db.DisposeAsync();

    /// <summary>Reads a pragma on the writer connection (tests check <c>synchronous</c> with it).</summary>
    internal async ValueTask<object?> ReadWriterPragmaAsync(string pragma, CancellationToken cancellationToken = default)
    {
        using var lease = await _db.WriteAsync(cancellationToken).ConfigureAwait(false);
        return SqliteDatabase.Scalar(lease.Connection, $"PRAGMA {pragma};");
    }
}

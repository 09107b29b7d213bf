using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Flywheel.Core;
using Microsoft.Data.Sqlite;

namespace Flywheel.Storage.Sqlite;

/// <summary>
/// The embedded <see cref="IFlywheelStore"/>: one SQLite file in WAL mode (DESIGN §7). One long-lived writer
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

    /// <summary>The writer's page cache, in KiB (SQLite's default is 2 MiB).</summary>
    private const int WriterCacheKiB = 32 * 1024;

    private const string Timeout = "timeout";
    private const string SignalClose = "signal";

    private readonly string _writeConnectionString;
    private readonly string _readConnectionString;
    private readonly int _busyTimeoutMs;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _writeLock = new(1, 1);

    private SqliteConnection? _writer;
    private readonly CancellationTokenSource _stopCheckpoints = new();
    private Task? _checkpoints;
    private int _commitsSinceCheckpoint;

    /// <summary>How often the WAL is checkpointed in the background (commits never checkpoint themselves). <value>500 ms.</value></summary>
    internal static readonly TimeSpan CheckpointInterval = TimeSpan.FromMilliseconds(500);
    private WriteStatements? _statements;
    private volatile bool _initialized;
    private volatile bool _disposed;

    /// <summary>Creates a store over the file that <paramref name="options"/> names; call <see cref="InitializeAsync"/> next.</summary>
    /// <param name="options">Where the file lives and how durable commits are.</param>
    public SqliteFlywheelStore(SqliteStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.DataDirectory);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.FileName);
        if (!Enum.IsDefined(options.Durability))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Durability, "Unknown durability.");
        }
        if (options.BusyTimeout < TimeSpan.Zero || options.BusyTimeout.TotalMilliseconds > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.BusyTimeout, "The busy timeout must be between zero and int.MaxValue milliseconds.");
        }

        DatabasePath = options.DatabasePath;
        Durability = options.Durability;
        _busyTimeoutMs = (int)options.BusyTimeout.TotalMilliseconds;
        _time = options.TimeProvider ?? TimeProvider.System;

        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = DatabasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            // The writer lives as long as the store: no pool, so disposing really closes it.
            Pooling = false,
            DefaultTimeout = Math.Max(1, (int)Math.Ceiling(options.BusyTimeout.TotalSeconds)),
        };
        _writeConnectionString = builder.ConnectionString;
        builder.Mode = SqliteOpenMode.ReadOnly;
        builder.Pooling = true;
        _readConnectionString = builder.ConnectionString;
    }

    /// <summary>The full path of the database file.</summary>
    public string DatabasePath { get; }

    /// <summary>The durability commits have.</summary>
    public SqliteDurability Durability { get; }

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
    public async ValueTask InitializeAsync(CancellationToken cancellationToken = default)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_writer is not null)
            {
                return;
            }
            Directory.CreateDirectory(Path.GetDirectoryName(DatabasePath)!);
            var connection = new SqliteConnection(_writeConnectionString);
            try
            {
                connection.Open();
                Execute(connection, $"PRAGMA busy_timeout = {_busyTimeoutMs.ToString(CultureInfo.InvariantCulture)};");
                var journal = Convert.ToString(Scalar(connection, "PRAGMA journal_mode = WAL;"), CultureInfo.InvariantCulture);
                if (!string.Equals(journal, "wal", StringComparison.OrdinalIgnoreCase))
                {
                    throw new InvalidOperationException($"SQLite refused WAL mode for '{DatabasePath}' (journal_mode is '{journal}').");
                }
                Execute(connection, Durability == SqliteDurability.Power ? "PRAGMA synchronous = FULL;" : "PRAGMA synchronous = NORMAL;");
                // The writer touches index pages all over the file (ids are random): keep more of them in memory.
                Execute(connection, $"PRAGMA cache_size = -{WriterCacheKiB.ToString(CultureInfo.InvariantCulture)};");
                // A commit that crosses the WAL threshold would checkpoint inline (three fsyncs behind the writer);
                // a background connection does it instead.
                Execute(connection, "PRAGMA wal_autocheckpoint = 0;");
                Migrate(connection);
                _statements = new WriteStatements(connection);
                _writer = connection;
                _initialized = true;
                _checkpoints = Task.Run(CheckpointLoopAsync, CancellationToken.None);
            }
            catch
            {
                _statements?.Dispose();
                _statements = null;
                connection.Dispose();
                throw;
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private void Migrate(SqliteConnection connection)
    {
        // BEGIN IMMEDIATE: two processes opening a new file at once migrate one after the other.
        using var transaction = connection.BeginTransaction();
        var version = Convert.ToInt64(Scalar(connection, "PRAGMA user_version;", transaction), CultureInfo.InvariantCulture);
        if (version > SqliteSchema.Version)
        {
            throw new NotSupportedException(
                $"'{DatabasePath}' has schema version {version}; this build of Flywheel reads up to version {SqliteSchema.Version}. Upgrade Flywheel.");
        }
        if (version < 1)
        {
            Execute(connection, SqliteSchema.CreateVersion1, transaction);
        }
        if (version < 2)
        {
            Execute(connection, SqliteSchema.CreateVersion2, transaction);
        }
        // Later versions add their steps here, each guarded by the version it upgrades from.
        if (version < SqliteSchema.Version)
        {
            Execute(connection, $"PRAGMA user_version = {SqliteSchema.Version.ToString(CultureInfo.InvariantCulture)};", transaction);
        }
        transaction.Commit();
    }

    /// <inheritdoc />
    public async ValueTask SaveLoopAsync(LoopConfig config, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        var json = LoopConfigJson.Serialize(config);
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var writer = Writer();
            using var command = writer.CreateCommand();
            command.CommandText = """
                INSERT INTO loops (id, config, updated_at) VALUES ($id, $config, $updated_at)
                ON CONFLICT (id) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at
                """;
            command.Parameters.AddWithValue("$id", config.Id);
            command.Parameters.AddWithValue("$config", json);
            command.Parameters.AddWithValue("$updated_at", _time.GetUtcNow().UtcTicks);
            command.ExecuteNonQuery();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<LoopConfig>> LoadLoopsAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
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
    /// (a <see cref="SqliteException"/> for constraint violations) propagates. <paramref name="cancellationToken"/>
    /// cancels the wait for the writer; a transaction once begun runs to its end.
    /// </remarks>
    public async ValueTask CommitAsync(StoreBatch batch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var writer = Writer();
            if (batch.IsEmpty)
            {
                return;
            }
            cancellationToken.ThrowIfCancellationRequested();
            var statements = _statements!;
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
            transaction.Commit();
            Interlocked.Increment(ref _commitsSinceCheckpoint);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask<DecisionRecord?> GetDecisionAsync(string loop, string decisionId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(decisionId);
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
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

    private async ValueTask<IReadOnlySet<string>> FindAsync(string sqlPrefix, string loop, IReadOnlyCollection<string> ids, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(ids);
        var found = new HashSet<string>(StringComparer.Ordinal);
        if (ids.Count == 0)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return found;
        }
        var wanted = new HashSet<string>(ids, StringComparer.Ordinal).ToArray();
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
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
                        found.Add(reader.GetString(0));
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
        return found;
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
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
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
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
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
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
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
    /// <remarks>Streams from one query; rows are read as the caller iterates.</remarks>
    public async IAsyncEnumerable<(DecisionRecord Decision, RewardRecord Reward)> ReadRewardsAsync(
        string loop, long afterSequence, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loop);
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT {SqliteSchema.RewardColumns}, {SqliteSchema.DecisionColumns}
            FROM rewards AS r
            JOIN decisions AS d ON d.loop = r.loop AND d.decision_id = r.decision_id
            WHERE r.loop = $loop AND r.seq > $after
            ORDER BY r.seq
            """;
        command.Parameters.AddWithValue("$loop", loop);
        command.Parameters.AddWithValue("$after", afterSequence);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            cancellationToken.ThrowIfCancellationRequested();
            var reward = ReadReward(reader, 0, loop);
            var decision = ReadDecision(reader, SqliteSchema.RewardColumnCount, loop);
            yield return (decision, reward);
        }
    }

    /// <inheritdoc />
    public async ValueTask<long> GetLastRewardSequenceAsync(string loop, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loop);
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COALESCE(MAX(seq), 0) FROM rewards WHERE loop = $loop";
        command.Parameters.AddWithValue("$loop", loop);
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    /// <inheritdoc />
    public async ValueTask SaveSnapshotAsync(ModelSnapshotRecord snapshot, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(snapshot.Data);
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var writer = Writer();
            using var command = writer.CreateCommand();
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
        finally
        {
            _writeLock.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask<ModelSnapshotRecord?> LoadSnapshotAsync(string loop, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loop);
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
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
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT (SELECT COUNT(*) FROM decisions WHERE loop = $loop),
                   s.total, s.late, s.orphaned,
                   (SELECT COUNT(*) FROM rewards WHERE loop = $loop)
            FROM (SELECT COUNT(*) AS total, COALESCE(SUM(late), 0) AS late, COALESCE(SUM(orphaned), 0) AS orphaned
                  FROM signals WHERE loop = $loop) AS s
            """;
        command.Parameters.AddWithValue("$loop", loop);
        using var reader = command.ExecuteReader();
        reader.Read();
        return new LoopCounts(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4));
    }

    private async Task CheckpointLoopAsync()
    {
        var token = _stopCheckpoints.Token;
        using var connection = new SqliteConnection(_writeConnectionString);
        try
        {
            connection.Open();
            Execute(connection, $"PRAGMA busy_timeout = {_busyTimeoutMs.ToString(CultureInfo.InvariantCulture)};");
        }
        catch (SqliteException)
        {
            return; // Without it the WAL is still checkpointed when the writer closes.
        }
        while (!token.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(CheckpointInterval, _time, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            if (Interlocked.Exchange(ref _commitsSinceCheckpoint, 0) == 0)
            {
                continue;
            }
            try
            {
                // PASSIVE never blocks the writer or readers; what it cannot copy now, the next round will.
                Execute(connection, "PRAGMA wal_checkpoint(PASSIVE);");
            }
            catch (SqliteException)
            {
            }
        }
    }

    /// <summary>
    /// Finishes any commit in progress, then closes the writer and clears this file's read-connection pool, so the
    /// file can be opened again by another store in the same process.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        await _stopCheckpoints.CancelAsync().ConfigureAwait(false);
        if (_checkpoints is not null)
        {
            await _checkpoints.ConfigureAwait(false);
        }
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            _statements?.Dispose();
            _statements = null;
            // Idle readers go first, so the writer is the file's last connection: closing it checkpoints the WAL
            // and removes it. Readers still streaming are closed when their enumeration ends.
            using (var pooled = new SqliteConnection(_readConnectionString))
            {
                SqliteConnection.ClearPool(pooled);
            }
            if (_writer is not null)
            {
                try
                {
                    Execute(_writer, "PRAGMA optimize;");
                }
                catch (SqliteException)
                {
                    // Only a hint for the query planner; closing matters more.
                }
                _writer.Dispose();
                _writer = null;
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Reads a pragma on the writer connection (tests check <c>synchronous</c> with it).</summary>
    internal async ValueTask<object?> ReadWriterPragmaAsync(string pragma, CancellationToken cancellationToken = default)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return Scalar(Writer(), $"PRAGMA {pragma};");
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private SqliteConnection Writer()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _writer ?? throw NotInitialized();
    }

    private async ValueTask<SqliteConnection> OpenReaderAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_initialized)
        {
            throw NotInitialized();
        }
        var connection = new SqliteConnection(_readConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private InvalidOperationException NotInitialized()
        => new($"The SQLite store at '{DatabasePath}' is not initialized: call InitializeAsync first, or create it with SqliteFlywheelStore.OpenAsync.");

    private static void Execute(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static object? Scalar(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    private static DateTimeOffset FromTicks(long utcTicks) => new(utcTicks, TimeSpan.Zero);

    /// <summary>A TEXT column's UTF-8 bytes, without decoding them to a string.</summary>
    private static byte[] Utf8(SqliteDataReader reader, int ordinal) => reader.GetFieldValue<byte[]>(ordinal);

    private static string? NullableString(SqliteDataReader reader, int ordinal)
        => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    private static DecisionRecord ReadDecision(SqliteDataReader reader, int o, string loop) => new()
    {
        Loop = loop,
        DecisionId = reader.GetString(o),
        At = FromTicks(reader.GetInt64(o + 1)),
        UserId = NullableString(reader, o + 2),
        Context = StoredJson.ReadFeatures(Utf8(reader, o + 3), "decisions.context"),
        Actions = StoredJson.ReadActions(Utf8(reader, o + 4)),
        BaselineActionId = NullableString(reader, o + 5),
        ChosenActionId = reader.GetString(o + 6),
        Explored = reader.GetInt64(o + 7) != 0,
        Ranking = StoredJson.ReadRanking(Utf8(reader, o + 8)),
        ModelVersion = reader.GetInt32(o + 9),
        Shadows = reader.IsDBNull(o + 10) ? [] : ReadShadows(Utf8(reader, o + 10)),
    };

    private static IReadOnlyList<ShadowChoice> ReadShadows(byte[] json) => StoredJson.Read<IReadOnlyList<ShadowChoice>>(json, "decisions.shadows");

    private static SignalRecord ReadSignal(SqliteDataReader reader, int o, string loop) => new()
    {
        Loop = loop,
        SignalId = reader.GetString(o),
        DecisionId = NullableString(reader, o + 1),
        UserId = NullableString(reader, o + 2),
        Type = reader.GetString(o + 3),
        Value = reader.GetDouble(o + 4),
        At = FromTicks(reader.GetInt64(o + 5)),
        ReceivedAt = FromTicks(reader.GetInt64(o + 6)),
        Late = reader.GetInt64(o + 7) != 0,
        Orphaned = reader.GetInt64(o + 8) != 0,
    };

    private static RewardRecord ReadReward(SqliteDataReader reader, int o, string loop) => new()
    {
        Loop = loop,
        DecisionId = reader.GetString(o),
        Sequence = reader.GetInt64(o + 1),
        Reward = reader.GetDouble(o + 2),
        SignalCount = reader.GetInt32(o + 3),
        ClosedAt = FromTicks(reader.GetInt64(o + 4)),
        ClosedBy = reader.GetString(o + 5) switch
        {
            Timeout => WindowClose.Timeout,
            SignalClose => WindowClose.Signal,
            var other => throw StoredJson.Corrupt("rewards.closed_by", $"'{other}'"),
        },
    };

    /// <summary>The commit's prepared statements, bound to the writer connection and re-bound per row.</summary>
    private sealed class WriteStatements : IDisposable
    {
        private readonly StoredJsonWriter _json = new();
        private readonly SqliteCommand _decision;
        private readonly SqliteParameter[] _d;
        private readonly SqliteCommand _signal;
        private readonly SqliteParameter[] _s;
        private readonly SqliteCommand _reward;
        private readonly SqliteParameter[] _r;

        public WriteStatements(SqliteConnection connection)
        {
            (_decision, _d) = Prepare(connection, SqliteSchema.InsertDecision,
                ("$loop", SqliteType.Text), ("$decision_id", SqliteType.Text), ("$at", SqliteType.Integer),
                ("$user_id", SqliteType.Text), ("$context", SqliteType.Blob), ("$actions", SqliteType.Blob),
                ("$baseline_action_id", SqliteType.Text), ("$chosen_action_id", SqliteType.Text),
                ("$explored", SqliteType.Integer), ("$ranking", SqliteType.Blob), ("$model_version", SqliteType.Integer),
                ("$shadows", SqliteType.Blob));
            (_signal, _s) = Prepare(connection, SqliteSchema.InsertSignal,
                ("$loop", SqliteType.Text), ("$signal_id", SqliteType.Text), ("$decision_id", SqliteType.Text),
                ("$user_id", SqliteType.Text), ("$type", SqliteType.Text), ("$value", SqliteType.Real),
                ("$at", SqliteType.Integer), ("$received_at", SqliteType.Integer), ("$late", SqliteType.Integer),
                ("$orphaned", SqliteType.Integer));
            (_reward, _r) = Prepare(connection, SqliteSchema.InsertReward,
                ("$loop", SqliteType.Text), ("$decision_id", SqliteType.Text), ("$seq", SqliteType.Integer),
                ("$reward", SqliteType.Real), ("$signal_count", SqliteType.Integer), ("$closed_at", SqliteType.Integer),
                ("$closed_by", SqliteType.Text));
        }

        private static (SqliteCommand, SqliteParameter[]) Prepare(SqliteConnection connection, string sql, params (string Name, SqliteType Type)[] parameters)
        {
            var command = connection.CreateCommand();
            command.CommandText = sql;
            var bound = new SqliteParameter[parameters.Length];
            for (var i = 0; i < parameters.Length; i++)
            {
                bound[i] = command.Parameters.Add(parameters[i].Name, parameters[i].Type);
            }
            command.Prepare();
            return (command, bound);
        }

        public void Enlist(SqliteTransaction transaction)
        {
            _decision.Transaction = transaction;
            _signal.Transaction = transaction;
            _reward.Transaction = transaction;
        }

        public void InsertDecision(DecisionRecord d)
        {
            ArgumentNullException.ThrowIfNull(d);
            _d[0].Value = d.Loop;
            _d[1].Value = d.DecisionId;
            _d[2].Value = d.At.UtcTicks;
            _d[3].Value = (object?)d.UserId ?? DBNull.Value;
            _d[4].Value = _json.Features(d.Context ?? Features.Empty);
            _d[5].Value = _json.Actions(d.Actions ?? []);
            _d[6].Value = (object?)d.BaselineActionId ?? DBNull.Value;
            _d[7].Value = d.ChosenActionId;
            _d[8].Value = d.Explored ? 1L : 0L;
            _d[9].Value = _json.Ranking(d.Ranking ?? []);
            _d[10].Value = (long)d.ModelVersion;
            _d[11].Value = d.Shadows is { Count: > 0 } shadows ? FlywheelJson.ToUtf8(shadows) : DBNull.Value;
            _decision.ExecuteNonQuery();
        }

        public void InsertSignal(SignalRecord s)
        {
            ArgumentNullException.ThrowIfNull(s);
            _s[0].Value = s.Loop;
            _s[1].Value = s.SignalId;
            _s[2].Value = (object?)s.DecisionId ?? DBNull.Value;
            _s[3].Value = (object?)s.UserId ?? DBNull.Value;
            _s[4].Value = s.Type;
            _s[5].Value = s.Value;
            _s[6].Value = s.At.UtcTicks;
            _s[7].Value = s.ReceivedAt.UtcTicks;
            _s[8].Value = s.Late ? 1L : 0L;
            _s[9].Value = s.Orphaned ? 1L : 0L;
            _signal.ExecuteNonQuery();
        }

        public void InsertReward(RewardRecord r)
        {
            ArgumentNullException.ThrowIfNull(r);
            _r[0].Value = r.Loop;
            _r[1].Value = r.DecisionId;
            _r[2].Value = r.Sequence;
            _r[3].Value = r.Reward;
            _r[4].Value = (long)r.SignalCount;
            _r[5].Value = r.ClosedAt.UtcTicks;
            _r[6].Value = r.ClosedBy switch
            {
                WindowClose.Timeout => Timeout,
                WindowClose.Signal => SignalClose,
                _ => throw new ArgumentOutOfRangeException(nameof(r), r.ClosedBy, "Unknown window close."),
            };
            _reward.ExecuteNonQuery();
        }

        public void Dispose()
        {
            _decision.Dispose();
            _signal.Dispose();
            _reward.Dispose();
            _json.Dispose();
        }
    }
}

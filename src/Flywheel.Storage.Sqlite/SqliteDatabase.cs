using Flywheel.Core;
using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Flywheel.Storage.Sqlite;

/// <summary>
/// The connections to one SQLite file: a long-lived writer behind a lock (with the commit's prepared statements),
/// pooled read-only readers, and a background WAL checkpointer. Owns their lifetime; knows nothing of the tables
/// beyond creating them.
/// </summary>
internal sealed class SqliteDatabase : IAsyncDisposable
{
    /// <summary>The writer's page cache, in KiB (SQLite's default is 2 MiB).</summary>
    private const int WriterCacheKiB = 32 * 1024;

    /// <summary>How often the WAL is checkpointed in the background (commits never checkpoint themselves). <value>500 ms.</value></summary>
    internal static readonly TimeSpan CheckpointInterval = TimeSpan.FromMilliseconds(500);

    private readonly string _writeConnectionString;
    private readonly string _readConnectionString;
    private readonly int _busyTimeoutMs;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly CancellationTokenSource _stopCheckpoints = new();
    private readonly object _owner;

    private SqliteConnection? _writer;
    private SqliteWriteStatements? _statements;
    private SqliteFileLock? _fileLock;
    private readonly bool _checkIntegrity;
    private readonly bool _takeLock;
    private Task? _checkpoints;
    private int _commitsSinceCheckpoint;
    private volatile bool _initialized;
    private volatile bool _disposed;

    /// <summary>Rows per read transaction of the long streaming reads.</summary>
    public int ReadChunkRows { get; }

    /// <summary>Checks <paramref name="options"/> and prepares the connection strings; nothing is opened yet.</summary>
    /// <param name="options">Where the file lives and how durable commits are.</param>
    /// <param name="owner">Named by <see cref="ObjectDisposedException"/>s: the store the caller sees.</param>
    public SqliteDatabase(SqliteStoreOptions options, object owner)
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

        ArgumentOutOfRangeException.ThrowIfLessThan(options.ReadChunkRows, 1, nameof(options));

        _owner = owner;
        Path = options.DatabasePath;
        ReadChunkRows = options.ReadChunkRows;
        Durability = options.Durability;
        Time = options.TimeProvider ?? TimeProvider.System;
        _busyTimeoutMs = (int)options.BusyTimeout.TotalMilliseconds;
        _checkIntegrity = options.CheckIntegrityOnOpen;
        _takeLock = options.TakeDirectoryLock;

        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            // The writer lives as long as the store: no pool, so disposing really closes it.
            Pooling = false,
            DefaultTimeout = Math.Max(1, (int)Math.Ceiling(options.BusyTimeout.TotalSeconds)),
        };
        _writeConnectionString = builder.ConnectionString;
        _walLimitBytes = options.WalLimitBytes;
        _backgroundCheckpoints = options.BackgroundCheckpoints;
        builder.Mode = SqliteOpenMode.ReadOnly;
        builder.Pooling = true;
        _readConnectionString = builder.ConnectionString;
    }

    /// <summary>The full path of the database file.</summary>
    public string Path { get; }

    /// <summary>The durability commits have.</summary>
    public SqliteDurability Durability { get; }

    /// <summary>The clock that stamps rows and paces checkpoints.</summary>
    public TimeProvider Time { get; }

    /// <summary>
    /// Creates the directory and the file, switches it to WAL, sets <c>synchronous</c> from <see cref="Durability"/>
    /// and migrates the schema. Calling it again does nothing.
    /// </summary>
    public async ValueTask InitializeAsync(CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, _owner);
            if (_writer is not null)
            {
                return;
            }
            var directory = System.IO.Path.GetDirectoryName(Path)!;
            try
            {
                Directory.CreateDirectory(directory);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException && SqliteFaults.Classify(ex) is { } reason)
            {
                throw SqliteFaults.OpenFault(reason, directory, SqliteFaults.Cause(ex), ex);
            }
            _fileLock = _takeLock ? SqliteFileLock.Acquire(Path) : null;
            var connection = new SqliteConnection(_writeConnectionString);
            try
            {
                try
                {
                    connection.Open();
                }
                catch (SqliteException ex) when (ex.SqliteErrorCode == 14 && SqliteFaults.ProbeDirectory(directory) is { } probe)
                {
                    // SQLITE_CANTOPEN says only "unable to open database file": a directory that takes no new file says why.
                    throw SqliteFaults.OpenFault(probe.Reason, directory, probe.Cause, ex);
                }
                // SQLite opens a file it may not write read-only without a word; every write would then fail.
                if (SQLitePCL.raw.sqlite3_db_readonly(connection.Handle, "main") == 1)
                {
                    throw SqliteFaults.ProbeDirectory(directory) is { } probe
                        ? SqliteFaults.OpenFault(probe.Reason, directory, probe.Cause, new IOException($"'{Path}' is read-only"))
                        : SqliteFaults.ReadOnlyFile(Path);
                }
                if (_checkIntegrity)
                {
                    CheckIntegrity(connection);
                }
                Execute(connection, $"PRAGMA busy_timeout = {_busyTimeoutMs.ToString(CultureInfo.InvariantCulture)};");
                var journal = Convert.ToString(Scalar(connection, "PRAGMA journal_mode = WAL;"), CultureInfo.InvariantCulture);
                if (!string.Equals(journal, "wal", StringComparison.OrdinalIgnoreCase))
                {
                    throw new InvalidOperationException($"SQLite refused WAL mode for '{Path}' (journal_mode is '{journal}').");
                }
                Execute(connection, Durability == SqliteDurability.Power ? "PRAGMA synchronous = FULL;" : "PRAGMA synchronous = NORMAL;");
                // The writer touches index pages all over the file (ids are random): keep more of them in memory.
                Execute(connection, $"PRAGMA cache_size = -{WriterCacheKiB.ToString(CultureInfo.InvariantCulture)};");
                // A commit that crosses the WAL threshold would checkpoint inline (three fsyncs behind the writer);
                // a background connection does it instead.
                Execute(connection, "PRAGMA wal_autocheckpoint = 0;");
                // After a reset, a WAL file larger than this is cut back to it rather than kept at its largest.
                Execute(connection, $"PRAGMA journal_size_limit = {_walLimitBytes.ToString(CultureInfo.InvariantCulture)};");
                Migrate(connection);
                _statements = new SqliteWriteStatements(connection);
                _writer = connection;
                _initialized = true;
                if (_backgroundCheckpoints)
                {
                    _checkpoints = Task.Run(CheckpointLoopAsync, CancellationToken.None);
                }
            }
            catch (SqliteException ex) when (SqliteFaults.Classify(ex, SqliteFaults.SystemError(connection)) is { } reason)
            {
                // Read in the filter, while the connection still holds the system error behind it.
                var cause = SqliteFaults.Cause(ex, SqliteFaults.SystemError(connection));
                CloseAfterFailedOpen(connection);
                throw SqliteFaults.OpenFault(reason, directory, cause, ex);
            }
            catch
            {
                CloseAfterFailedOpen(connection);
                throw;
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private void CloseAfterFailedOpen(SqliteConnection connection)
    {
        _statements?.Dispose();
        _statements = null;
        connection.Dispose();
        _fileLock?.Dispose();
        _fileLock = null;
    }

    /// <summary>
    /// The disk fault behind a write's failure on <paramref name="connection"/>, worded for the operator, or null for
    /// other errors (constraints, bugs), which propagate as they are. Call it in an exception filter, before the
    /// transaction rolls back, while the connection still holds the system error behind the failure.
    /// </summary>
    public FlywheelStoreWriteException? WriteFault(SqliteException exception, SqliteConnection connection)
    {
        var error = SqliteFaults.SystemError(connection);
        return SqliteFaults.Classify(exception, error) is { } reason
            ? SqliteFaults.WriteFault(reason, System.IO.Path.GetDirectoryName(Path)!, SqliteFaults.Cause(exception, error), exception)
            : null;
    }

    /// <summary>
    /// Refuses a corrupt file before anything is written to it: SQLite's quick check reads every page (about a second
    /// per gigabyte) and catches what a damaged disk or a bad copy leaves, which ingest alone would not notice.
    /// </summary>
    private void CheckIntegrity(SqliteConnection connection)
    {
        string? result;
        try
        {
            result = Convert.ToString(Scalar(connection, "PRAGMA quick_check(1);"), CultureInfo.InvariantCulture);
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode is 11 or 26) // SQLITE_CORRUPT, SQLITE_NOTADB
        {
            result = ex.Message;
        }
        if (!string.Equals(result, "ok", StringComparison.Ordinal))
        {
            throw new FlywheelStoreUnavailableException(
                $"'{Path}' is corrupt (SQLite quick_check: {result?.ReplaceLineEndings(" ")}); restore it from a backup, " +
                $"or salvage what is readable with: sqlite3 '{Path}' .recover > recovered.sql");
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
                $"'{Path}' has schema version {version}; this build of Flywheel reads up to version {SqliteSchema.Version}. Upgrade Flywheel.");
        }
        if (version < 1)
        {
            Execute(connection, SqliteSchema.CreateVersion1, transaction);
        }
        if (version < 2)
        {
            Execute(connection, SqliteSchema.CreateVersion2, transaction);
        }
        if (version < 3)
        {
            Execute(connection, SqliteSchema.CreateVersion3, transaction);
        }
        if (version < 4)
        {
            Execute(connection, SqliteSchema.CreateVersion4, transaction);
        }
        if (version < 5)
        {
            // One statement per call, so a failure in any of them surfaces here rather than being lost in a batch.
            foreach (var statement in SqliteSchema.CreateVersion5)
            {
                Execute(connection, statement, transaction);
            }
        }
        if (version < 6)
        {
            Execute(connection, SqliteSchema.CreateVersion6, transaction);
        }
        if (version < 7)
        {
            Execute(connection, SqliteSchema.CreateVersion7, transaction);
        }
        if (version < 8)
        {
            Execute(connection, SqliteSchema.CreateVersion8, transaction);
        }
        if (version < 9)
        {
            Execute(connection, SqliteSchema.CreateVersion9, transaction);
        }
        if (version < 10)
        {
            Execute(connection, SqliteSchema.CreateVersion10, transaction);
        }
        // Later versions add their steps here, each guarded by the version it upgrades from.
        if (version < SqliteSchema.Version)
        {
            Execute(connection, $"PRAGMA user_version = {SqliteSchema.Version.ToString(CultureInfo.InvariantCulture)};", transaction);
        }
        transaction.Commit();
    }

    /// <summary>
    /// Waits for the writer and holds it until the returned lease is disposed. A struct lease, so the hot commit path
    /// allocates nothing for it.
    /// </summary>
    public async ValueTask<WriteLease> WriteAsync(CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, _owner);
            var writer = _writer ?? throw NotInitialized();
            return new WriteLease(this, writer, _statements!);
        }
        catch
        {
            _writeLock.Release();
            throw;
        }
    }

    /// <summary>Opens a pooled read-only connection, which never waits for the writer.</summary>
    public async ValueTask<SqliteConnection> OpenReaderAsync(CancellationToken cancellationToken)
    {
        ThrowIfUnusable();
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

    /// <summary>Throws when the database is disposed.</summary>
    public void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, _owner);

    /// <summary>Throws when the database is disposed or not yet initialized.</summary>
    public void ThrowIfUnusable()
    {
        ThrowIfDisposed();
        if (!_initialized)
        {
            throw NotInitialized();
        }
    }

    private async Task CheckpointLoopAsync()
    {
        var token = _stopCheckpoints.Token;
        using var connection = new SqliteConnection(_writeConnectionString);
        try
        {
            connection.Open();
        }
        catch (SqliteException)
        {
            return; // Without it the WAL is still checkpointed when the writer closes.
        }
        while (!token.IsCancellationRequested)
        {
            try
            {
                // Housekeeping runs on the wall clock, not the store's clock: a test's fake clock that jumps hours at a
                // time must not leave the WAL unchecked (it grew without bound and made every read slower).
                await Task.Delay(CheckpointInterval, TimeProvider.System, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            if (Interlocked.Exchange(ref _commitsSinceCheckpoint, 0) == 0)
            {
                continue;
            }
            Checkpoint(connection);
        }
    }

    /// <summary>
    /// One round of the checkpointer. PASSIVE never blocks the writer or readers, but under steady writes it never
    /// catches up with the end of the log, and SQLite only rewinds a log that was copied to its end: the WAL grew by
    /// gigabytes a minute at a thousand decisions per second. So once the log passes <see cref="SqliteStoreOptions.WalLimitBytes"/> (64 MiB),
    /// TRUNCATE copies the rest and empties the file. It holds the writer back meanwhile, so its wait for readers is short
    /// (<see cref="ResetBusyMs"/>): when a long read keeps it from finishing, the next round tries again.
    /// </summary>
    internal void Checkpoint(SqliteConnection connection)
    {
        try
        {
            Execute(connection, $"PRAGMA busy_timeout = {_busyTimeoutMs.ToString(CultureInfo.InvariantCulture)};");
            var frames = 0L;
            using (var command = connection.CreateCommand())
            {
                command.CommandText = "PRAGMA wal_checkpoint(PASSIVE);";
                using var reader = command.ExecuteReader();
                if (reader.Read())
                {
                    frames = reader.GetInt64(1);
                }
            }
            _pageSize ??= Convert.ToInt64(Scalar(connection, "PRAGMA page_size;"), CultureInfo.InvariantCulture);
            if (frames * _pageSize.Value > _walLimitBytes)
            {
                Execute(connection, $"PRAGMA busy_timeout = {ResetBusyMs.ToString(CultureInfo.InvariantCulture)};");
                Execute(connection, "PRAGMA wal_checkpoint(TRUNCATE);");
            }
        }
        catch (SqliteException)
        {
            // Busy or failing: the next round tries again, and a failing disk shows in the writer's own commits.
        }
    }

    /// <summary>How long a log reset waits for readers of the old log, holding the writer back meanwhile.</summary>
    private const int ResetBusyMs = 200;

    private long? _pageSize;
    private readonly long _walLimitBytes;
    private readonly bool _backgroundCheckpoints;

    /// <summary>One checkpoint round now, on a connection of its own (tests).</summary>
    internal void CheckpointNow()
    {
        using var connection = new SqliteConnection(_writeConnectionString);
        connection.Open();
        Checkpoint(connection);
    }

    /// <summary>
    /// Finishes any write in progress, then closes the writer and clears this file's read-connection pool, so the
    /// file can be opened again in the same process.
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
            _fileLock?.Dispose();
            _fileLock = null;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private InvalidOperationException NotInitialized()
        => new($"The SQLite store at '{Path}' is not initialized: call InitializeAsync first, or create it with SqliteFlywheelStore.OpenAsync.");

    /// <summary>Runs one statement that returns no rows.</summary>
    public static void Execute(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>Runs one statement and returns the first column of its first row.</summary>
    public static object? Scalar(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    /// <summary>The writer, held until disposed.</summary>
    public readonly struct WriteLease(SqliteDatabase database, SqliteConnection connection, SqliteWriteStatements statements) : IDisposable
    {
        /// <summary>The writer connection.</summary>
        public SqliteConnection Connection { get; } = connection;

        /// <summary>The commit's prepared statements on <see cref="Connection"/>.</summary>
        public SqliteWriteStatements Statements { get; } = statements;

        /// <summary>The disk fault behind a failed write on <see cref="Connection"/>, or null (see <see cref="WriteFault"/>).</summary>
        public FlywheelStoreWriteException? Fault(SqliteException exception) => database.WriteFault(exception, Connection);

        /// <summary>Tells the checkpointer the WAL has grown.</summary>
        public void Committed() => Interlocked.Increment(ref database._commitsSinceCheckpoint);

        /// <summary>Releases the writer.</summary>
        public void Dispose() => database._writeLock.Release();
    }
}

using System.Globalization;
using BenchmarkDotNet.Attributes;
using Flywheel.Core;
using Flywheel.Engine;
using Flywheel.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Flywheel.Benchmarks;

/// <summary>
/// Committed signals: one batch of <see cref="BatchSize"/> signals per operation, each with a new client signal id and
/// a decision id made in setup (its window still open), through <see cref="FlywheelEngine.RecordSignalsAsync"/>
/// (validation, idempotency lookup, joining, group commit) against a plain SQLite insert of the same rows into the
/// same table (same columns, same unique key and index): one transaction per batch, one prepared command, WAL, in
/// its own file, with the engine writer's 32 MiB page cache. <see cref="Durability"/> Process is synchronous=NORMAL,
/// Power is synchronous=FULL, for both. Signals per second = BatchSize / Mean. The table grows during a run (to about
/// a million rows at batch 1,000), as it would in service; both paths see the same growth.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 10)]
public class StoreIngestBenchmarks
{
    private const int DecisionCount = 1_000;
    private const string CreateSignals = """
        CREATE TABLE signals (
            seq          INTEGER PRIMARY KEY,
            loop         TEXT    NOT NULL,
            signal_id    TEXT    NOT NULL,
            decision_id  TEXT,
            user_id      TEXT,
            type         TEXT    NOT NULL,
            value        REAL    NOT NULL,
            at           INTEGER NOT NULL,
            received_at  INTEGER NOT NULL,
            late         INTEGER NOT NULL,
            orphaned     INTEGER NOT NULL,
            UNIQUE (loop, signal_id)
        ) STRICT;
        CREATE INDEX signals_by_decision ON signals (loop, decision_id);
        """;

    private string? _directory;
    private string[] _decisionIds = null!;
    private long _next;

    private FlywheelEngine _engine = null!;

    private SqliteConnection _connection = null!;
    private SqliteCommand _insert = null!;
    private SqliteParameter[] _p = null!;

    [Params(1, 100, 1000)]
    public int BatchSize { get; set; }

    [Params(SqliteDurability.Process, SqliteDurability.Power)]
    public SqliteDurability Durability { get; set; }

    [GlobalSetup(Target = nameof(Engine_RecordSignalsAsync))]
    public async Task SetupEngine()
    {
        _directory = Workload.TempDirectory("ingest-engine");
        _engine = await FlywheelEngine.OpenAsync(new FlywheelOptions().UseSqlite(_directory, Durability), TimeProvider.System);
        await _engine.PutLoopAsync(Workload.LoopConfig(windowSeconds: 24 * 3600));
        var request = Workload.Request();
        var ids = new List<string>(DecisionCount);
        for (var start = 0; start < DecisionCount; start += 100)
        {
            var calls = Enumerable.Range(0, 100).Select(_ => _engine.DecideAsync(Workload.Loop, request).AsTask()).ToArray();
            foreach (var decision in await Task.WhenAll(calls))
            {
                ids.Add(decision.DecisionId);
            }
        }
        _decisionIds = [.. ids];
    }

    [GlobalCleanup(Target = nameof(Engine_RecordSignalsAsync))]
    public async Task CleanupEngine()
    {
        await _engine.DisposeAsync();
        Workload.DeleteDirectory(_directory);
    }

    [GlobalSetup(Target = nameof(PlainSqlite_Insert))]
    public void SetupPlain()
    {
        _directory = Workload.TempDirectory("ingest-plain");
        var random = new Random(1);
        var bytes = new byte[16];
        _decisionIds = new string[DecisionCount];
        for (var i = 0; i < DecisionCount; i++)
        {
            random.NextBytes(bytes);
            _decisionIds[i] = new Guid(bytes).ToString("N");
        }
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(_directory, "plain.db"),
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
        }.ConnectionString);
        _connection.Open();
        Execute("PRAGMA journal_mode = WAL;");
        Execute(Durability == SqliteDurability.Power ? "PRAGMA synchronous = FULL;" : "PRAGMA synchronous = NORMAL;");
        // The engine's writer keeps a 32 MiB page cache; give the baseline the same, so the ratio is the engine's own cost.
        Execute("PRAGMA cache_size = -32768;");
        Execute(CreateSignals);
        _insert = _connection.CreateCommand();
        _insert.CommandText = """
            INSERT INTO signals (loop, signal_id, decision_id, user_id, type, value, at, received_at, late, orphaned)
            VALUES ($loop, $signal_id, $decision_id, $user_id, $type, $value, $at, $received_at, $late, $orphaned)
            """;
        _p =
        [
            _insert.Parameters.Add("$loop", SqliteType.Text),
            _insert.Parameters.Add("$signal_id", SqliteType.Text),
            _insert.Parameters.Add("$decision_id", SqliteType.Text),
            _insert.Parameters.Add("$user_id", SqliteType.Text),
            _insert.Parameters.Add("$type", SqliteType.Text),
            _insert.Parameters.Add("$value", SqliteType.Real),
            _insert.Parameters.Add("$at", SqliteType.Integer),
            _insert.Parameters.Add("$received_at", SqliteType.Integer),
            _insert.Parameters.Add("$late", SqliteType.Integer),
            _insert.Parameters.Add("$orphaned", SqliteType.Integer),
        ];
        _insert.Prepare();
    }

    [GlobalCleanup(Target = nameof(PlainSqlite_Insert))]
    public void CleanupPlain()
    {
        _insert.Dispose();
        _connection.Dispose();
        SqliteConnection.ClearAllPools();
        Workload.DeleteDirectory(_directory);
    }

    /// <summary>A plain insert of the same rows: one transaction, one prepared statement re-bound per row.</summary>
    [Benchmark(Baseline = true)]
    public int PlainSqlite_Insert()
    {
        var signals = NextBatch();
        var now = TimeProvider.System.GetUtcNow().UtcTicks;
        using var transaction = _connection.BeginTransaction();
        _insert.Transaction = transaction;
        foreach (var s in signals)
        {
            _p[0].Value = Workload.Loop;
            _p[1].Value = s.SignalId;
            _p[2].Value = s.DecisionId;
            _p[3].Value = DBNull.Value;
            _p[4].Value = s.Type;
            _p[5].Value = s.Value ?? 1.0;
            _p[6].Value = now;
            _p[7].Value = now;
            _p[8].Value = 0L;
            _p[9].Value = 0L;
            _insert.ExecuteNonQuery();
        }
        transaction.Commit();
        return signals.Length;
    }

    /// <summary>The engine's ingest: validate, enqueue, idempotency lookup, join to open windows, group commit.</summary>
    [Benchmark]
    public ValueTask<SignalBatchResult> Engine_RecordSignalsAsync() => _engine.RecordSignalsAsync(Workload.Loop, NextBatch());

    private SignalInput[] NextBatch()
    {
        var batch = new SignalInput[BatchSize];
        for (var i = 0; i < batch.Length; i++)
        {
            var n = _next++;
            batch[i] = new SignalInput
            {
                SignalId = "sig-" + n.ToString(CultureInfo.InvariantCulture),
                DecisionId = _decisionIds[n % DecisionCount],
                Type = Workload.Signal,
                Value = 1.0,
            };
        }
        return batch;
    }

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}

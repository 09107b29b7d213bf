using System.Globalization;
using BenchmarkDotNet.Attributes;
using Flywheel.Core;
using Flywheel.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Flywheel.Benchmarks;

/// <summary>
/// The idempotency lookup that every group commit with client signal ids (and every new decision) makes:
/// <see cref="SqliteFlywheelStore.FindSignalsAsync"/> for <see cref="Ids"/> ids (half of them stored) in a table of
/// 100,000 signals, against one prepared single-id SELECT on a connection kept open, executed once per id.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 10)]
public class StoreLookupBenchmarks
{
    private const int Stored = 100_000;
    private string? _directory;
    private SqliteFlywheelStore _store = null!;
    private SqliteConnection _reader = null!;
    private SqliteCommand _select = null!;
    private string[] _ids = null!;

    [Params(1, 100, 1000)]
    public int Ids { get; set; }

    [GlobalSetup]
    public async Task Setup()
    {
        _directory = Workload.TempDirectory("lookup");
        _store = await SqliteFlywheelStore.OpenAsync(new SqliteStoreOptions { DataDirectory = _directory, TimeProvider = TimeProvider.System });
        await _store.SaveLoopAsync(Workload.LoopConfig());
        var at = TimeProvider.System.GetUtcNow();
        var batch = new StoreBatch();
        for (var i = 0; i < Stored; i++)
        {
            batch.Signals.Add(new SignalRecord
            {
                Loop = Workload.Loop,
                SignalId = "sig-" + i.ToString(CultureInfo.InvariantCulture),
                UserId = "user-42",
                Type = Workload.Signal,
                Value = 1,
                At = at,
                ReceivedAt = at,
            });
            if (batch.Signals.Count == 10_000)
            {
                await _store.CommitAsync(batch);
                batch.Clear();
            }
        }

        // Half stored, half new, spread over the table.
        var random = new Random(2);
        _ids = Enumerable.Range(0, Ids)
            .Select(i => i % 2 == 0 ? "sig-" + random.Next(Stored).ToString(CultureInfo.InvariantCulture) : "new-" + i.ToString(CultureInfo.InvariantCulture))
            .ToArray();

        _reader = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = _store.DatabasePath,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
        }.ConnectionString);
        _reader.Open();
        _select = _reader.CreateCommand();
        _select.CommandText = "SELECT 1 FROM signals WHERE loop = $loop AND signal_id = $id";
        _select.Parameters.Add("$loop", SqliteType.Text).Value = Workload.Loop;
        _select.Parameters.Add("$id", SqliteType.Text);
        _select.Prepare();
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        _select.Dispose();
        _reader.Dispose();
        await _store.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Workload.DeleteDirectory(_directory);
    }

    /// <summary>One prepared point query per id on a connection kept open.</summary>
    [Benchmark(Baseline = true)]
    public int PreparedPointQueries()
    {
        var found = 0;
        foreach (var id in _ids)
        {
            _select.Parameters[1].Value = id;
            if (_select.ExecuteScalar() is not null)
            {
                found++;
            }
        }
        return found;
    }

    /// <summary>The store's lookup: a pooled read connection, an <c>IN (…)</c> statement built and compiled per call.</summary>
    [Benchmark]
    public async Task<int> Store_FindSignalsAsync() => (await _store.FindSignalsAsync(Workload.Loop, _ids)).Count;
}

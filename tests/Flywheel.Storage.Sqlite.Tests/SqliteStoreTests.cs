using System.Diagnostics;
using Flywheel.Core;
using Flywheel.Storage.Conformance;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace Flywheel.Storage.Sqlite.Tests;

/// <summary>The conformance suite plus SQLite specifics, each test in a fresh temporary directory.</summary>
public sealed class SqliteStoreTests(ITestOutputHelper output) : StoreConformanceTests
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "flywheel-sqlite-tests", Guid.NewGuid().ToString("N"));
    private readonly List<SqliteFlywheelStore> _stores = [];

    private SqliteStoreOptions Options(SqliteDurability durability = SqliteDurability.Process) => new()
    {
        DataDirectory = _directory,
        Durability = durability,
    };

    private async ValueTask<SqliteFlywheelStore> OpenSqliteAsync(SqliteDurability durability = SqliteDurability.Process)
    {
        var store = await SqliteFlywheelStore.OpenAsync(Options(durability));
        _stores.Add(store);
        return store;
    }

    /// <inheritdoc />
    protected override async ValueTask<IFlywheelStore> CreateStoreAsync() => await OpenSqliteAsync();

    /// <inheritdoc />
    protected override async ValueTask<IFlywheelStore> ReopenStoreAsync() => await OpenSqliteAsync();

    /// <inheritdoc />
    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task Checkpoint_WalPastItsLimit_IsResetToEmpty()
    {
        // Under steady writes a passive checkpoint never reaches the end of the log, and SQLite only rewinds a log copied
        // to its end: past the limit the checkpointer truncates it.
        var options = Options();
        options.WalLimitBytes = 256 << 10;
        options.BackgroundCheckpoints = false;
        var store = await SqliteFlywheelStore.OpenAsync(options);
        _stores.Add(store);
        var wal = options.DatabasePath + "-wal";
        for (var i = 0; i < 40; i++)
        {
            var batch = new StoreBatch();
            for (var d = 0; d < 50; d++)
            {
                batch.Decisions.Add(SmallDecision("shop", $"d{i}-{d}", T0));
            }
            await store.CommitAsync(batch);
        }
        Assert.True(new FileInfo(wal).Length > options.WalLimitBytes, $"the test must write more than the limit to the WAL; it holds {new FileInfo(wal).Length} bytes");

        store.CheckpointNow();

        Assert.Equal(0, new FileInfo(wal).Length);
        Assert.Equal(2_000, (await store.CountAsync("shop")).Decisions);
    }

    [Fact]
    public async Task LongReads_PausedBetweenRows_HoldNoSnapshotAndYieldEveryRowOnce()
    {
        // A turn reads every reward while it trains and evaluates, for minutes on a busy loop; if that pinned one read
        // transaction, the checkpointer could not reset the WAL and it grew by hundreds of megabytes meanwhile.
        var options = Options();
        options.ReadChunkRows = 3;
        options.WalLimitBytes = 0;
        options.BackgroundCheckpoints = false;
        var store = await SqliteFlywheelStore.OpenAsync(options);
        _stores.Add(store);
        var wal = options.DatabasePath + "-wal";
        const int Rows = 20;
        // Three decisions share each instant, so outcome chunks end inside a run of equal times.
        var decisions = Enumerable.Range(0, Rows).Select(i => SmallDecision("shop", $"d{i:D2}", T0.AddSeconds(i / 3))).ToList();
        var visits = Enumerable.Range(0, Rows).Select(i => Signal("shop", $"v{i}", null, T0.AddSeconds(i)) with { UserId = $"u{i}" }).ToList();
        var rewards = Enumerable.Range(0, Rows).Select(i => Reward("shop", $"d{i:D2}", i + 1)).ToList();
        await store.CommitAsync(Batch(decisions, visits, rewards));

        async Task<int> DrainWhileWritingAsync<T>(IAsyncEnumerable<T> rows)
        {
            var read = 0;
            await foreach (var _ in rows)
            {
                if (read++ == 4)
                {
                    await store.CommitAsync(Batch([SmallDecision("other", $"x{Guid.NewGuid():N}", T0)], [], []));
                    Assert.True(new FileInfo(wal).Length > 0);
                    store.CheckpointNow();
                    Assert.Equal(0, new FileInfo(wal).Length);
                }
            }
            return read;
        }

        var rewardSequences = new List<long>();
        Assert.Equal(Rows, await DrainWhileWritingAsync(Tap(store.ReadRewardsAsync("shop", 0), r => rewardSequences.Add(r.Reward.Sequence))));
        Assert.Equal(Enumerable.Range(1, Rows).Select(i => (long)i), rewardSequences);
        var outcomeTimes = new List<DateTimeOffset>();
        Assert.Equal(Rows, await DrainWhileWritingAsync(Tap(store.ReadOutcomesAsync("shop"), o => outcomeTimes.Add(o.At))));
        Assert.Equal(decisions.Select(d => d.At.ToUniversalTime()), outcomeTimes.Select(t => t.ToUniversalTime()));
        var visitors = new List<string>();
        Assert.Equal(Rows, await DrainWhileWritingAsync(Tap(store.ReadUserVisitsAsync("shop"), v => visitors.Add(v.UserId))));
        Assert.Equal(visits.Select(v => v.UserId!), visitors);
        Assert.Equal(Rows - 1, (await ToListAsync(store.ReadRewardsAsync("shop", 1))).Count);
    }

    private static async IAsyncEnumerable<T> Tap<T>(IAsyncEnumerable<T> source, Action<T> seen)
    {
        await foreach (var item in source)
        {
            seen(item);
            yield return item;
        }
    }

    [Theory]
    [InlineData(SqliteDurability.Process, 1L)]
    [InlineData(SqliteDurability.Power, 2L)]
    public async Task OpenAsync_EachDurability_UsesWalAndMatchingSynchronousAndWorks(SqliteDurability durability, long synchronous)
    {
        var store = await OpenSqliteAsync(durability);

        Assert.Equal(durability, store.Durability);
        Assert.Equal(synchronous, await store.ReadWriterPragmaAsync("synchronous"));
        Assert.Equal("wal", await store.ReadWriterPragmaAsync("journal_mode"));
        await store.CommitAsync(Batch([SmallDecision("shop", "d1", T0)], [Signal("shop", "s1", "d1", T0)], []));
        Assert.Equal(new LoopCounts(1, 1, 0, 0, 0), await store.CountAsync("shop"));
    }

    [Fact]
    public async Task OpenAsync_MissingDirectory_CreatesDirectoryAndFileWithSchemaVersion()
    {
        Assert.False(Directory.Exists(_directory));

        var store = await OpenSqliteAsync();

        Assert.Equal(Path.Combine(_directory, "flywheel.db"), store.DatabasePath);
        Assert.True(File.Exists(store.DatabasePath));
        Assert.Equal((long)SqliteFlywheelStore.SchemaVersion, await store.ReadWriterPragmaAsync("user_version"));
    }

    [Fact]
    public async Task OpenAsync_NewerSchemaVersion_ThrowsNotSupported()
    {
        var store = await OpenSqliteAsync();
        var path = store.DatabasePath;
        await store.DisposeAsync();
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA user_version = 99;";
            command.ExecuteNonQuery();
        }

        await Assert.ThrowsAsync<NotSupportedException>(async () => await SqliteFlywheelStore.OpenAsync(Options()));
    }

    [Fact]
    public async Task Methods_BeforeInitialize_ThrowInvalidOperation()
    {
        await using var store = new SqliteFlywheelStore(Options());

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await store.CommitAsync(Batch([SmallDecision("shop", "d1", T0)], [], [])));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await store.CountAsync("shop"));
    }

    [Fact]
    public async Task Methods_AfterDispose_ThrowObjectDisposed()
    {
        var store = await OpenSqliteAsync();
        await store.DisposeAsync();
        await store.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await store.CommitAsync(Batch([SmallDecision("shop", "d1", T0)], [], [])));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await store.GetDecisionAsync("shop", "d1"));
    }

    [Fact]
    public async Task InitializeAsync_CalledTwice_IsHarmless()
    {
        var store = await OpenSqliteAsync();
        await store.InitializeAsync();
        await store.CommitAsync(Batch([SmallDecision("shop", "d1", T0)], [], []));
        Assert.NotNull(await store.GetDecisionAsync("shop", "d1"));
    }

    [Fact]
    public async Task ReadRewardsAsync_WhileCommitting_ReaderDoesNotBlockWriter()
    {
        var store = await OpenSqliteAsync();
        var batch = new StoreBatch();
        for (var i = 1; i <= 50; i++)
        {
            batch.Decisions.Add(SmallDecision("shop", $"d{i}", T0));
            batch.Rewards.Add(Reward("shop", $"d{i}", i));
        }
        await store.CommitAsync(batch);

        var read = 0;
        await foreach (var _ in store.ReadRewardsAsync("shop", 0))
        {
            if (read++ == 0)
            {
                // A read is open on its own connection; the writer still commits.
                await store.CommitAsync(Batch([SmallDecision("shop", "d51", T0)], [], [Reward("shop", "d51", 51)]));
            }
        }

        Assert.Equal(50, read);
        Assert.Equal(51, await store.GetLastRewardSequenceAsync("shop"));
    }

    [Fact]
    public async Task DisposeAsync_AfterWritesAndReads_ClosesEveryConnectionSoTheWalIsRemoved()
    {
        var store = await OpenSqliteAsync();
        await store.CommitAsync(Batch([SmallDecision("shop", "d1", T0)], [Signal("shop", "s1", "d1", T0)], []));
        Assert.NotNull(await store.GetDecisionAsync("shop", "d1"));
        await foreach (var _ in store.ReadOpenDecisionsAsync("shop"))
        {
        }
        Assert.True(File.Exists(store.DatabasePath + "-wal"));

        await store.DisposeAsync();

        Assert.False(File.Exists(store.DatabasePath + "-wal"));
        Assert.False(File.Exists(store.DatabasePath + "-shm"));
    }

    [Fact]
    public async Task CommitAsync_ConcurrentCallersAndReaders_AllCommitsLand()
    {
        var store = await OpenSqliteAsync();
        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < 50; i++)
            {
                var id = $"d-{w}-{i}";
                await store.CommitAsync(Batch([SmallDecision("shop", id, T0)], [Signal("shop", $"s-{w}-{i}", id, T0)], []));
            }
        }));
        var readers = Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < 50; i++)
            {
                var counts = await store.CountAsync("shop");
                Assert.Equal(counts.Decisions, counts.Signals);
                await foreach (var (decision, signals) in store.ReadOpenDecisionsAsync("shop"))
                {
                    Assert.Single(signals);
                }
            }
        }));

        await Task.WhenAll(writers.Concat(readers));

        Assert.Equal(new LoopCounts(200, 200, 0, 0, 0), await store.CountAsync("shop"));
    }

    [Fact]
    public async Task CommitAsync_LargeBatch_WritesAllRowsInOneTransaction()
    {
        var store = await OpenSqliteAsync();
        const int decisions = 20_000;
        var batch = new StoreBatch();
        for (var i = 0; i < decisions; i++)
        {
            batch.Decisions.Add(SmallDecision("shop", $"d-{i}", T0.AddMilliseconds(i)));
            batch.Signals.Add(Signal("shop", $"s-{i}-a", $"d-{i}", T0.AddMilliseconds(i)));
            batch.Signals.Add(Signal("shop", $"s-{i}-b", $"d-{i}", T0.AddMilliseconds(i)));
            batch.Rewards.Add(Reward("shop", $"d-{i}", i + 1));
        }
        var signalsOnly = new StoreBatch();
        for (var i = 0; i < 100_000; i++)
        {
            signalsOnly.Signals.Add(Signal("shop", $"x-{i}", $"d-{i % decisions}", T0.AddMilliseconds(i)) with { Late = true });
        }

        var watch = Stopwatch.StartNew();
        await store.CommitAsync(batch);
        var mixed = watch.Elapsed;
        watch.Restart();
        await store.CommitAsync(signalsOnly);
        var signals = watch.Elapsed;

        output.WriteLine($"mixed: {4 * decisions:N0} rows in {mixed.TotalMilliseconds:N0} ms = {4 * decisions / mixed.TotalSeconds:N0} rows/s");
        output.WriteLine($"signals: 100,000 rows in {signals.TotalMilliseconds:N0} ms = {100_000 / signals.TotalSeconds:N0} rows/s");
        Assert.Equal(new LoopCounts(decisions, 2 * decisions + 100_000, 100_000, 0, decisions), await store.CountAsync("shop"));
    }
}

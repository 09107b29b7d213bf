using Flywheel.Core;

namespace Flywheel.Storage.Sqlite.Tests;

/// <summary>Faults that must be loud at start: a second process on the same data, a corrupt file.</summary>
public sealed class StoreRefusalTests : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "flywheel-sqlite-refusal-tests", Guid.NewGuid().ToString("N"));
    private readonly List<SqliteFlywheelStore> _stores = [];

    private SqliteStoreOptions Options => new() { DataDirectory = _directory };

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private async Task<SqliteFlywheelStore> OpenAsync()
    {
        var store = await SqliteFlywheelStore.OpenAsync(Options);
        _stores.Add(store);
        return store;
    }

    [Fact]
    public async Task OpenAsync_FileAlreadyOpenElsewhere_RefusedNamingTheDirectoryAndTheHolder()
    {
        var first = await OpenAsync();

        var error = await Assert.ThrowsAsync<FlywheelStoreUnavailableException>(async () => await SqliteFlywheelStore.OpenAsync(Options));

        Assert.Contains(Path.GetFullPath(_directory), error.Message, StringComparison.Ordinal);
        Assert.Contains($"pid {Environment.ProcessId}", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        // The first store is untouched, and once it closes the directory can be opened again.
        await first.SaveLoopAsync(new LoopConfig { Id = "shop", Signals = new Dictionary<string, SignalTypeConfig> { ["click"] = new() { Weight = 1 } } });
        await first.DisposeAsync();
        _stores.Remove(first);
        var second = await OpenAsync();
        Assert.Equal(["shop"], (await second.LoadLoopsAsync()).Select(l => l.Id));
    }

    [Fact]
    public async Task OpenAsync_CorruptPage_RefusedWithWhatToDo()
    {
        var store = await OpenAsync();
        for (var i = 0; i < 50; i++)
        {
            await store.SaveLoopAsync(new LoopConfig { Id = $"loop-{i}", Signals = new Dictionary<string, SignalTypeConfig> { [new string('s', 60) + i] = new() { Weight = 1 } } });
        }
        await store.DisposeAsync();
        _stores.Remove(store);
        var path = Options.DatabasePath;
        using (var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite))
        {
            // Page 3 onwards of a 4 KiB-page file: overwrite one whole page with noise.
            var noise = new byte[4096];
            new Random(7).NextBytes(noise);
            file.Seek(2 * 4096, SeekOrigin.Begin);
            file.Write(noise);
        }

        var error = await Assert.ThrowsAsync<FlywheelStoreUnavailableException>(async () => await SqliteFlywheelStore.OpenAsync(Options));

        Assert.Contains("is corrupt", error.Message, StringComparison.Ordinal);
        Assert.Contains(".recover", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        // Refusing released the lock: the next attempt is refused for the same reason, not for a held directory.
        var again = await Assert.ThrowsAsync<FlywheelStoreUnavailableException>(async () => await SqliteFlywheelStore.OpenAsync(Options));
        Assert.Contains("is corrupt", again.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenAsync_IntegrityCheckOff_OpensWithoutReadingEveryPage()
    {
        var store = await SqliteFlywheelStore.OpenAsync(new SqliteStoreOptions { DataDirectory = _directory, CheckIntegrityOnOpen = false });
        _stores.Add(store);

        Assert.Empty(await store.LoadLoopsAsync());
    }
}

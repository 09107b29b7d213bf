using Flywheel.Core;
using Flywheel.Storage.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace Flywheel.Cli.Tests;

/// <summary>
/// <c>flywheel serve</c> on a disk that cannot take writes (issue 15, point 6): one line on stderr naming the directory
/// and the fault, exit code 1, never a stack trace nor "unable to open database file". Mounts a tmpfs, as root (CI is).
/// </summary>
public sealed class StoreFaultCommandTests : IDisposable
{
    private readonly TestMount _disk = TestMount.Tmpfs("8m");

    public void Dispose() => _disk.Dispose();

    private string Data => Path.Combine(_disk.Path, "data");

    [Fact]
    public async Task Serve_ReadOnlyDataDirectoryWithAStore_OneLineSayingReadOnlyExitOne()
    {
        await CreateStoreAsync(Data);
        _disk.Remount(readOnly: true);

        var line = await ServeRefusedAsync(Data);

        Assert.Contains($"cannot open the store in '{Data}' for writing", line, StringComparison.Ordinal);
        Assert.Contains("read-only", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_ReadOnlyEmptyDataDirectory_OneLineSayingReadOnlyExitOne()
    {
        Directory.CreateDirectory(Data);
        _disk.Remount(readOnly: true);

        var line = await ServeRefusedAsync(Data);

        Assert.Contains($"'{Data}'", line, StringComparison.Ordinal);
        Assert.Contains("read-only", line, StringComparison.Ordinal);
        Assert.DoesNotContain("in use by another", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_MissingDataDirectoryOnAReadOnlyDisk_OneLineSayingReadOnlyExitOne()
    {
        _disk.Remount(readOnly: true);

        var line = await ServeRefusedAsync(Data);

        Assert.Contains($"'{Data}'", line, StringComparison.Ordinal);
        Assert.Contains("read-only", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_ReadOnlyDatabaseFileInAWritableDirectory_OneLineNamingTheFileExitOne()
    {
        await CreateStoreAsync(Data);
        var file = Path.Combine(Data, "flywheel.db");
        _disk.BindReadOnly(file);

        var line = await ServeRefusedAsync(Data);

        Assert.Contains($"the database file '{file}' is read-only", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_NewStoreOnAFullDisk_OneLineSayingTheDiskIsFullExitOne()
    {
        Directory.CreateDirectory(Data);
        _disk.Fill(leaveFree: 0);

        var line = await ServeRefusedAsync(Data);

        Assert.Contains($"cannot open the store in '{Data}' for writing: the disk is full", line, StringComparison.Ordinal);
        Assert.Contains("free space", line, StringComparison.Ordinal);
    }

    private static async Task CreateStoreAsync(string directory)
    {
        await using var store = await SqliteFlywheelStore.OpenAsync(new SqliteStoreOptions { DataDirectory = directory });
        await store.SaveLoopAsync(new LoopConfig { Id = "shop", Signals = new Dictionary<string, SignalTypeConfig> { ["click"] = new() { Weight = 1 } } });
    }

    /// <summary>Runs <c>serve</c>, which must refuse to start; returns its one line of stderr.</summary>
    private static async Task<string> ServeRefusedAsync(string directory)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        // Only a guard against a server that would start anyway and never return; the refusal comes at start-up.
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(5));

        var code = await FlywheelCli.RunAsync(["serve", "--data-dir", directory, "--urls", "http://127.0.0.1:0"],
            new CliContext(stdout, stderr, Interactive: false, new FakeTimeProvider()), guard.Token);

        Assert.True(code == ExitCodes.Failure, $"exit {code}: {stderr}");
        var line = Assert.Single(Cli.Lines(stderr.ToString()));
        Assert.StartsWith("flywheel serve: ", line, StringComparison.Ordinal);
        Assert.DoesNotContain("internal error", line, StringComparison.Ordinal);
        Assert.DoesNotContain("unable to open database file", line, StringComparison.Ordinal);
        return line;
    }
}

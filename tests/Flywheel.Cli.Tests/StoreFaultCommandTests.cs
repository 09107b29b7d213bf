using Flywheel.Core;
using Flywheel.Storage.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace Flywheel.Cli.Tests;

/// <summary>
/// <c>flywheel serve</c> on a store it cannot use (issue 15, point 6): a disk that cannot take writes, or a corrupt
/// file. One line on stderr naming the directory and the fault, exit code 1, never a stack trace nor "unable to open
/// database file". Mounts a tmpfs, as root (CI is). A directory held by another process: StoreRefusalCommandTests.
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

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task KeysCreate_ReadOnlyDataDirectory_OneLineSayingReadOnlyExitOne(bool withStore)
    {
        // keys opens the store without the directory lock, so SQLite's own refusal is the first to speak: "unable to
        // open database file" for a new store, a silent read-only open for an existing one.
        Directory.CreateDirectory(Data);
        if (withStore)
        {
            await CreateStoreAsync(Data);
        }
        _disk.Remount(readOnly: true);

        var (code, _, stderr) = await Cli.RunAsync("keys", "create", "--data-dir", Data, "--scope", "read");

        Assert.True(code == ExitCodes.Failure, $"exit {code}: {stderr}");
        var line = Assert.Single(Cli.Lines(stderr));
        Assert.Contains($": cannot open the store in '{Data}' for writing: it is read-only", line, StringComparison.Ordinal);
        Assert.DoesNotContain("unable to open database file", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_CorruptStore_OneLineWithWhatToDoExitOne()
    {
        await CreateStoreAsync(Data, loops: 50);
        using (var file = new FileStream(Path.Combine(Data, "flywheel.db"), FileMode.Open, FileAccess.ReadWrite))
        {
            // Page 3 of a 4 KiB-page file: one whole page of noise.
            var noise = new byte[4096];
            new Random(7).NextBytes(noise);
            file.Seek(2 * 4096, SeekOrigin.Begin);
            file.Write(noise);
        }

        var line = await ServeRefusedAsync(Data);

        Assert.Contains("is corrupt", line, StringComparison.Ordinal);
        Assert.Contains(".recover", line, StringComparison.Ordinal);
    }

    private static async Task CreateStoreAsync(string directory, int loops = 1)
    {
        await using var store = await SqliteFlywheelStore.OpenAsync(new SqliteStoreOptions { DataDirectory = directory });
        for (var i = 0; i < loops; i++)
        {
            await store.SaveLoopAsync(new LoopConfig { Id = $"loop-{i}", Signals = new Dictionary<string, SignalTypeConfig> { [new string('s', 60) + i] = new() { Weight = 1 } } });
        }
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

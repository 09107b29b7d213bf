using Flywheel.Storage.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace Flywheel.Cli.Tests;

/// <summary>Faults an operator must fix are one line on stderr, not a stack trace.</summary>
public sealed class StoreRefusalCommandTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "flywheel-cli-refusal-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task Serve_DataDirectoryHeldByAnotherStore_OneLineNamingTheDirectoryExitOne()
    {
        await using var holder = await SqliteFlywheelStore.OpenAsync(new SqliteStoreOptions { DataDirectory = _directory });
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        // Only a guard against a server that would start anyway and never return; the refusal comes at start-up.
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(5));

        var code = await FlywheelCli.RunAsync(["serve", "--data-dir", _directory, "--urls", "http://127.0.0.1:0"],
            new CliContext(stdout, stderr, Interactive: false, new FakeTimeProvider()), guard.Token);

        Assert.Equal(ExitCodes.Failure, code);
        var line = Assert.Single(Cli.Lines(stderr.ToString()));
        Assert.Contains("is in use by another Flywheel process", line, StringComparison.Ordinal);
        Assert.Contains(Path.GetFullPath(_directory), line, StringComparison.Ordinal);
        Assert.DoesNotContain("internal error", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeysCreate_WhileAStoreHoldsTheDirectory_StillCreatesTheKey()
    {
        await using var holder = await SqliteFlywheelStore.OpenAsync(new SqliteStoreOptions { DataDirectory = _directory });

        var (code, stdout, stderr) = await Cli.RunAsync("keys", "create", "--data-dir", _directory, "--scope", "read");

        Assert.True(code == 0, stderr);
        Assert.Single(await holder.ListApiKeysAsync());
        Assert.StartsWith("fwk_", Cli.Lines(stdout)[^1].Split(' ')[^1], StringComparison.Ordinal);
    }
}

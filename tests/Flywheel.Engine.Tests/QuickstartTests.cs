using System.Diagnostics;

namespace Flywheel.Engine.Tests;

public sealed class QuickstartTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Flywheel.slnx")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException("repository root not found");
    }

    [Fact]
    public void Readme_QuickStart_IsTheCompiledSample()
    {
        var root = RepoRoot();
        var sample = File.ReadAllText(Path.Combine(root, "samples/Flywheel.Quickstart/Program.cs")).Trim();
        var readme = File.ReadAllText(Path.Combine(root, "README.md"));
        Assert.Contains(sample, readme, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Quickstart_Runs_AndStoresItsSignals()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Flywheel.Quickstart.dll");
        using var process = Process.Start(new ProcessStartInfo("dotnet", [dll, _dir.Path])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var stdout = await process.StandardOutput.ReadToEndAsync();
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, stderr);
        Assert.Contains("show v", stdout);
        Assert.Contains("2 signals stored", stdout);
    }
}

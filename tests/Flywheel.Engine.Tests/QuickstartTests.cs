namespace Flywheel.Engine.Tests;

public sealed class QuickstartTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Readme_QuickStart_IsTheCompiledSample()
    {
        var sample = File.ReadAllText(Repository.Path("samples", "Flywheel.Quickstart", "Program.cs")).Trim();
        var readme = File.ReadAllText(Repository.Path("README.md"));
        Assert.Contains(sample, readme, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Quickstart_Runs_AndStoresItsSignals()
    {
        var (exitCode, stdout, stderr) = await ChildProcess.RunDotnetAsync("Flywheel.Quickstart.dll", _dir.Path);
        Assert.True(exitCode == 0, stderr);
        Assert.Contains("show v", stdout);
        Assert.Contains("2 signals stored", stdout);
    }
}

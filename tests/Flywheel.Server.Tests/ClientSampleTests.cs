namespace Flywheel.Server.Tests;

public sealed class ClientSampleTests
{
    [Fact]
    public void Readme_SdkQuickStart_IsTheCompiledSample()
    {
        var sample = File.ReadAllText(Repository.Path("samples", "Flywheel.ClientSample", "Program.cs")).Trim();
        Assert.Contains(sample, File.ReadAllText(Repository.Path("README.md")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClientSample_AgainstARealServer_DecidesAndSendsItsSignals()
    {
        await using var server = await ServerFixture.StartAsync();
        var (exitCode, stdout, stderr) = await ChildProcess.RunDotnetAsync("Flywheel.ClientSample.dll", server.Address.ToString());
        Assert.True(exitCode == 0, stderr);
        Assert.Contains("show v", stdout);
        Assert.Contains("2 signals sent", stdout);
    }
}

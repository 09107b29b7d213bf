using System.Diagnostics;

namespace Flywheel.Server.Tests;

public sealed class ClientSampleTests
{
    [Fact]
    public void Readme_SdkQuickStart_IsTheCompiledSample()
    {
        var root = ReadmeTests.RepoRoot();
        var sample = File.ReadAllText(Path.Combine(root, "samples/Flywheel.ClientSample/Program.cs")).Trim();
        Assert.Contains(sample, File.ReadAllText(Path.Combine(root, "README.md")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClientSample_AgainstARealServer_DecidesAndSendsItsSignals()
    {
        await using var server = await ServerFixture.StartAsync();
        var dll = Path.Combine(AppContext.BaseDirectory, "Flywheel.ClientSample.dll");
        using var process = Process.Start(new ProcessStartInfo("dotnet", [dll, server.Address.ToString()])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var stdout = await process.StandardOutput.ReadToEndAsync();
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, stderr);
        Assert.Contains("show v", stdout);
        Assert.Contains("2 signals sent", stdout);
    }
}

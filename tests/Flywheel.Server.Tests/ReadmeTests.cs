using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Flywheel.Server.Tests;

public sealed partial class ReadmeTests
{
    internal static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Flywheel.slnx")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException("repository root not found");
    }

    [GeneratedRegex(@"## HTTP quick start.*?```bash\n(?<script>.*?)```", RegexOptions.Singleline)]
    private static partial Regex CurlBlock();

    [Fact]
    public async Task Readme_CurlQuickStart_WorksAgainstARealServer()
    {
        var readme = await File.ReadAllTextAsync(Path.Combine(RepoRoot(), "README.md"));
        var script = CurlBlock().Match(readme).Groups["script"].Value;
        Assert.Contains("curl", script);
        await using var server = await ServerFixture.StartAsync();
        script = script.Replace("http://127.0.0.1:5005", server.Address.ToString().TrimEnd('/'), StringComparison.Ordinal);

        using var process = Process.Start(new ProcessStartInfo("bash", ["-e", "-c", script])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var stdout = await process.StandardOutput.ReadToEndAsync();
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {stderr}\n{stdout}");
        Assert.Contains("\"chosenActionId\"", stdout);
        Assert.Contains("\"accepted\":1", stdout);
        Assert.Contains("\"signalId\":\"s-1\"", stdout);
    }
}

using System.IO.Compression;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Flywheel.Cli.Tests;

/// <summary>
/// The tool as docs/install.md installs it: packed from this source, installed by <c>dotnet tool install</c> from the
/// local folder into a temporary tool path, and run.
/// </summary>
[Collection(ReleaseBuildCollection.Name)]
public sealed partial class ToolPackageTests(ReleaseBuild build, ITestOutputHelper output)
{
    /// <summary>SQLite's native library, as each platform names it.</summary>
    [GeneratedRegex(@"^(lib)?e_sqlite3\.(so|dylib|dll|a)$")]
    internal static partial Regex SqliteLibrary();

    /// <summary>The platforms with a package of their own (the rest install the portable <c>any</c> one).</summary>
    private static readonly string[] Platforms = ["linux-x64", "linux-arm64", "osx-x64", "osx-arm64", "win-x64"];

    [Fact]
    public async Task PackedTool_InstallsFromTheLocalFolder_AndRunsVersionAndReplay()
    {
        var informational = typeof(FlywheelCli).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
        var version = informational.Split('+')[0];
        var packages = build.NewFolder("packages");

        var pack = await build.DotnetAsync("pack", Repository.Path("src", "Flywheel.Cli"), "-c", "Release", "-o", packages);
        Assert.True(pack.ExitCode == 0, pack.Out + pack.Error);
        Assert.DoesNotContain(": warning ", pack.Out + pack.Error, StringComparison.Ordinal);

        // A pointer package that names one package per platform, each carrying its own SQLite library only.
        var expected = Platforms.Append("any").Select(rid => $"Flywheel.Cli.{rid}.{version}.nupkg").Append($"Flywheel.Cli.{version}.nupkg").Order(StringComparer.Ordinal);
        Assert.Equal(expected, Directory.GetFiles(packages, "*.nupkg").Select(Path.GetFileName).Order(StringComparer.Ordinal));
        foreach (var file in Directory.GetFiles(packages, "*.nupkg").Order(StringComparer.Ordinal))
        {
            output.WriteLine($"{Path.GetFileName(file)}: {new FileInfo(file).Length:N0} bytes");
        }
        using (var pointer = ZipFile.OpenRead(Path.Combine(packages, $"Flywheel.Cli.{version}.nupkg")))
        {
            Assert.Contains(pointer.Entries, e => e.FullName == "README.md");
            Assert.DoesNotContain(pointer.Entries, e => e.FullName.EndsWith(".dll", StringComparison.Ordinal));
            using var settings = new StreamReader(pointer.Entries.Single(e => e.Name == "DotnetToolSettings.xml").Open());
            var text = await settings.ReadToEndAsync();
            Assert.All(Platforms.Append("any"), rid => Assert.Contains($"Id=\"Flywheel.Cli.{rid}\"", text, StringComparison.Ordinal));
        }
        foreach (var rid in Platforms)
        {
            var file = Path.Combine(packages, $"Flywheel.Cli.{rid}.{version}.nupkg");
            using var package = ZipFile.OpenRead(file);
            var natives = package.Entries.Where(e => SqliteLibrary().IsMatch(e.Name)).ToList();
            Assert.True(natives.Count == 1, $"{rid}: {string.Join(", ", natives.Select(n => n.FullName))}");
            Assert.InRange(new FileInfo(file).Length, 1, 10_000_000); // 6.1–6.5 MB in December 2026; 32 MB when one package held every platform
        }
        Assert.InRange(new FileInfo(Path.Combine(packages, $"Flywheel.Cli.any.{version}.nupkg")).Length, 1, 24_000_000);

        // Installed from that folder alone, whatever NuGet sources the machine knows.
        var config = Path.Combine(build.NewFolder("nuget"), "nuget.config");
        await File.WriteAllTextAsync(config, $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="flywheel" value="{packages}" />
              </packageSources>
            </configuration>
            """);
        var tools = build.NewFolder("tools");
        var install = await ChildProcess.RunAsync("dotnet", ["tool", "install", "Flywheel.Cli", "--version", version, "--tool-path", tools, "--configfile", config],
            new Dictionary<string, string?> { ["NUGET_PACKAGES"] = build.NewFolder("nuget-cache"), ["DOTNET_NOLOGO"] = "1" }, ReleaseBuild.BuildGuard);
        Assert.True(install.ExitCode == 0, install.Out + install.Error);
        output.WriteLine(install.Out.Trim());
        var platform = Platforms.Contains(RuntimeInformation.RuntimeIdentifier) ? RuntimeInformation.RuntimeIdentifier : "any";
        Assert.True(Directory.Exists(Path.Combine(tools, ".store", "flywheel.cli", version, $"flywheel.cli.{platform}")), $"no flywheel.cli.{platform} in the tool store");

        var flywheel = Path.Combine(tools, OperatingSystem.IsWindows() ? "flywheel.exe" : "flywheel");
        var shown = await ChildProcess.RunAsync(flywheel, "--version");
        Assert.True(shown.ExitCode == 0, shown.Error);
        Assert.Equal(informational, shown.Out.Trim());

        // The README's replay, by the installed tool: the same figures as the code under test computes in process.
        var digits = Repository.SampleData("digits.csv");
        var replay = await ChildProcess.RunAsync(flywheel, "replay", "--cbify", "10", digits, "--json");
        Assert.True(replay.ExitCode == 0, replay.Error);
        var inProcess = await Cli.RunAsync("replay", "--cbify", "10", digits, "--json");
        using var installed = JsonDocument.Parse(replay.Out);
        using var expectedRun = JsonDocument.Parse(inProcess.Out);
        Assert.Equal(1797, installed.RootElement.GetProperty("examples").GetInt64());
        Assert.Equal(expectedRun.RootElement.GetProperty("progressiveLoss").GetDouble(), installed.RootElement.GetProperty("progressiveLoss").GetDouble());
        Assert.Equal(0.3879, Math.Round(installed.RootElement.GetProperty("progressiveLoss").GetDouble(), 4)); // the README's figure
    }
}

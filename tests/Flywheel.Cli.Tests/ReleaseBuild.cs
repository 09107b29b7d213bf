namespace Flywheel.Cli.Tests;

/// <summary>
/// A temporary artifacts folder for the tests that build the CLI in Release as its users do (<c>dotnet pack</c>,
/// <c>dotnet publish</c>). Nothing under the repository's <c>bin/</c> and <c>obj/</c> is written, so the test run's own
/// build, and the servers other tests start from it, are left alone; the tests share the folder, so the second build
/// reuses what the first compiled.
/// </summary>
public sealed class ReleaseBuild : IDisposable
{
    /// <summary>A hang guard only: a Release build of every platform's package takes minutes on a loaded 2-core machine.</summary>
    public static readonly TimeSpan BuildGuard = TimeSpan.FromMinutes(30);

    private readonly TempDirectory _dir = new("flywheel-release-");

    /// <summary>The artifacts folder every build of these tests writes to.</summary>
    public string ArtifactsPath => Path.Combine(_dir.Path, "artifacts");

    /// <summary>A new empty folder named <paramref name="name"/> beside the artifacts.</summary>
    public string NewFolder(string name)
    {
        var path = Path.Combine(_dir.Path, name);
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
        return Directory.CreateDirectory(path).FullName;
    }

    /// <summary>
    /// Runs <c>dotnet ARGS</c> into <see cref="ArtifactsPath"/>, without MSBuild nodes or a compiler server that would
    /// outlive it (and hold its output open).
    /// </summary>
    public Task<(int ExitCode, string Out, string Error)> DotnetAsync(params string[] args)
        => ChildProcess.RunAsync("dotnet", [.. args, "--artifacts-path", ArtifactsPath, "--nologo", "-nodeReuse:false", "-p:UseSharedCompilation=false"],
            new Dictionary<string, string?> { ["MSBUILDDISABLENODEREUSE"] = "1", ["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0", ["DOTNET_NOLOGO"] = "1" },
            BuildGuard);

    public void Dispose() => _dir.Dispose();
}

/// <summary>The tests that build the CLI in Release run one after another, over one <see cref="ReleaseBuild"/>.</summary>
[CollectionDefinition(Name)]
public sealed class ReleaseBuildCollection : ICollectionFixture<ReleaseBuild>
{
    public const string Name = "Release build";
}

namespace Flywheel.Learning.Tests.Ability;

/// <summary>The scripts of <c>tests/fsrs</c>, with ts-fsrs pinned there.</summary>
internal static class NodeReference
{
    private static readonly NodePackage Package = new(Repository.Path("tests", "fsrs"), new Version(20, 0));

    public static Task EnsureInstalledAsync() => Package.EnsureInstalledAsync();

    public static Task<(int ExitCode, string Output)> RunAsync(string program, IReadOnlyList<string> args, TimeSpan? timeout = null)
        => Package.RunAsync(program, args, timeout);
}

namespace Flywheel.Cli.Tests;

/// <summary>Runs the command line in process and finds the repository's sample data, for every CLI test.</summary>
internal static class Cli
{
    /// <summary>Runs <c>flywheel</c> with <paramref name="args"/>; returns the exit code, stdout and stderr.</summary>
    public static async Task<(int Code, string Out, string Error)> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await FlywheelCli.RunAsync(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>The non-empty lines of <paramref name="text"/>.</summary>
    public static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>A path under the repository's <c>samples/data</c>.</summary>
    public static string SampleData(params string[] parts)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Flywheel.slnx")))
            {
                return Path.Combine([dir.FullName, "samples", "data", .. parts]);
            }
        }
        throw new InvalidOperationException("Flywheel.slnx not found");
    }
}

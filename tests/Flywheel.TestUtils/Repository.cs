namespace Flywheel.TestUtils;

/// <summary>Files of the repository the tests run from, found by walking up from the test assembly to Flywheel.slnx.</summary>
public static class Repository
{
    private static readonly Lazy<string> RootFolder = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Flywheel.slnx")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"No Flywheel.slnx above {AppContext.BaseDirectory}");
    });

    /// <summary>The folder holding Flywheel.slnx.</summary>
    public static string Root => RootFolder.Value;

    /// <summary>A path inside the repository, e.g. <c>Path("samples", "Flywheel.Quickstart", "Program.cs")</c>.</summary>
    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    /// <summary>A path under <c>samples/data</c>.</summary>
    public static string SampleData(params string[] parts) => Path(["samples", "data", .. parts]);
}

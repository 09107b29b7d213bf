using System.Text.Json;

namespace Flywheel.Evaluation.Tests;

/// <summary>The shared reference data beside the repository: ../shared/data/ope and ../shared/reference.</summary>
internal static class SharedData
{
    public const double Tolerance = 1e-9;

    /// <summary>The reference files and the key of each in ope-reference.json.</summary>
    public static readonly (string File, string Key)[] ReferenceFiles =
    [
        ("ope-tiny.jsonl", "ope-tiny.jsonl"),
        ("ope-small.jsonl", "ope-small.jsonl"),
        ("ope-skewed.jsonl.gz", "ope-skewed.jsonl"),
    ];

    public static string Root
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Flywheel.slnx")))
                {
                    return Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared"));
                }
            }
            throw new InvalidOperationException("Flywheel.slnx not found");
        }
    }

    public static string OpeFile(string name) => Path.Combine(Root, "data", "ope", name);

    public static JsonDocument Reference() => JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "reference", "ope-reference.json")));

    public static double RelativeError(double actual, double expected)
        => expected == 0 ? Math.Abs(actual) : Math.Abs(actual - expected) / Math.Abs(expected);
}

using System.Text.Json;

namespace Flywheel.Evaluation.Tests;

/// <summary>
/// The reference data in samples/data/ope: logged decisions and ope-reference.json, the figures Open Bandit Pipeline
/// computes on them.
/// </summary>
internal static class SharedData
{
    public const double Tolerance = 1e-9;

    /// <summary>The reference files and the key of each in ope-reference.json.</summary>
    public static readonly (string File, string Key)[] ReferenceFiles =
    [
        ("ope-tiny.jsonl", "ope-tiny.jsonl"),
        ("ope-small.jsonl.gz", "ope-small.jsonl"),
        ("ope-skewed.jsonl.gz", "ope-skewed.jsonl"),
    ];

    public static string Root => Repository.SampleData("ope");

    public static string OpeFile(string name) => Path.Combine(Root, name);

    public static JsonDocument Reference() => JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "ope-reference.json")));

    public static double RelativeError(double actual, double expected)
        => expected == 0 ? Math.Abs(actual) : Math.Abs(actual - expected) / Math.Abs(expected);
}

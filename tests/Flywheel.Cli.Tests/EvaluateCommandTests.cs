using System.IO.Compression;
using System.Text.Json;
using Flywheel.Core;

namespace Flywheel.Cli.Tests;

public sealed class EvaluateCommandTests : IDisposable
{
    private const string Good = """{"decisionId":"d1","context":{"user":{"country":"fr"}},"actions":[{"id":"a","features":{}},{"id":"b","features":{}}],"chosenActionId":"b","probability":0.25,"reward":1,"targetProbabilities":{"a":0.5,"b":0.5},"rewardEstimates":{"a":0.1,"b":0.7}}""";

    private readonly TempDirectory _folder = new("flywheel-cli-");

    public void Dispose() => _folder.Dispose();

    /// <summary>The reference files in samples/data/ope (ope-small and ope-skewed gzipped), with Open Bandit Pipeline's figures.</summary>
    private static string OpeFolder => Repository.SampleData("ope");

    private static string OpeFile(string name) => Path.Combine(OpeFolder, name);

    private string Write(string name, string text) => _folder.Write(name, text);

    private static Task<(int Code, string Out, string Error)> RunAsync(params string[] args) => Cli.RunAsync(args);

    private static string[] Lines(string text) => Cli.Lines(text);

    [Theory]
    [InlineData("ope-tiny.jsonl", "ope-tiny.jsonl")]
    [InlineData("ope-small.jsonl.gz", "ope-small.jsonl")]
    [InlineData("ope-skewed.jsonl.gz", "ope-skewed.jsonl")]
    public async Task Evaluate_Json_ReferenceFile_EqualsTheReference(string file, string key)
    {
        var (code, stdout, stderr) = await RunAsync("evaluate", OpeFile(file), "--json");
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        Assert.Single(Lines(stdout));
        using var actualDoc = JsonDocument.Parse(stdout);
        using var referenceDoc = JsonDocument.Parse(File.ReadAllText(Path.Combine(OpeFolder, "ope-reference.json")));
        var actual = actualDoc.RootElement;
        var expected = referenceDoc.RootElement.GetProperty(key);

        Assert.Equal(["n", "ess", "targetPolicy", "rewardEstimates", "estimators", "maxWeight", "maxWeightShare", "warnings"], actual.EnumerateObject().Select(p => p.Name));
        // The reference files' weights are moderate: no decision carries a tenth of the total weight.
        Assert.InRange(actual.GetProperty("maxWeightShare").GetDouble(), 0, 0.1);
        Assert.Equal(0, actual.GetProperty("warnings").GetArrayLength());
        Assert.Equal("file", actual.GetProperty("targetPolicy").GetString());
        Assert.Equal("file", actual.GetProperty("rewardEstimates").GetString());
        Assert.Equal(expected.GetProperty("n").GetInt64(), actual.GetProperty("n").GetInt64());
        AssertClose(expected.GetProperty("ess").GetDouble(), actual.GetProperty("ess").GetDouble());
        var estimators = actual.GetProperty("estimators");
        // The same estimators (ips-cp only where rewards lie in [0, 1]), in the order of reference/ope.md's shape.
        Assert.Equal(expected.GetProperty("estimators").EnumerateObject().Select(p => p.Name).Order(), estimators.EnumerateObject().Select(p => p.Name).Order());
        string[] canonical = ["ips", "ips-cp", "snips", "dm", "dr"];
        Assert.Equal(canonical.Where(n => expected.GetProperty("estimators").TryGetProperty(n, out _)), estimators.EnumerateObject().Select(p => p.Name));
        foreach (var reference in expected.GetProperty("estimators").EnumerateObject())
        {
            var estimate = estimators.GetProperty(reference.Name);
            Assert.Equal(["value", "lower", "upper"], estimate.EnumerateObject().Select(p => p.Name));
            AssertClose(reference.Value.GetProperty("value").GetDouble(), estimate.GetProperty("value").GetDouble());
            // The reference bounds are Gaussian (and VowpalWabbit's Clopper–Pearson); Flywheel's intervals are wider
            // on purpose (docs/estimators.md, "Intervals") and must contain them.
            var (lower, upper) = (reference.Value.GetProperty("lower").GetDouble(), reference.Value.GetProperty("upper").GetDouble());
            Assert.True(estimate.GetProperty("lower").GetDouble() <= lower + 1e-9 * Math.Abs(lower), $"{reference.Name} lower");
            Assert.True(estimate.GetProperty("upper").GetDouble() >= upper - 1e-9 * Math.Abs(upper), $"{reference.Name} upper");
        }
    }

    private static void AssertClose(double expected, double actual)
    {
        var error = Math.Abs(actual - expected) / Math.Abs(expected);
        Assert.True(error <= 1e-9, $"{actual:R} vs reference {expected:R} (relative error {error:E2})");
    }

    [Fact]
    public async Task Evaluate_GzipCopy_SameAsPlain_WhateverTheName()
    {
        var gz = _folder.File("tiny.jsonl");  // gzip inside, plain name: detected by the magic bytes
        using (var input = File.OpenRead(OpeFile("ope-tiny.jsonl")))
        using (var output = new GZipStream(File.Create(gz), CompressionLevel.Optimal))
        {
            input.CopyTo(output);
        }
        var plain = await RunAsync("evaluate", OpeFile("ope-tiny.jsonl"), "--json");
        var zipped = await RunAsync("evaluate", gz, "--json");
        Assert.Equal(0, zipped.Code);
        Assert.Equal(plain.Out, zipped.Out);
    }

    public static TheoryData<string, string> BadRows() => new()
    {
        { "{\"decisionId\":", "line 3: is not valid JSON" },
        { Good.Replace("\"probability\":0.25", "\"probability\":0", StringComparison.Ordinal), "line 3: probability must lie in (0, 1]; got 0" },
        { Good.Replace("\"chosenActionId\":\"b\"", "\"chosenActionId\":\"q\"", StringComparison.Ordinal), "line 3: chosenActionId 'q' is not among the actions" },
        { Good.Replace("\"reward\":1,", "", StringComparison.Ordinal), "line 3: reward is required" },
        { Good.Replace("{\"a\":0.5,\"b\":0.5}", "{\"a\":0.5,\"b\":0.6}", StringComparison.Ordinal), "line 3: targetProbabilities must sum to 1 (within 1e-6); the sum is 1.1" },
        { Good.Replace("{\"id\":\"b\"", "{\"id\":\"a\"", StringComparison.Ordinal), "line 3: actions[1].id 'a' appears twice" },
    };

    [Theory]
    [MemberData(nameof(BadRows))]
    public async Task Evaluate_MalformedRow_OneLineNamingLineAndField_Exit2(string row, string expected)
    {
        var path = Write("bad.jsonl", Good + "\n\n" + row + "\n" + Good + "\n");
        foreach (var json in new[] { true, false })
        {
            var (code, stdout, stderr) = await RunAsync(json ? ["evaluate", path, "--json"] : ["evaluate", path]);
            Assert.Equal(2, code);
            Assert.Equal("", stdout);
            var line = Assert.Single(Lines(stderr));
            Assert.StartsWith("flywheel evaluate: " + expected, line, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Evaluate_MalformedRowInGzip_NamesTheLine()
    {
        var path = _folder.File("bad.jsonl.gz");
        using (var output = new StreamWriter(new GZipStream(File.Create(path), CompressionLevel.Fastest)))
        {
            output.Write(Good + "\n" + Good + "\n" + Good.Replace("\"reward\":1", "\"reward\":\"high\"", StringComparison.Ordinal) + "\n");
        }
        var (code, stdout, stderr) = await RunAsync("evaluate", path, "--json");
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Equal("flywheel evaluate: line 3: reward must be a number, not a string", Assert.Single(Lines(stderr)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n\n   \n")]
    public async Task Evaluate_EmptyFile_Exit2(string text)
    {
        var path = Write("empty.jsonl", text);
        var (code, stdout, stderr) = await RunAsync("evaluate", path, "--json");
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Equal($"flywheel evaluate: '{path}' holds no logged decisions", Assert.Single(Lines(stderr)));
    }

    [Theory]
    [InlineData("ips,foo", "--estimators: 'foo' is not an estimator; choose from ips, ips-cp, snips, dm, dr")]
    [InlineData("IPS", "--estimators: 'IPS' is not an estimator")]
    [InlineData(",", "--estimators needs at least one of")]
    public async Task Evaluate_UnknownEstimator_Exit2(string list, string expected)
    {
        var (code, stdout, stderr) = await RunAsync("evaluate", OpeFile("ope-tiny.jsonl"), "--estimators", list);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.StartsWith("flywheel evaluate: " + expected, Assert.Single(Lines(stderr)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Evaluate_UnknownPolicy_Exit2()
    {
        var (code, stdout, stderr) = await RunAsync("evaluate", OpeFile("ope-tiny.jsonl"), "--policy", "greedy");
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.StartsWith("flywheel evaluate: ", Assert.Single(Lines(stderr)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Evaluate_MissingFile_Exit2()
    {
        var missing = _folder.File("missing.jsonl");
        var (code, stdout, stderr) = await RunAsync("evaluate", missing);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Equal($"flywheel evaluate: file '{missing}' not found", Assert.Single(Lines(stderr)));
    }

    [Fact]
    public async Task Evaluate_EstimatorSubset_OnlyThose_InCanonicalOrder()
    {
        var (code, stdout, _) = await RunAsync("evaluate", OpeFile("ope-tiny.jsonl"), "--json", "--estimators", "dr, ips-cp,ips,dr");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal(["ips", "ips-cp", "dr"], doc.RootElement.GetProperty("estimators").EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task Evaluate_WithoutFileValues_UniformPolicyAndFittedModel_SaySo()
    {
        var row = """{"decisionId":"d","context":{"user":{"country":"fr"}},"actions":[{"id":"a","features":{}},{"id":"b","features":{}}],"chosenActionId":"b","probability":0.25,"reward":1}""";
        var path = Write("bare.jsonl", row + "\n" + row.Replace("\"reward\":1", "\"reward\":0", StringComparison.Ordinal) + "\n");
        var (code, stdout, stderr) = await RunAsync("evaluate", path, "--json");
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal("uniform", doc.RootElement.GetProperty("targetPolicy").GetString());
        Assert.Equal("fitted", doc.RootElement.GetProperty("rewardEstimates").GetString());
        // Uniform: w = 0.5/0.25 = 2 for both rows, IPS = (2·1 + 2·0)/2.
        Assert.Equal(1.0, doc.RootElement.GetProperty("estimators").GetProperty("ips").GetProperty("value").GetDouble(), 15);
        Assert.Equal(2.0, doc.RootElement.GetProperty("ess").GetDouble(), 15);
    }

    [Fact]
    public async Task Evaluate_TinyLoggedProbability_WarnsOfTheExtremeWeight()
    {
        var rows = Enumerable.Range(0, 100).Select(i => Good.Replace("\"d1\"", $"\"d{i}\"", StringComparison.Ordinal)).ToList();
        rows.Add(Good.Replace("\"d1\"", "\"rare\"", StringComparison.Ordinal).Replace("\"probability\":0.25", "\"probability\":1e-9", StringComparison.Ordinal));
        var path = Write("rare.jsonl", string.Join('\n', rows) + "\n");

        var (code, stdout, stderr) = await RunAsync("evaluate", path);
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        var warning = Assert.Single(Lines(stdout), l => l.StartsWith("  WARNING: extreme importance weight", StringComparison.Ordinal));
        Assert.Contains("100", warning, StringComparison.Ordinal);

        (code, stdout, _) = await RunAsync("evaluate", path, "--json");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(stdout);
        // w = 0.5/1e-9 = 5e8 against 100 rows of w = 2: the rare decision carries all but 4e-7 of the weight.
        Assert.Equal(5e8, doc.RootElement.GetProperty("maxWeight").GetDouble(), 1e-3);
        Assert.True(doc.RootElement.GetProperty("maxWeightShare").GetDouble() > 0.999999);
        Assert.StartsWith("extreme importance weight", Assert.Single(doc.RootElement.GetProperty("warnings").EnumerateArray()).GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Evaluate_RewardRange_BoundsTheIntervals_AndRefusesARewardOutsideIt()
    {
        var rows = Enumerable.Range(0, 50).Select(i => Good.Replace("\"d1\"", $"\"d{i}\"", StringComparison.Ordinal).Replace("\"reward\":1", $"\"reward\":{i % 2}", StringComparison.Ordinal));
        var path = Write("range.jsonl", string.Join('\n', rows) + "\n");

        var (code, stdout, stderr) = await RunAsync("evaluate", path, "--json", "--reward-min", "0", "--reward-max", "1");
        Assert.True(code == 0, stderr);
        using (var doc = JsonDocument.Parse(stdout))
        {
            var ips = doc.RootElement.GetProperty("estimators").GetProperty("ips");
            Assert.InRange(ips.GetProperty("lower").GetDouble(), 0, ips.GetProperty("value").GetDouble());
        }
        // A wider known range widens the intervals.
        (code, var wide, _) = await RunAsync("evaluate", path, "--json", "--reward-min", "-5", "--reward-max", "5");
        Assert.Equal(0, code);
        using (var narrowDoc = JsonDocument.Parse(stdout))
        using (var wideDoc = JsonDocument.Parse(wide))
        {
            double Width(JsonDocument d) => d.RootElement.GetProperty("estimators").GetProperty("snips").GetProperty("upper").GetDouble()
                - d.RootElement.GetProperty("estimators").GetProperty("snips").GetProperty("lower").GetDouble();
            Assert.True(Width(wideDoc) > Width(narrowDoc));
        }

        (code, stdout, stderr) = await RunAsync("evaluate", path, "--reward-min", "0", "--reward-max", "0.5");
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains("line 2: reward 1 lies outside the reward range [0, 0.5]", Assert.Single(Lines(stderr)), StringComparison.Ordinal);

        (code, _, stderr) = await RunAsync("evaluate", path, "--reward-min", "0");
        Assert.Equal(2, code);
        Assert.Contains("--reward-min and --reward-max go together", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Evaluate_OneRow_BoundsAreNull()
    {
        var path = Write("one.jsonl", Good + "\n");
        var (code, stdout, _) = await RunAsync("evaluate", path, "--json", "--estimators", "ips,snips,dm,dr");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(stdout);
        foreach (var estimate in doc.RootElement.GetProperty("estimators").EnumerateObject())
        {
            Assert.Equal(JsonValueKind.Number, estimate.Value.GetProperty("value").ValueKind);
            Assert.Equal(JsonValueKind.Null, estimate.Value.GetProperty("lower").ValueKind);
            Assert.Equal(JsonValueKind.Null, estimate.Value.GetProperty("upper").ValueKind);
        }
    }

    [Fact]
    public async Task Evaluate_WithoutJson_PrintsATable()
    {
        var (code, stdout, stderr) = await RunAsync("evaluate", OpeFile("ope-skewed.jsonl.gz"));
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        Assert.Contains("20,000 logged decisions", stdout, StringComparison.Ordinal);
        Assert.Contains("1.290698", stdout, StringComparison.Ordinal);
        foreach (var name in new[] { "ips", "snips", "dm", "dr", "95% lower" })
        {
            Assert.Contains(name, stdout, StringComparison.Ordinal);
        }
        Assert.Contains("ips-cp: not reported; rewards range over [-1, 2]", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', stdout);
    }

    [Fact]
    public async Task Evaluate_SlowRun_PrintsAProgressLineEveryThreeSecondsOfTheCliClock()
    {
        // 20,000 rows are reported at rows 4,096, 8,192, 12,288, 16,384 and at the end. Each reading moves the clock 2 s,
        // so those reports see 2, 4, 6, 8 and 10 s elapsed: a line is due at 4 s (next at 7) and at 8 s (next at 11).
        var (code, _, stderr) = await Cli.RunAsync(new Cli.SteppingClock(TimeSpan.FromSeconds(2)), "evaluate", OpeFile("ope-skewed.jsonl.gz"), "--json");
        Assert.Equal(0, code);
        Assert.Equal(["evaluate: 8192 decisions", "evaluate: 16384 decisions"], Lines(stderr).Select(l => l.Split(',')[0].TrimEnd()));
    }

    [Fact]
    public async Task Evaluate_Help_ListsTheOptions()
    {
        var (code, stdout, _) = await RunAsync("evaluate", "--help");
        Assert.Equal(0, code);
        foreach (var option in new[] { "--estimators", "--policy", "--json", "FILE" })
        {
            Assert.Contains(option, stdout, StringComparison.Ordinal);
        }
    }
}

using System.Text.Json;

namespace Flywheel.Cli.Tests;

public sealed class ReplayCommandTests : IDisposable
{
    private readonly TempDirectory _folder = new("flywheel-cli-");

    public void Dispose() => _folder.Dispose();

    private static string Digits() => Repository.SampleData("digits.csv");

    private string Write(string name, string text) => _folder.Write(name, text);

    private static Task<(int Code, string Out, string Error)> RunAsync(params string[] args) => Cli.RunAsync(args);

    private static string[] Lines(string text) => Cli.Lines(text);

    [Fact]
    public async Task Replay_Json_PrintsOneObjectWithTheFigures()
    {
        var path = Digits();
        var (code, stdout, stderr) = await RunAsync("replay", "--cbify", "10", path, "--json", "--cb-type", "mtr", "--seed", "3");
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        Assert.Single(Lines(stdout));
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.Equal(JsonValueKind.Object, root.ValueKind);
        Assert.Equal(1797, root.GetProperty("examples").GetInt64());
        Assert.InRange(root.GetProperty("progressiveLoss").GetDouble(), 0, 1);
        Assert.InRange(root.GetProperty("greedyLoss").GetDouble(), 0, 1);
        Assert.True(root.GetProperty("seconds").GetDouble() > 0);
        Assert.True(root.GetProperty("examplesPerSecond").GetDouble() > 0);
        Assert.Equal(path, root.GetProperty("file").GetString());
        Assert.Equal(10, root.GetProperty("k").GetInt32());
        Assert.Equal("squarecb", root.GetProperty("algorithm").GetString());
        Assert.Equal("mtr", root.GetProperty("cbType").GetString());
        Assert.Equal(0.0, root.GetProperty("epsilon").GetDouble());
        Assert.Equal(1.0, root.GetProperty("learningRate").GetDouble());
        Assert.Equal(0.5, root.GetProperty("powerT").GetDouble());
        Assert.Equal(3UL, root.GetProperty("seed").GetUInt64());
    }

    [Fact]
    public async Task Replay_LearningRateAndPowerT_OverrideTheCbTypesDefaults()
    {
        var defaults = await RunAsync("replay", "--cbify", "10", Digits(), "--json");
        var set = await RunAsync("replay", "--cbify", "10", Digits(), "--json", "--learning-rate", "0.5", "--power-t", "0.5");
        Assert.Equal(0, set.Code);
        using var d = JsonDocument.Parse(defaults.Out);
        using var o = JsonDocument.Parse(set.Out);
        Assert.Equal(0.6, d.RootElement.GetProperty("learningRate").GetDouble());
        Assert.Equal(0.65, d.RootElement.GetProperty("powerT").GetDouble());
        Assert.Equal(0.5, o.RootElement.GetProperty("learningRate").GetDouble());
        Assert.Equal(0.5, o.RootElement.GetProperty("powerT").GetDouble());
        Assert.NotEqual(d.RootElement.GetProperty("progressiveLoss").GetDouble(), o.RootElement.GetProperty("progressiveLoss").GetDouble());
    }

    [Fact]
    public async Task Replay_Json_IsReproducible()
    {
        var a = await RunAsync("replay", "--cbify", "10", Digits(), "--json");
        var b = await RunAsync("replay", "--cbify", "10", Digits(), "--json");
        using var da = JsonDocument.Parse(a.Out);
        using var db = JsonDocument.Parse(b.Out);
        Assert.Equal(da.RootElement.GetProperty("progressiveLoss").GetDouble(), db.RootElement.GetProperty("progressiveLoss").GetDouble());
    }

    [Fact]
    public async Task Replay_WithoutJson_PrintsASummary()
    {
        var (code, stdout, stderr) = await RunAsync("replay", "--cbify", "10", Digits());
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        Assert.Contains("progressive loss", stdout, StringComparison.Ordinal);
        Assert.Contains("1,797 examples", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replay_MalformedDataLine_OneLineExit2()
    {
        var path = Write("bad.csv", "label,f0,f1\n1,2,3\n2,3,4\n0,1,1\n");
        var (code, stdout, stderr) = await RunAsync("replay", "--cbify", "10", path, "--json");
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Equal("flywheel replay: line 4: label '0' is outside 1..10", Assert.Single(Lines(stderr)));
    }

    [Fact]
    public async Task Replay_CorruptGzip_OneLineExit2()
    {
        var path = _folder.File("corrupt.csv");
        File.WriteAllBytes(path, [0x1F, 0x8B, 0x08, 0x00, 0xFF, 0xFF, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05]);
        var (code, stdout, stderr) = await RunAsync("replay", "--cbify", "10", path);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.StartsWith("flywheel replay: ", Assert.Single(Lines(stderr)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replay_VwText_IsDetectedByContent()
    {
        var path = Write("data.csv", "1 |x f0:1 f1:2\n2 |x f0:3\n2 |x f1:1.5\n");
        var (code, stdout, stderr) = await RunAsync("replay", "--cbify", "2", path, "--json");
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal("vw", doc.RootElement.GetProperty("format").GetString());
        Assert.Equal(3, doc.RootElement.GetProperty("examples").GetInt64());
    }

    [Theory]
    [InlineData("unknown option", "--bogus", "Unrecognized command or argument '--bogus'")]
    [InlineData("K = 1", "--cbify=1", "--cbify K needs K from 2")]
    [InlineData("epsilon 2", "--epsilon=2", "--epsilon must lie in [0, 1]; got 2")]
    [InlineData("unknown algorithm", "--algorithm=foo", "Argument 'foo' not recognized")]
    [InlineData("bags 0", "--bags=0", "--bags must be from 1 to 64")]
    [InlineData("negative lambda", "--lambda=-1", "--lambda must be a finite number")]
    [InlineData("learning rate 0", "--learning-rate=0", "--learning-rate must be greater than 0 and at most 100; got 0")]
    [InlineData("learning rate NaN", "--learning-rate=NaN", "--learning-rate must be greater than 0")]
    [InlineData("power_t 2", "--power-t=2", "--power-t must lie in [0, 1]; got 2")]
    [InlineData("power_t not a number", "--power-t=fast", "fast")]
    public async Task Replay_BadArgument_OneLineExit2(string what, string argument, string expected)
    {
        var args = new List<string> { "replay", "--cbify", "10", Digits(), "--json" };
        if (argument.StartsWith("--cbify=", StringComparison.Ordinal))
        {
            args[2] = argument["--cbify=".Length..];
        }
        else
        {
            args.AddRange(argument.Split('=', 2));
        }
        var (code, stdout, stderr) = await RunAsync([.. args]);
        Assert.True(code == 2, what);
        Assert.Equal("", stdout);
        var line = Assert.Single(Lines(stderr));
        Assert.StartsWith("flywheel replay: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replay_MissingFile_OneLineExit2()
    {
        var missing = _folder.File("missing.csv");
        var (code, stdout, stderr) = await RunAsync("replay", "--cbify", "10", missing);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Equal($"flywheel replay: file '{missing}' not found", Assert.Single(Lines(stderr)));
    }

    [Theory]
    [InlineData("replay", "--cbify", "10")]
    [InlineData("replay", "x.csv")]
    [InlineData("nonsense")]
    [InlineData()]
    public async Task Parse_Errors_OneLineExit2(params string[] args)
    {
        var (code, stdout, stderr) = await RunAsync(args);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.StartsWith("flywheel", Assert.Single(Lines(stderr)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("replay", "--help")]
    [InlineData("replay", "-h", "--bogus")]
    public async Task Help_PrintsUsage_Exit0(params string[] args)
    {
        var (code, stdout, stderr) = await RunAsync(args);
        Assert.Equal(0, code);
        Assert.Contains("Usage:", stdout, StringComparison.Ordinal);
        Assert.Equal("", stderr);
    }

    [Fact]
    public async Task Replay_Help_ListsTheOptions()
    {
        var (_, stdout, _) = await RunAsync("replay", "--help");
        foreach (var option in new[] { "--cbify", "--algorithm", "--cb-type", "--epsilon", "--lambda", "--gamma", "--bags", "--seed", "--json" })
        {
            Assert.Contains(option, stdout, StringComparison.Ordinal);
        }
    }
}

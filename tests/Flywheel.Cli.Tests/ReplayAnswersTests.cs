using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;

namespace Flywheel.Cli.Tests;

/// <summary><c>flywheel replay --answers FILE</c>: the ability check on answer data.</summary>
public sealed class ReplayAnswersTests : IDisposable
{
    private readonly TempDirectory _folder = new("flywheel-cli-answers-");

    public void Dispose() => _folder.Dispose();

    private static Task<(int Code, string Out, string Error)> RunAsync(params string[] args) => Cli.RunAsync(args);

    /// <summary>Rasch answers of 300 learners to 8 items (difficulties −1.75 … 1.75), seeded; a fifth of the cells missing.</summary>
    private static string WideCsv()
    {
        var random = new Random(5);
        var text = new StringBuilder("id," + string.Join(',', Enumerable.Range(1, 8).Select(j => $"q{j}")) + "\n");
        for (var p = 0; p < 300; p++)
        {
            var ability = 1.2 * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            text.Append(CultureInfo.InvariantCulture, $"p{p}");
            for (var j = 0; j < 8; j++)
            {
                var difficulty = -1.75 + 0.5 * j;
                var missing = random.NextDouble() < 0.2;
                var right = random.NextDouble() < 1 / (1 + Math.Exp(difficulty - ability));
                text.Append(missing ? ",NA" : right ? ",1" : ",0");
            }
            text.Append('\n');
        }
        return text.ToString();
    }

    /// <summary>The same kind of answers in the long layout, each with its time.</summary>
    private static string LongCsv()
    {
        var random = new Random(6);
        var text = new StringBuilder("user,item,correct,at\n");
        var at = new DateTimeOffset(2025, 3, 1, 8, 0, 0, TimeSpan.Zero);
        for (var p = 0; p < 200; p++)
        {
            var ability = random.NextDouble() * 3 - 1.5;
            for (var j = 0; j < 6; j++)
            {
                var right = random.NextDouble() < 1 / (1 + Math.Exp(-1 + 0.4 * j - ability));
                text.Append(CultureInfo.InvariantCulture, $"u{p},item{j},{(right ? "true" : "false")},{at:O}\n");
                at = at.AddMinutes(3);
            }
        }
        return text.ToString();
    }

    [Fact]
    public async Task ReplayAnswers_Json_PrintsOneObjectWithTheFigures()
    {
        var path = _folder.Write("wide.csv", WideCsv());
        var (code, stdout, stderr) = await RunAsync("replay", "--answers", path, "--json", "--seed", "3");
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        Assert.Single(Cli.Lines(stdout));
        using var doc = JsonDocument.Parse(stdout);
        var r = doc.RootElement;
        Assert.Equal(path, r.GetProperty("file").GetString());
        Assert.Equal("wide", r.GetProperty("format").GetString());
        Assert.False(r.GetProperty("gzip").GetBoolean());
        Assert.Equal("shuffled", r.GetProperty("order").GetString());
        Assert.Equal("elo", r.GetProperty("model").GetString());
        Assert.Equal(0.2, r.GetProperty("holdout").GetDouble());
        Assert.Equal(3UL, r.GetProperty("seed").GetUInt64());
        Assert.Equal(300, r.GetProperty("users").GetInt32());
        Assert.Equal(8, r.GetProperty("items").GetInt32());
        Assert.Equal(8, r.GetProperty("itemsCompared").GetInt32());
        var answers = r.GetProperty("answers").GetInt64();
        Assert.Equal(answers, r.GetProperty("trainAnswers").GetInt64() + r.GetProperty("heldOutAnswers").GetInt64());
        Assert.True(r.GetProperty("pearson").GetDouble() > 0.95);
        Assert.InRange(r.GetProperty("spearman").GetDouble(), -1, 1);
        Assert.True(r.GetProperty("onlineLogLoss").GetDouble() < r.GetProperty("itemBaseRateLogLoss").GetDouble());
        Assert.True(r.GetProperty("itemBaseRateLogLoss").GetDouble() < r.GetProperty("globalBaseRateLogLoss").GetDouble());
        foreach (var name in new[] { "raschLogLoss", "progressiveLogLoss", "raschAbilitySpread", "seconds", "readSeconds", "onlineSeconds", "raschSeconds" })
        {
            Assert.True(r.GetProperty(name).GetDouble() > 0, name);
        }
        Assert.True(r.GetProperty("raschConverged").GetBoolean());
    }

    [Fact]
    public async Task ReplayAnswers_LongFileWithTimes_ReplaysInTimeOrder_AndIsReproducible()
    {
        var path = _folder.Write("long.csv", LongCsv());
        var a = await RunAsync("replay", "--answers", path, "--json", "--holdout", "0.25", "--guess", "0.1", "--model", "irt");
        var b = await RunAsync("replay", "--answers", path, "--json", "--holdout", "0.25", "--guess", "0.1", "--model", "irt");
        Assert.Equal(0, a.Code);
        using var da = JsonDocument.Parse(a.Out);
        using var db = JsonDocument.Parse(b.Out);
        Assert.Equal("long", da.RootElement.GetProperty("format").GetString());
        Assert.Equal("time", da.RootElement.GetProperty("order").GetString());
        Assert.Equal("irt", da.RootElement.GetProperty("model").GetString());
        Assert.Equal(0.1, da.RootElement.GetProperty("guess").GetDouble());
        Assert.Equal(1200, da.RootElement.GetProperty("answers").GetInt64());
        foreach (var name in new[] { "heldOutAnswers", "pearson", "onlineLogLoss", "progressiveLogLoss" })
        {
            Assert.Equal(da.RootElement.GetProperty(name).GetDouble(), db.RootElement.GetProperty(name).GetDouble());
        }
    }

    [Fact]
    public async Task ReplayAnswers_WithoutJson_PrintsAShortTable()
    {
        var path = _folder.File("wide.csv.gz");
        using (var gzip = new GZipStream(File.Create(path), CompressionLevel.Fastest))
        {
            gzip.Write(Encoding.UTF8.GetBytes(WideCsv()));
        }
        var (code, stdout, stderr) = await RunAsync("replay", "--answers", path);
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        Assert.Contains("(wide CSV, gzip)", stdout, StringComparison.Ordinal);
        Assert.Contains("300 users, 8 items", stdout, StringComparison.Ordinal);
        Assert.Contains("seeded shuffle", stdout, StringComparison.Ordinal);
        foreach (var row in new[] { "Pearson", "Spearman", "online model, held out", "batch Rasch fit, held out", "per-item base rate, held out", "global base rate, held out", "online model, progressive", "ability spread" })
        {
            Assert.Contains(row, stdout, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ReplayAnswers_NothingHeldOut_HeldOutFiguresAreNull()
    {
        var path = _folder.Write("wide.csv", WideCsv());
        var (code, stdout, _) = await RunAsync("replay", "--answers", path, "--json", "--holdout", "0");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal(0, doc.RootElement.GetProperty("heldOutAnswers").GetInt64());
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("onlineLogLoss").ValueKind);
        Assert.Equal(JsonValueKind.Number, doc.RootElement.GetProperty("pearson").ValueKind);
    }

    [Fact]
    public async Task ReplayAnswers_BadLine_OneLineNamingLineAndColumn_Exit2()
    {
        var path = _folder.Write("bad.csv", "user,item,correct\nann,q1,1\nbob,q1,maybe\n");
        var (code, stdout, stderr) = await RunAsync("replay", "--answers", path, "--json");
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Equal("flywheel replay: line 3, column 3: correct must be 0, 1, true or false; got 'maybe'", Assert.Single(Cli.Lines(stderr)));
    }

    [Fact]
    public async Task ReplayAnswers_CorruptGzip_OneLineExit2()
    {
        var path = _folder.Write("corrupt.csv", [0x1F, 0x8B, 0x08, 0x00, 0xFF, 0xFF, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05]);
        var (code, stdout, stderr) = await RunAsync("replay", "--answers", path);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.StartsWith("flywheel replay: ", Assert.Single(Cli.Lines(stderr)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("header only", "user,item,correct\n", "holds no answers")]
    [InlineData("empty", "", "line 1: the file is empty")]
    [InlineData("all missing", "id,a,b\np,NA,NA\n", "holds no answers")]
    public async Task ReplayAnswers_NoAnswers_OneLineExit2(string what, string text, string expected)
    {
        var path = _folder.Write("none.csv", text);
        var (code, stdout, stderr) = await RunAsync("replay", "--answers", path);
        Assert.True(code == 2, what);
        Assert.Equal("", stdout);
        Assert.Contains(expected, Assert.Single(Cli.Lines(stderr)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("neither", new string[0], "give exactly one of --cbify K FILE")]
    [InlineData("both", new[] { "--answers", "A", "--cbify", "10", "D" }, "give exactly one of --cbify K FILE")]
    [InlineData("cbify without file", new[] { "--cbify", "10" }, "--cbify K needs the data FILE")]
    [InlineData("a second file", new[] { "--answers", "A", "D" }, "--answers FILE takes no other file; got 'D'")]
    [InlineData("cbify option", new[] { "--answers", "A", "--epsilon", "0.1" }, "--epsilon applies to --cbify only")]
    [InlineData("answers option", new[] { "--cbify", "10", "D", "--guess", "0.25" }, "--guess applies to --answers only")]
    [InlineData("holdout 1", new[] { "--answers", "A", "--holdout", "1" }, "--holdout must lie in [0, 1); got 1")]
    [InlineData("holdout NaN", new[] { "--answers", "A", "--holdout", "NaN" }, "--holdout must lie in [0, 1)")]
    [InlineData("guess 0.6", new[] { "--answers", "A", "--guess", "0.6" }, "--guess must lie in [0, 0.5]; got 0.6")]
    [InlineData("unknown model", new[] { "--answers", "A", "--model", "2pl" }, "Argument '2pl' not recognized")]
    [InlineData("missing file", new[] { "--answers", "missing.csv" }, "file 'missing.csv' not found")]
    public async Task ReplayAnswers_BadArguments_OneLineExit2(string what, string[] args, string expected)
    {
        var answers = _folder.Write("a.csv", WideCsv());
        var digits = Repository.SampleData("digits.csv");
        string[] full = ["replay", .. args.Select(a => a switch { "A" => answers, "D" => digits, _ => a })];
        var (code, stdout, stderr) = await RunAsync(full);
        Assert.True(code == 2, what);
        Assert.Equal("", stdout);
        var line = Assert.Single(Cli.Lines(stderr));
        Assert.StartsWith("flywheel replay: ", line, StringComparison.Ordinal);
        Assert.Contains(expected.Replace("'D'", $"'{digits}'", StringComparison.Ordinal), line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replay_Help_ListsTheAnswerOptions()
    {
        var (code, stdout, _) = await RunAsync("replay", "--help");
        Assert.Equal(0, code);
        foreach (var option in new[] { "--answers", "--holdout", "--model", "--guess", "--cbify", "--seed", "--json" })
        {
            Assert.Contains(option, stdout, StringComparison.Ordinal);
        }
    }
}

using System.Text.Json;
using static Flywheel.Cli.Tests.Cli;

namespace Flywheel.Cli.Tests;

public sealed class SimulateAndDemoCommandTests : IDisposable
{
    private readonly TempDirectory _folder = new("flywheel-cli-sim-");

    public void Dispose() => _folder.Dispose();

    [Theory]
    [InlineData("flywheel simulate", "'nowhere'", "simulate", "nowhere")]
    [InlineData("flywheel simulate", "--days must be from 1 to 3,650; got 0", "simulate", "feed", "--days", "0")]
    [InlineData("flywheel simulate", "--users must be from 1 to 1,000,000; got -3", "simulate", "feed", "--users", "-3")]
    [InlineData("flywheel simulate", "--seed", "simulate", "feed", "--seed", "minus-one")]
    [InlineData("flywheel demo", "--days must be from 1 to 3,650; got 4000", "demo", "--days", "4000")]
    [InlineData("flywheel demo", "--users must be from 1 to 1,000,000; got 0", "demo", "--users", "0")]
    [InlineData("flywheel demo", "Unrecognized", "demo", "--speed", "fast")]
    [InlineData("flywheel demo", "--out needs a directory", "demo", "--out", "")]
    [InlineData("flywheel simulate", "--data-dir needs a directory", "simulate", "feed", "--data-dir", " ")]
    public async Task SimulateAndDemo_BadArgument_OneLineExit2(string command, string expected, params string[] args)
    {
        var (code, stdout, stderr) = await RunAsync(args);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        var line = Assert.Single(Lines(stderr));
        Assert.StartsWith(command + ": ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Demo_OutIsAFile_OneLineExit2()
    {
        var file = Path.Combine(_folder.Path, "taken");
        await File.WriteAllTextAsync(file, "not a folder");
        var (code, stdout, stderr) = await RunAsync("demo", "--days", "3", "--users", "5", "--out", file);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains("is a file", Assert.Single(Lines(stderr)), StringComparison.Ordinal);
        Assert.Equal("not a folder", await File.ReadAllTextAsync(file));
    }

    [Fact]
    public async Task Demo_OutHoldsSomeoneElsesFiles_RefusesAndDeletesNothing()
    {
        var mine = Path.Combine(_folder.Path, "data", "a");
        Directory.CreateDirectory(mine);
        await File.WriteAllTextAsync(Path.Combine(mine, "notes.txt"), "keep me");
        var (code, stdout, stderr) = await RunAsync("demo", "--days", "3", "--users", "5", "--out", _folder.Path);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains("notes.txt", Assert.Single(Lines(stderr)), StringComparison.Ordinal);
        Assert.Equal("keep me", await File.ReadAllTextAsync(Path.Combine(mine, "notes.txt")));
    }

    [Fact]
    public async Task Demo_SameOutTwice_ReplacesItsOwnStores()
    {
        var (first, _, _) = await RunAsync("demo", "--days", "3", "--users", "5", "--out", _folder.Path, "--json");
        var (second, out2, _) = await RunAsync("demo", "--days", "3", "--users", "5", "--out", _folder.Path, "--json");
        Assert.Equal(0, first);
        Assert.Equal(0, second);
        Assert.Contains("\"months\"", out2, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Simulate_Json_PrintsDailyAndMonthlyFiguresOfEveryProduct()
    {
        var (code, stdout, stderr) = await RunAsync("simulate", "no-pipe", "--days", "40", "--users", "15", "--seed", "2", "--json");
        Assert.Equal(0, code);
        Assert.DoesNotContain("internal error", stderr, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        Assert.Equal("no-pipe", root.GetProperty("scenario").GetString());
        Assert.Equal(2, root.GetProperty("products").GetArrayLength());
        Assert.Equal(40, root.GetProperty("daily").GetArrayLength());
        Assert.Equal(2, root.GetProperty("months").GetArrayLength());
        var january = root.GetProperty("months")[0];
        foreach (var key in new[] { "a", "b" })
        {
            var m = january.GetProperty(key);
            Assert.True(m.GetProperty("decisions").GetInt64() > 0);
            Assert.True(m.GetProperty("returnVisits").GetInt32() > 0);
            Assert.Equal(JsonValueKind.Number, m.GetProperty("modelVersion").ValueKind);
            Assert.Equal(JsonValueKind.Object, m.GetProperty("truth").ValueKind);
        }
        // no-pipe's A captures every signal; the straight line B sends them too; neither learns.
        var signals = january.GetProperty("a").GetProperty("signals");
        Assert.True(signals.GetProperty("implicit").GetInt64() > 0);
        Assert.True(signals.GetProperty("byType").GetProperty("return_visit").GetInt64() > 0);
        Assert.Equal(0, january.GetProperty("a").GetProperty("turnsRun").GetInt32());
    }

    [Fact]
    public async Task Simulate_DataDir_KeepsOneStorePerProduct()
    {
        var data = Path.Combine(_folder.Path, "stores");
        var (code, stdout, _) = await RunAsync("simulate", "feed", "--days", "5", "--users", "10", "--data-dir", data);
        Assert.Equal(0, code);
        Assert.Contains("A in Jan 2027:", stdout, StringComparison.Ordinal);
        Assert.True(Directory.EnumerateFiles(Path.Combine(data, "a")).Any());
        Assert.True(Directory.EnumerateFiles(Path.Combine(data, "b")).Any());
    }
}

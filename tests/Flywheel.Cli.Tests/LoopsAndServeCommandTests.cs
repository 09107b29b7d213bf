using System.Net;
using System.Net.Sockets;
using Flywheel.Core;
using Flywheel.TestUtils;

namespace Flywheel.Cli.Tests;

public sealed class LoopsAndServeCommandTests : IAsyncLifetime
{
    private readonly TempDirectory _folder = new("flywheel-cli-loops-");
    private ServerFixture _server = null!;
    private string _url = "";

    public async Task InitializeAsync()
    {
        _server = await ServerFixture.StartAsync();
        _url = _server.Url;
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _folder.Dispose();
    }

    private static Task<(int Code, string Out, string Error)> RunAsync(params string[] args) => Cli.RunAsync(args);

    private string Write(string name, string text) => _folder.Write(name, text);

    [Fact]
    public async Task Loops_ApplyListShow_RoundTripsAConfig()
    {
        var file = Write("feed.json", """{ "id": "home-feed", "signals": { "click": { "weight": 1, "closesWindow": true } }, "mode": "frozen" }""");
        var (code, stdout, stderr) = await RunAsync("loops", "apply", file, "--server", _url);
        Assert.True(code == 0, stderr);
        Assert.Contains("applied loop 'home-feed'", stdout);

        (code, stdout, _) = await RunAsync("loops", "list", "--server", _url);
        Assert.Equal(0, code);
        Assert.Contains("home-feed", stdout);
        Assert.Contains("frozen", stdout);

        (code, stdout, _) = await RunAsync("loops", "show", "home-feed", "--server", _url);
        Assert.Equal(0, code);
        Assert.Contains("\"closesWindow\": true", stdout);
    }

    public static TheoryData<string> SampleLoops() => [.. Directory.GetFiles(Repository.Path("samples", "loops"), "*.json").Select(f => Path.GetFileName(f)).Order()];

    [Theory]
    [MemberData(nameof(SampleLoops))]
    public async Task LoopsApply_SampleConfig_IsTakenAsWritten(string file)
    {
        var (code, stdout, stderr) = await RunAsync("loops", "apply", Repository.Path("samples", "loops", file), "--server", _url);
        Assert.True(code == 0, stderr);
        var id = Path.GetFileNameWithoutExtension(file);
        Assert.Contains($"applied loop '{id}'", stdout, StringComparison.Ordinal);

        (code, stdout, _) = await RunAsync("loops", "show", id, "--server", _url);
        Assert.Equal(0, code);
        var written = LoopConfigJson.Parse(File.ReadAllText(Repository.Path("samples", "loops", file)));
        Assert.Equal(LoopConfigJson.Serialize(written), LoopConfigJson.Serialize(LoopConfigJson.Parse(stdout)));
    }

    [Theory]
    [InlineData("""{ "id": "x", "signals": { "click": { "weight": 1 } }, "reward": { "windowSeconds": -1 } }""", "reward.windowSeconds")]
    [InlineData("""{ "signals": { "click": { "weight": 1 } } }""", "id")]
    [InlineData("""{ "id": "x", "signals": """, "JSON")]
    public async Task LoopsApply_BadConfig_OneLineNamingTheFieldExitTwo(string config, string mentions)
    {
        var (code, stdout, stderr) = await RunAsync("loops", "apply", Write("bad.json", config), "--server", _url);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(mentions, stderr);
    }

    [Theory]
    [InlineData("{ \"id\": \"x\",\n  \"signals\": { \"click\": { \"weight\": 1, } }\n}", "trailing comma", "(line 2, column 40)")]
    [InlineData("hello", "invalid start of a value", "(line 1, column 1)")]
    [InlineData("{ \"id\": \"été\", x }", "", "(line 1, column 16)")]
    public async Task LoopsApply_FileNotJson_NamesTheFileAndAOneBasedPosition(string text, string says, string where)
    {
        var file = Write("broken.json", text);
        var (code, stdout, stderr) = await RunAsync("loops", "apply", file, "--server", _url);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        var line = Assert.Single(Cli.Lines(stderr));
        Assert.StartsWith($"flywheel loops apply: {file}: is not valid JSON: ", line, StringComparison.Ordinal);
        Assert.Contains(says, line, StringComparison.Ordinal);
        Assert.EndsWith(where, line.TrimEnd(), StringComparison.Ordinal);
        Assert.DoesNotContain("LineNumber", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LoopsApply_InvalidField_NamesTheFileAndTheField()
    {
        var file = Write("window.json", """{ "id": "x", "signals": { "click": { "weight": 1 } }, "reward": { "windowSeconds": -1 } }""");
        var (code, _, stderr) = await RunAsync("loops", "apply", file, "--server", _url);
        Assert.Equal(2, code);
        Assert.StartsWith($"flywheel loops apply: {file}: reward.windowSeconds: ", Assert.Single(Cli.Lines(stderr)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task LoopsShow_UnknownLoop_ExitTwo()
    {
        var (code, _, stderr) = await RunAsync("loops", "show", "nope", "--server", _url);
        Assert.Equal(2, code);
        Assert.Contains("nope", stderr);
    }

    [Fact]
    public async Task Loops_ServerDown_OneLineExitOne()
    {
        var port = ServerProcess.FreePort();
        var (code, _, stderr) = await RunAsync("loops", "list", "--server", $"http://127.0.0.1:{port}");
        Assert.Equal(1, code);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData("serve", "--durability", "sometimes")]
    [InlineData("serve", "--store", "postgres://db/flywheel")]
    [InlineData("serve", "--urls", "ftp://127.0.0.1:1")]
    [InlineData("serve", "--urls", "http://127.0.0.1:0", "--max-concurrent-requests", "0")]
    [InlineData("serve", "--urls", "http://127.0.0.1:0", "--max-in-flight-bytes", "1024")]
    [InlineData("serve", "--urls", "http://127.0.0.1:0", "--max-connections", "many")]
    [InlineData("loops", "list", "--server", "not a url")]
    [InlineData("loops", "apply")]
    public async Task Commands_BadArguments_OneLineExitTwo(params string[] args)
    {
        var (code, _, stderr) = await RunAsync(args);
        Assert.Equal(2, code);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Serve_DataDirIsAFile_OneLineExitTwo()
    {
        var file = Write("not-a-dir", "x");
        var (code, _, stderr) = await RunAsync("serve", "--data-dir", file, "--urls", "http://127.0.0.1:0");
        Assert.Equal(2, code);
        Assert.Contains("not a folder", stderr);
    }

    [Fact]
    public async Task LoopsList_ServerUrlWithAWrongPath_SaysWhatWasAsked()
    {
        var (code, stdout, stderr) = await RunAsync("loops", "list", "--server", _url.TrimEnd('/') + "/typo");
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        var line = Assert.Single(Cli.Lines(stderr));
        Assert.Contains("/typo/v1/loops", line, StringComparison.Ordinal);
        Assert.Contains("The API is under /v1", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_BusyPort_AsAProcess_OneLineWithoutAStackTrace()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        var (code, stdout, stderr) = await ChildProcess.RunDotnetAsync("flywheel.dll", "serve", "--data-dir", Path.Combine(_folder.Path, "busy"), "--urls", $"http://127.0.0.1:{port}");

        Assert.Equal(2, code);
        var line = Assert.Single(Cli.Lines(stderr));
        Assert.Contains($"cannot listen on http://127.0.0.1:{port}", line, StringComparison.Ordinal);
        Assert.Contains("address already in use", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stdout + stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", stdout + stderr, StringComparison.Ordinal);
    }
}

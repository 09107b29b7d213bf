using System.Net.Sockets;
using Flywheel.TestUtils;

namespace Flywheel.Cli.Tests;

/// <summary>Where <c>serve</c> and the client verbs take their settings from: option, then environment, then settings file.</summary>
public sealed class ConfigurationTests : IAsyncLifetime
{
    private readonly TempDirectory _folder = new("flywheel-cli-config-");
    private ServerFixture _server = null!;

    public async Task InitializeAsync() => _server = await ServerFixture.StartAsync();

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _folder.Dispose();
    }

    private static Dictionary<string, string> Variables(params (string Name, string Value)[] pairs) => pairs.ToDictionary(p => p.Name, p => p.Value);

    // A data directory that is a file stops serve before it listens, naming the directory in force.
    private string FileNamed(string name) => _folder.Write(name, "not a folder");

    [Fact]
    public async Task Serve_DataDir_OptionOverEnvironmentOverSettingsFile()
    {
        var settings = _folder.Write("settings.json", $$"""{ "dataDir": {{System.Text.Json.JsonSerializer.Serialize(FileNamed("from-file"))}}, "urls": "http://127.0.0.1:0" }""");
        var environment = Variables(("FLYWHEEL_DATA_DIR", FileNamed("from-env")), ("FLYWHEEL_SETTINGS", settings));

        var (code, _, stderr) = await Cli.RunWithVariablesAsync(environment, "serve", "--data-dir", FileNamed("from-option"));
        Assert.Equal(2, code);
        Assert.Contains("from-option' is a file", stderr, StringComparison.Ordinal);

        (code, _, stderr) = await Cli.RunWithVariablesAsync(environment, "serve");
        Assert.Equal(2, code);
        Assert.Contains("from-env' is a file", stderr, StringComparison.Ordinal);

        (code, _, stderr) = await Cli.RunWithVariablesAsync(Variables(("FLYWHEEL_SETTINGS", settings)), "serve");
        Assert.Equal(2, code);
        Assert.Contains("from-file' is a file", stderr, StringComparison.Ordinal);

        // --settings names the file as the variable does.
        (code, _, stderr) = await Cli.RunWithVariablesAsync(Variables(), "serve", "--settings", settings);
        Assert.Equal(2, code);
        Assert.Contains("from-file' is a file", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "maxConnections": "many" }""", "\"maxConnections\" in settings file")]
    [InlineData("""{ "durability": "sometimes" }""", "\"durability\" in settings file")]
    [InlineData("""{ "maxConections": 5 }""", "\"maxConections\" is not a setting")]
    [InlineData("""{ "urls": ["http://127.0.0.1:1"] }""", "must be a string, number or boolean")]
    [InlineData("""{ "urls": "http://127.0.0.1:1", }""", "(line 1, column 33)")]
    [InlineData("""[1]""", "must hold one JSON object")]
    public async Task Serve_BadSettingsFile_OneLineNamingTheFileAndTheSetting(string json, string mentions)
    {
        var settings = _folder.Write("bad-settings.json", json);
        // Were the file taken, serve would still stop at once: its data directory is a file.
        var (code, stdout, stderr) = await Cli.RunWithVariablesAsync(Variables(("FLYWHEEL_DATA_DIR", FileNamed("guard"))), "serve", "--settings", settings);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        var line = Assert.Single(Cli.Lines(stderr));
        Assert.Contains(settings, line, StringComparison.Ordinal);
        Assert.Contains(mentions, line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("FLYWHEEL_MAX_CONNECTIONS", "many", "FLYWHEEL_MAX_CONNECTIONS 'many' is not a whole number")]
    [InlineData("FLYWHEEL_DURABILITY", "sometimes", "FLYWHEEL_DURABILITY 'sometimes' is neither process nor power")]
    [InlineData("FLYWHEEL_INSECURE", "yes", "FLYWHEEL_INSECURE 'yes' is neither true nor false")]
    [InlineData("ASPNETCORE_URLS", "ftp://127.0.0.1:1", "ASPNETCORE_URLS 'ftp://127.0.0.1:1' is not an http(s) URL")]
    [InlineData("FLYWHEEL_URLS", "https://127.0.0.1:5443", "FLYWHEEL_URLS 'https://127.0.0.1:5443': serve speaks plain HTTP; listen on http://127.0.0.1:5443 and let a reverse proxy terminate TLS")]
    [InlineData("FLYWHEEL_SETTINGS", "/nowhere/settings.json", "settings file '/nowhere/settings.json' not found")]
    public async Task Serve_BadVariable_OneLineNamingTheVariable(string name, string value, string says)
    {
        var (code, _, stderr) = await Cli.RunWithVariablesAsync(Variables((name, value), ("FLYWHEEL_DATA_DIR", FileNamed("guard"))), "serve");
        Assert.Equal(2, code);
        Assert.Contains(says, Assert.Single(Cli.Lines(stderr)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_FlywheelUrls_IsAboveAspNetCoreUrls_AndTheOptionAboveBoth()
    {
        var environment = Variables(("ASPNETCORE_URLS", "ftp://a:1"), ("FLYWHEEL_URLS", "ftp://b:1"), ("FLYWHEEL_DATA_DIR", FileNamed("guard")));
        var (code, _, stderr) = await Cli.RunWithVariablesAsync(environment, "serve");
        Assert.Equal(2, code);
        Assert.Contains("FLYWHEEL_URLS 'ftp://b:1'", stderr, StringComparison.Ordinal);

        (code, _, stderr) = await Cli.RunWithVariablesAsync(environment, "serve", "--urls", "ftp://c:1");
        Assert.Equal(2, code);
        Assert.Contains("--urls 'ftp://c:1'", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_AspNetCoreUrls_IsWhereItListens()
    {
        var port = ServerProcess.FreePort();
        var environment = Variables(("ASPNETCORE_URLS", $"http://127.0.0.1:{port}"), ("FLYWHEEL_DATA_DIR", Path.Combine(_folder.Path, "aspnet")));
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        using var stop = new CancellationTokenSource(ChildProcess.HangGuard);
        var context = new CliContext(stdout, stderr, Interactive: false, TimeProvider.System) { Variables = n => environment.GetValueOrDefault(n) };
        var serving = FlywheelCli.RunAsync(["serve"], context, stop.Token);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        string? health = null;
        while (health is null && !serving.IsCompleted)
        {
            try
            {
                health = await http.GetStringAsync("/healthz", stop.Token);
            }
            catch (HttpRequestException ex) when (ex.InnerException is SocketException)
            {
                await Task.Delay(50, stop.Token); // not listening yet
            }
        }
        await stop.CancelAsync();
        Assert.Equal(0, await serving);
        Assert.NotNull(health);
        Assert.True(Directory.Exists(Path.Combine(_folder.Path, "aspnet")), "the data directory of FLYWHEEL_DATA_DIR");
    }

    [Fact]
    public async Task ClientVerbs_FlywheelServer_IsUsedBelowTheOption()
    {
        var (code, _, stderr) = await Cli.RunWithVariablesAsync(Variables(("FLYWHEEL_SERVER", _server.Url)), "loops", "list");
        Assert.True(code == 0, stderr);

        (code, _, stderr) = await Cli.RunWithVariablesAsync(Variables(("FLYWHEEL_SERVER", "ftp://nowhere")), "loops", "list", "--server", _server.Url);
        Assert.True(code == 0, stderr);

        (code, _, stderr) = await Cli.RunWithVariablesAsync(Variables(("FLYWHEEL_SERVER", "ftp://nowhere")), "health", "home-feed");
        Assert.Equal(2, code);
        Assert.Contains("FLYWHEEL_SERVER 'ftp://nowhere' is not an http(s) URL", Assert.Single(Cli.Lines(stderr)), StringComparison.Ordinal);
    }
}

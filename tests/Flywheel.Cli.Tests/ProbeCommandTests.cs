using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Flywheel.Cli.Tests;

/// <summary><c>flywheel probe</c>: the container image's health check.</summary>
public sealed class ProbeCommandTests : IAsyncLifetime
{
    private ServerFixture _server = null!;

    public async Task InitializeAsync() => _server = await ServerFixture.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Probe_LiveServer_ExitsZeroAndPrintsTheAnswer()
    {
        var (code, stdout, stderr) = await Cli.RunAsync("probe", "--server", _server.Url);
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        Assert.Equal($"{_server.Url}/healthz 200 {{\"status\":\"ok\"}}", stdout.Trim());
    }

    [Fact]
    public async Task Probe_Ready_AsksReadyz()
    {
        var (code, stdout, _) = await Cli.RunAsync("probe", "--ready", "--server", _server.Url);
        Assert.Equal(0, code);
        Assert.Equal($"{_server.Url}/readyz 200 {{\"status\":\"ready\"}}", stdout.Trim());
    }

    [Fact]
    public async Task Probe_NeedsNoKey_WhenTheStoreHoldsOne()
    {
        var created = await Cli.RunAsync("keys", "create", "--data-dir", _server.DataDirectory, "--scope", "read");
        Assert.Equal(0, created.Code);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _server.Http.GetAsync("/v1/loops")).StatusCode);

        var (code, _, stderr) = await Cli.RunAsync("probe", "--server", _server.Url);
        Assert.True(code == 0, stderr);
    }

    [Fact]
    public async Task Probe_ServerFromTheEnvironment()
    {
        var (code, stdout, _) = await Cli.RunWithVariablesAsync(new Dictionary<string, string> { ["FLYWHEEL_SERVER"] = _server.Url }, "probe");
        Assert.Equal(0, code);
        Assert.StartsWith($"{_server.Url}/healthz 200", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Probe_NothingListening_ExitsOneWithOneLine()
    {
        var url = $"http://127.0.0.1:{ServerProcess.FreePort()}";
        var (code, stdout, stderr) = await Cli.RunAsync("probe", "--server", url);
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        var line = Assert.Single(Cli.Lines(stderr));
        Assert.StartsWith($"flywheel probe: {url}/healthz did not answer: ", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Probe_Not200_ExitsOneNamingTheStatus()
    {
        // A server that answers 503 once, as a store that cannot write makes /readyz do.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var answer = Task.Run(async () =>
        {
            using var client = await listener.AcceptTcpClientAsync().WaitAsync(ChildProcess.HangGuard);
            using var stream = client.GetStream();
            using var reader = new StreamReader(stream, Encoding.ASCII, leaveOpen: true);
            while (!string.IsNullOrEmpty(await reader.ReadLineAsync()))
            {
            }
            const string body = """{"title":"Store full"}""";
            var response = $"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(response));
        });

        var (code, _, stderr) = await Cli.RunAsync("probe", "--ready", "--server", $"http://127.0.0.1:{port}");
        await answer.WaitAsync(ChildProcess.HangGuard);

        Assert.Equal(1, code);
        Assert.Equal($"flywheel probe: http://127.0.0.1:{port}/readyz answered 503: {{\"title\":\"Store full\"}}", stderr.Trim());
    }

    [Fact]
    public async Task Probe_BadServer_IsAUsageError()
    {
        var (code, _, stderr) = await Cli.RunAsync("probe", "--server", "ftp://127.0.0.1");
        Assert.Equal(2, code);
        Assert.Equal("flywheel probe: --server 'ftp://127.0.0.1' is not an http(s) URL", stderr.Trim());
    }
}

using System.Net.Http.Headers;
using System.Text;
using Flywheel.Server;
using Microsoft.AspNetCore.Builder;

namespace Flywheel.TestUtils;

/// <summary>A real Flywheel server on 127.0.0.1 (random port) over a temporary data directory.</summary>
public sealed class ServerFixture : IAsyncDisposable
{
    private readonly WebApplication _app;

    private readonly TempDirectory? _ownedDirectory;

    private ServerFixture(WebApplication app, string dataDirectory, Uri address, TempDirectory? ownedDirectory)
    {
        _app = app;
        _ownedDirectory = ownedDirectory;
        DataDirectory = dataDirectory;
        Address = address;
        Http = new HttpClient { BaseAddress = address };
    }

    public string DataDirectory { get; }

    public Uri Address { get; }

    /// <summary><see cref="Address"/> as the CLI's <c>--server</c> takes it (no trailing slash).</summary>
    public string Url => Address.ToString().TrimEnd('/');

    public HttpClient Http { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>
    /// Starts a server over <paramref name="dataDirectory"/>, or over a temporary folder it deletes when disposed;
    /// <paramref name="configureBuilder"/> may replace services (a failing engine, say) before the app is built.
    /// </summary>
    public static async Task<ServerFixture> StartAsync(Action<FlywheelServerOptions>? configure = null, string? dataDirectory = null, Action<WebApplicationBuilder>? configureBuilder = null)
    {
        var owned = dataDirectory is null ? new TempDirectory("flywheel-server-") : null;
        var dir = dataDirectory ?? owned!.Path;
        var options = new FlywheelServerOptions { DataDirectory = dir, Urls = "http://127.0.0.1:0" };
        configure?.Invoke(options);
        var app = FlywheelServerApp.Build(options, configureBuilder);
        await app.StartAsync();
        var address = new Uri(FlywheelServerApp.Addresses(app).First());
        return new ServerFixture(app, dir, address, owned);
    }

    public Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? body, string contentType = "application/json")
    {
        var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }
        return Http.SendAsync(request);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _ownedDirectory?.Dispose();
    }

    public const string FeedLoop = """
        { "signals": { "watch_complete": { "kind": "implicit", "weight": 1.0 },
                       "skip": { "kind": "implicit", "weight": -0.5, "closesWindow": true },
                       "thumbs_up": { "kind": "explicit", "weight": 1.0 } } }
        """;
}

using System.Net.Http.Headers;
using System.Text;
using Flywheel.Server;
using Microsoft.AspNetCore.Builder;

namespace Flywheel.Server.Tests;

/// <summary>A real Flywheel server on 127.0.0.1 (random port) over a temporary data directory.</summary>
public sealed class ServerFixture : IAsyncDisposable
{
    private readonly WebApplication _app;

    private readonly bool _ownsDirectory;

    private ServerFixture(WebApplication app, string dataDirectory, Uri address, bool ownsDirectory)
    {
        _app = app;
        _ownsDirectory = ownsDirectory;
        DataDirectory = dataDirectory;
        Address = address;
        Http = new HttpClient { BaseAddress = address };
    }

    public string DataDirectory { get; }

    public Uri Address { get; }

    public HttpClient Http { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<ServerFixture> StartAsync(Action<FlywheelServerOptions>? configure = null, string? dataDirectory = null)
    {
        var dir = dataDirectory ?? Directory.CreateTempSubdirectory("flywheel-server-").FullName;
        var options = new FlywheelServerOptions { DataDirectory = dir, Urls = "http://127.0.0.1:0" };
        configure?.Invoke(options);
        var app = FlywheelServerApp.Build(options);
        await app.StartAsync();
        var address = new Uri(FlywheelServerApp.Addresses(app).First());
        return new ServerFixture(app, dir, address, ownsDirectory: dataDirectory is null);
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
        if (_ownsDirectory)
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
    }

    public const string FeedLoop = """
        { "signals": { "watch_complete": { "kind": "implicit", "weight": 1.0 },
                       "skip": { "kind": "implicit", "weight": -0.5, "closesWindow": true },
                       "thumbs_up": { "kind": "explicit", "weight": 1.0 } } }
        """;
}

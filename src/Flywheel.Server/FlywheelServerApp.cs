using Flywheel.Core;
using Flywheel.Engine;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using Scalar.AspNetCore;

namespace Flywheel.Server;

/// <summary>Builds the Flywheel HTTP server: the engine on its store (SQLite by default), the <c>/v1</c> API, the dashboard at <c>/</c>, OpenAPI and its reference UI, Prometheus metrics at <c>/metrics</c>.</summary>
public static partial class FlywheelServerApp
{
    /// <summary>Builds (does not start) a server for <paramref name="options"/>.</summary>
    /// <param name="options">Which store holds the data, which URLs to listen on, the limits.</param>
    /// <param name="configure">Last-minute changes to the builder (logging, extra services).</param>
    public static WebApplication Build(FlywheelServerOptions options, Action<WebApplicationBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "Flywheel.Server" });
        builder.WebHost.UseUrls(options.Urls);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes + 1);
        builder.Services.AddSingleton(Options.Create(options));
        builder.Services.AddSingleton(options.TimeProvider);
        var flywheel = builder.Services.AddFlywheel(o => o.Limits = options.Limits);
        if (options.Store is { } store)
        {
            store(flywheel);
        }
        else
        {
            flywheel.UseSqlite(options.DataDirectory);
        }
        builder.Services.AddHostedService<EngineLifetime>();
        // The dashboard at / (docs/dashboard.md): after the engine, so its extra stores open once the server's has.
        builder.Services.AddFlywheelDashboard();
        builder.Services.AddFlywheelJson();
        builder.Services.AddOpenApi(o => o.AddDocumentTransformer(DescribeDocument));
        // GET /metrics (docs/operations.md): the engine's meter and ASP.NET Core's request and connection metrics.
        // No scrape cache, so a scrape right after an acknowledged call counts it.
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("flywheel"))
            .WithMetrics(m => m
            .AddMeter(FlywheelEngine.TelemetryName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel")
            .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0));
        // Per-request framework logs would drown the few lines that matter.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        configure?.Invoke(builder);

        var app = builder.Build();
        app.Use(HandleErrorsAsync);
        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapScalarApiReference("/scalar");
        app.MapFlywheelApi();
        app.MapFlywheelDashboard();
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }

    // Document-level facts the endpoints cannot state; `tests/openapi` lints the result with redocly.
    private static Task DescribeDocument(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info.License = new OpenApiLicense { Name = "MIT", Identifier = "MIT" };
        // The server URL is taken from the request ("http://host:port/"); paths start with '/', so a trailing slash would double it.
        foreach (var server in document.Servers ?? [])
        {
            server.Url = server.Url?.TrimEnd('/');
        }
        return Task.CompletedTask;
    }

    /// <summary>The addresses the started server listens on (with real ports when port 0 was asked for).</summary>
    public static IReadOnlyList<string> Addresses(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];
    }

    private static async Task HandleErrorsAsync(HttpContext context, RequestDelegate next)
    {
        try
        {
            await next(context);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; nothing to answer.
        }
        catch (FlywheelOverloadedException ex)
        {
            if (!context.Response.HasStarted)
            {
                context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(ex.RetryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                await ProblemDetailsWriter.WriteAsync(context, 503, "Overloaded", ex.Message, null);
            }
        }
        catch (Exception ex)
        {
            var (status, title, detail, field) = ProblemDetailsWriter.From(ex);
            if (status >= 500)
            {
                var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Flywheel.Server");
                LogUnhandled(logger, ex, context.Request.Method, context.Request.Path);
            }
            if (!context.Response.HasStarted)
            {
                await ProblemDetailsWriter.WriteAsync(context, status, title, detail, field);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled error on {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "Flywheel listening on {Urls}; store: {Store}")]
    private static partial void LogStarted(ILogger logger, string urls, string store);

    /// <summary>Opens the engine at start-up (so a bad data directory fails fast) and says where everything is.</summary>
    private sealed class EngineLifetime(FlywheelEngine engine, IServer server, ILogger<EngineLifetime> logger, IHostApplicationLifetime lifetime) : IHostedService
    {
        public async Task StartAsync(CancellationToken cancellationToken)
        {
            await engine.StartAsync(cancellationToken);
            lifetime.ApplicationStarted.Register(() =>
            {
                var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
                LogStarted(logger, string.Join(", ", addresses), engine.StoreDescription);
            });
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

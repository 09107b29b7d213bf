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
        options.Validate();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "Flywheel.Server" });
        builder.WebHost.UseUrls(options.Urls);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes + 1;
            k.Limits.MaxConcurrentConnections = options.MaxConnections;
            k.Limits.MaxConcurrentUpgradedConnections = options.MaxConnections;
            k.Limits.KeepAliveTimeout = options.KeepAliveTimeout;
            k.Limits.RequestHeadersTimeout = options.RequestHeadersTimeout;
        });
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
        builder.Services.AddSingleton<ApiKeyAccess>();
        builder.Services.AddSingleton<RequestAdmission>();
        if (options.CorsOrigins.Count > 0)
        {
            // Only when configured: without CORS headers a browser keeps other sites' scripts from reading answers
            // and from sending JSON or Authorization at all (their preflight fails).
            builder.Services.AddCors(c => c.AddDefaultPolicy(p => p.WithOrigins([.. options.CorsOrigins])
                .WithHeaders("Authorization", "Content-Type").WithMethods("GET", "POST", "PUT", "DELETE")));
        }
        builder.Services.AddFlywheelJson();
        builder.Services.AddOpenApi(o => o.AddDocumentTransformer(DescribeDocument).AddOperationTransformer(DescribeSecurity));
        // GET /metrics (docs/operations.md): the engine's meter and ASP.NET Core's request and connection metrics.
        // No scrape cache, so a scrape right after an acknowledged call counts it.
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("flywheel"))
            .WithMetrics(m => m
            .AddMeter(FlywheelEngine.TelemetryName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel")
            .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0));
        // Per-request framework logs would drown the few lines that matter.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        // A start-up failure reaches the caller as the exception itself (flywheel serve prints it as one line); the
        // host's own "Hosting failed to start" error would repeat it with a stack trace.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        configure?.Invoke(builder);

        var app = builder.Build();
        app.Use(HandleErrorsAsync);
        RequestAdmission.Use(app);
        if (options.CorsOrigins.Count > 0)
        {
            app.UseCors();
        }
        FlywheelSecurity.Use(app, options);
        // The API's description holds no data, and the reference UI fetches it from the browser without a key.
        app.MapOpenApi("/openapi/{documentName}.json").AllowWithoutKey();
        app.MapScalarApiReference("/scalar").AllowWithoutKey();
        app.MapFlywheelApi();
        app.MapFlywheelDashboard();
        app.MapPrometheusScrapingEndpoint("/metrics").RequireFlywheelScope(ApiKeyScopes.Read);
        return app;
    }

    // Document-level facts the endpoints cannot state; `tests/openapi` lints the result with redocly.
    private static Task DescribeDocument(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info.License = new OpenApiLicense { Name = "MIT", Identifier = "MIT" };
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = "fwk_…",
            Description = "An API key from `flywheel keys create`, sent as `Authorization: Bearer KEY`. Required once the server's store holds "
                + "a key; each operation names the scope it needs (admin grants every scope), and a key bound to one loop may only use that loop's paths.",
        };
        // The server URL is taken from the request ("http://host:port/"); paths start with '/', so a trailing slash would double it.
        foreach (var server in document.Servers ?? [])
        {
            server.Url = server.Url?.TrimEnd('/');
        }
        return Task.CompletedTask;
    }

    private const string BearerScheme = "bearer";

    // Each operation's security requirement, from the scope its endpoint declares (FlywheelAccessMetadata); an open
    // endpoint gets an empty list, which says "no key needed".
    private static Task DescribeSecurity(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var scope = context.Description.ActionDescriptor.EndpointMetadata.OfType<FlywheelAccessMetadata>().LastOrDefault()?.Scope ?? ApiKeyScopes.Admin;
        if (scope == ApiKeyScopes.None)
        {
            operation.Security = [];
            return Task.CompletedTask;
        }
        var name = ApiKeys.FormatScopes(scope);
        operation.Security =
        [
            new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, context.Document)] = [name] },
        ];
        operation.Description = (operation.Description is { Length: > 0 } d ? d + "\n\n" : "") + (scope == ApiKeyScopes.Admin ? "Needs an API key with scope `admin`." : $"Needs an API key with scope `{name}` (or `admin`).");
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
            if (!context.Response.HasStarted && context.Response.StatusCode is 404 or 405 && context.Response.ContentType is null)
            {
                // Routing's own answers (no endpoint, or not this method) are empty; say what was asked and what exists.
                await WriteRoutingProblemAsync(context);
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; nothing to answer.
        }
        catch (FlywheelOverloadedException ex)
        {
            if (!context.Response.HasStarted)
            {
                context.Response.Headers.RetryAfter = RequestAdmission.RetryAfter(ex.RetryAfter);
                await ProblemDetailsWriter.WriteAsync(context, 503, "Overloaded", ex.Message, null);
            }
        }
        catch (FlywheelStoreWriteException ex)
        {
            // The disk under the store (full, read-only, failing): 503 with Retry-After and why; the engine logs it once.
            await ProblemDetailsWriter.WriteStoreFaultAsync(context, ex);
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

    private static Task WriteRoutingProblemAsync(HttpContext context)
    {
        var request = $"{context.Request.Method} {context.Request.Path}";
        if (context.Response.StatusCode == 405)
        {
            var allowed = context.Response.Headers.Allow.ToString();
            return ProblemDetailsWriter.WriteAsync(context, 405, "Method not allowed",
                $"{context.Request.Path} does not take {context.Request.Method}{(allowed.Length > 0 ? $"; it takes {allowed}" : "")}.", null);
        }
        return ProblemDetailsWriter.WriteAsync(context, 404, "Not found",
            $"No endpoint answers {request}. The API is under /v1; its description is at /openapi/v1.json.", null);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled error on {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "Flywheel listening on {Urls}; store: {Store}")]
    private static partial void LogStarted(ILogger logger, string urls, string store);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No API keys in the store: the API is open to anyone who can reach {Urls}. Create one with: flywheel keys create --scope admin")]
    private static partial void LogOpen(ILogger logger, string urls);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Listening on every interface, but requests are only answered for Host {Hosts}; name the others with --allowed-hosts (FlywheelServerOptions.AllowedHosts)")]
    private static partial void LogHosts(ILogger logger, string hosts);

    [LoggerMessage(Level = LogLevel.Information, Message = "API keys are on: every endpoint but /healthz, /readyz, the OpenAPI document and sign-in needs Authorization: Bearer KEY")]
    private static partial void LogKeysOn(ILogger logger);

    /// <summary>
    /// Why a server must not start with the keys it has and the addresses it would listen on (a non-loopback address
    /// without keys, unless <see cref="FlywheelServerOptions.Insecure"/>); null when it may.
    /// </summary>
    /// <param name="options">The addresses and <see cref="FlywheelServerOptions.Insecure"/>.</param>
    /// <param name="keysOn">Whether the store holds API keys.</param>
    public static string? RefuseOpenBinding(FlywheelServerOptions options, bool keysOn)
        => keysOn || options.Insecure || FlywheelSecurity.IsLoopbackOnly(options.Urls)
            ? null
            : $"refusing to listen on {options.Urls} without API keys: anyone who can reach it could use the API. Create a key (flywheel keys create --scope admin), listen on 127.0.0.1, or pass --insecure";

    /// <summary>Opens the engine at start-up (so a bad data directory fails fast) and says where everything is.</summary>
    private sealed class EngineLifetime(
        FlywheelEngine engine, IServer server, ApiKeyAccess keys, IOptions<FlywheelServerOptions> options, ILogger<EngineLifetime> logger, IHostApplicationLifetime lifetime)
        : IHostedService
    {
        public async Task StartAsync(CancellationToken cancellationToken)
        {
            await engine.StartAsync(cancellationToken);
            // Hosted services start before Kestrel listens: a refused start never opens the port.
            var keysOn = await keys.IsOnAsync(cancellationToken);
            if (RefuseOpenBinding(options.Value, keysOn) is { } refusal)
            {
                throw new FlywheelStartupException(refusal);
            }
            lifetime.ApplicationStarted.Register(() =>
            {
                var addresses = string.Join(", ", server.Features.Get<IServerAddressesFeature>()?.Addresses ?? []);
                LogStarted(logger, addresses, engine.StoreDescription);
                if (keysOn)
                {
                    LogKeysOn(logger);
                }
                if (options.Value.AllowedHosts.Count == 0 && FlywheelSecurity.BoundHosts(options.Value.Urls).Any(FlywheelSecurity.IsWildcard))
                {
                    LogHosts(logger, string.Join(", ", FlywheelSecurity.AllowedHosts(options.Value).Order(StringComparer.Ordinal)));
                }
                if (!keysOn)
                {
                    LogOpen(logger, addresses);
                }
            });
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

/// <summary>A server that must not start as configured (such as a public address without API keys); the message says why and what to do.</summary>
public sealed class FlywheelStartupException(string message) : Exception(message);

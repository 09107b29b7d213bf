using Flywheel.Engine;
using Flywheel.Server.Dashboard;
using Microsoft.Extensions.Hosting;

namespace Flywheel.Server.Dashboard
{
    /// <summary>
    /// The live dashboard (docs/dashboard.md): <c>GET /</c> lists every loop with its verdict, <c>GET /loops/{loop}</c>
    /// shows one loop in full. Pages are HTML with server-drawn SVG, so they work offline and need no script; they
    /// read the same engine as <c>/v1</c> and are left out of the OpenAPI document.
    /// </summary>
    internal static class DashboardEndpoints
    {
        private const string HtmlType = "text/html; charset=utf-8";

        public static void Map(IEndpointRouteBuilder endpoints)
        {
            // Reads, like GET /v1: a key with read, or the sign-in cookie (these routes only).
            endpoints.MapGet("/", IndexAsync).ExcludeFromDescription().RequireFlywheelScope(ApiKeyScopes.Read).WithMetadata(new DashboardCookieMetadata());
            endpoints.MapGet("/loops/{loop}", LoopAsync).ExcludeFromDescription().RequireFlywheelScope(ApiKeyScopes.Read).WithMetadata(new DashboardCookieMetadata());
            DashboardSignIn.Map(endpoints);
        }

        private static async Task<IResult> IndexAsync(HttpContext http, DashboardSources sources, DashboardCache cache, IOptions<FlywheelDashboardOptions> options)
        {
            var ct = http.RequestAborted;
            var rows = new List<DashboardPages.LoopRow>();
            foreach (var source in sources.All)
            {
                foreach (var loop in (await source.Engine.ListLoopsAsync(ct)).OrderBy(l => l.Id, StringComparer.Ordinal))
                {
                    try
                    {
                        rows.Add(new(source, loop.Id, (await cache.GetAsync(source, loop.Id, withSeries: false, ct)).Health, null));
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        rows.Add(new(source, loop.Id, null, "no health report: " + ex.Message));
                    }
                }
            }
            return Results.Content(DashboardPages.Index(rows, options.Value.ServedStoreName, options.Value.RefreshSeconds), HtmlType);
        }

        private static async Task<IResult> LoopAsync(HttpContext http, string loop, string? store, DashboardSources sources, DashboardCache cache, IOptions<FlywheelDashboardOptions> options)
        {
            var ct = http.RequestAborted;
            if (sources.Find(store) is not { } source)
            {
                return Results.Content(DashboardPages.NotFound($"There is no store named '{store}'."), HtmlType, statusCode: 404);
            }
            if (await source.Engine.GetLoopAsync(loop, ct) is not { } config)
            {
                return Results.Content(DashboardPages.NotFound($"There is no loop '{loop}'."), HtmlType, statusCode: 404);
            }
            var (health, series) = await cache.GetAsync(source, loop, withSeries: true, ct);
            var turns = await source.Engine.ListTurnsAsync(loop, ct);
            return Results.Content(DashboardPages.Loop(source, config, health, turns, series ?? [], options.Value.RefreshSeconds), HtmlType);
        }
    }
}

namespace Microsoft.Extensions.DependencyInjection
{
    /// <summary>Registers and maps the dashboard.</summary>
    public static class FlywheelDashboardExtensions
    {
        /// <summary>
        /// Registers the dashboard's services: the list of stores it shows (the engine's own, plus
        /// <see cref="FlywheelDashboardOptions.ExtraStores"/>) and a hook that keeps the engine's store for the reward time series.
        /// </summary>
        /// <param name="services">The server's services, after <c>AddFlywheel</c>.</param>
        /// <param name="configure">Extra stores and the refresh interval.</param>
        public static IServiceCollection AddFlywheelDashboard(this IServiceCollection services, Action<FlywheelDashboardOptions>? configure = null)
        {
            ArgumentNullException.ThrowIfNull(services);
            var capture = new StoreCapture();
            services.AddSingleton(capture);
            services.PostConfigure<FlywheelOptions>(capture.Wrap);
            services.AddOptions<FlywheelDashboardOptions>().Configure(o => configure?.Invoke(o));
            services.AddSingleton<DashboardSources>();
            services.AddSingleton<DashboardCache>();
            services.AddHostedService(sp => sp.GetRequiredService<DashboardSources>());
            return services;
        }

        /// <summary>Maps <c>GET /</c> and <c>GET /loops/{loop}</c> (HTML, not in the OpenAPI document).</summary>
        /// <param name="endpoints">The server's routes.</param>
        public static IEndpointRouteBuilder MapFlywheelDashboard(this IEndpointRouteBuilder endpoints)
        {
            ArgumentNullException.ThrowIfNull(endpoints);
            DashboardEndpoints.Map(endpoints);
            return endpoints;
        }
    }
}

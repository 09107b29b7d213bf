using Flywheel.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Flywheel client.</summary>
public static class FlywheelClientServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="FlywheelClient"/> as a typed <see cref="HttpClient"/> (named <see cref="FlywheelClient.HttpClientName"/>)
    /// configured by <see cref="FlywheelClientOptions"/>. The primary handler recycles pooled connections every two
    /// minutes instead of being rotated, so clients and batchers held by singletons keep seeing DNS changes. Retries and
    /// attempt timeouts are the client's own resilience pipeline, not an HTTP handler: add no resilience handler to
    /// the returned <see cref="FlywheelClientBuilder.HttpClientBuilder"/>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options, at least <see cref="FlywheelClientOptions.BaseAddress"/>.</param>
    /// <returns>A builder to register signal batchers or configure the HTTP client further.</returns>
    public static FlywheelClientBuilder AddFlywheelClient(this IServiceCollection services, Action<FlywheelClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<FlywheelClientOptions>().Configure(configure);
        var http = services.AddHttpClient(FlywheelClient.HttpClientName)
            // FlywheelClientOptions.Timeout bounds each attempt; HttpClient's own 100 s would bound all retries together.
            .ConfigureHttpClient(client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) })
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan)
            .AddTypedClient((client, sp) => new FlywheelClient(
                client,
                sp.GetRequiredService<IOptions<FlywheelClientOptions>>().Value,
                sp.GetService<ILoggerFactory>()?.CreateLogger<FlywheelClient>()));
        return new FlywheelClientBuilder(services, http);
    }
}

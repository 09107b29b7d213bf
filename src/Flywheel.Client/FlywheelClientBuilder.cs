using Microsoft.Extensions.DependencyInjection;

namespace Flywheel.Client;

/// <summary>What <c>AddFlywheelClient</c> returns: registers signal batchers and exposes the HTTP client's builder.</summary>
public sealed class FlywheelClientBuilder
{
    /// <summary>Creates the builder.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="httpClientBuilder">The builder of the client's <see cref="HttpClient"/>.</param>
    public FlywheelClientBuilder(IServiceCollection services, IHttpClientBuilder httpClientBuilder)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(httpClientBuilder);
        Services = services;
        HttpClientBuilder = httpClientBuilder;
    }

    /// <summary>The service collection.</summary>
    public IServiceCollection Services { get; }

    /// <summary>
    /// The builder of the client's <see cref="HttpClient"/>, to add handlers or replace the primary one. Add no
    /// resilience handler (<c>AddStandardResilienceHandler</c>, <c>AddResilienceHandler</c>): the client already
    /// retries through its own pipeline, and a second one would multiply the attempts.
    /// </summary>
    public IHttpClientBuilder HttpClientBuilder { get; }

    /// <summary>
    /// Registers a singleton <see cref="FlywheelSignalBatcher"/> for <paramref name="loop"/>, keyed by the loop's id:
    /// inject it with <c>[FromKeyedServices("home-feed")] FlywheelSignalBatcher signals</c>. The container disposes it,
    /// which sends what it still holds.
    /// </summary>
    /// <param name="loop">The loop's id.</param>
    /// <returns>This builder.</returns>
    public FlywheelClientBuilder AddSignalBatcher(string loop)
    {
        ArgumentException.ThrowIfNullOrEmpty(loop);
        Services.AddKeyedSingleton(loop, (sp, _) => sp.GetRequiredService<FlywheelClient>().CreateBatcher(loop));
        return this;
    }
}

using Flywheel.Core;
using Flywheel.Engine;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Returned by <see cref="FlywheelServiceCollectionExtensions.AddFlywheel(IServiceCollection)"/> to configure Flywheel further, such as
/// choosing the store: <c>services.AddFlywheel(o => ...).UseSqlite("./flywheel-data")</c>.
/// </summary>
public sealed class FlywheelBuilder(IServiceCollection services) : IFlywheelStoreSelector
{
    /// <summary>The service collection.</summary>
    public IServiceCollection Services { get; } = services;

    /// <inheritdoc />
    public void UseStore(Func<IServiceProvider?, IFlywheelStore> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        Services.Configure<FlywheelOptions>(o => o.StoreFactory = factory);
    }
}

/// <summary>Registers the Flywheel engine.</summary>
public static class FlywheelServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IFlywheelEngine"/> as a singleton. Choose a store on the returned builder, e.g.
    /// <c>services.AddFlywheel(o => o.ExplorationSeed = 7).UseSqlite("./flywheel-data")</c>, or in the options
    /// (<c>o => o.UseSqlite(dir)</c>). Uses the registered <see cref="TimeProvider"/>
    /// (the system clock unless one is registered). Options are validated when the engine is first resolved.
    /// </summary>
    /// <param name="services">The service collection.</param>
    public static FlywheelBuilder AddFlywheel(this IServiceCollection services) => services.AddFlywheel(static _ => { });

    /// <inheritdoc cref="AddFlywheel(IServiceCollection)" />
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the engine's options.</param>
    public static FlywheelBuilder AddFlywheel(this IServiceCollection services, Action<FlywheelOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<FlywheelOptions>().Configure(configure);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<FlywheelEngine>(sp => new FlywheelEngine(
            sp.GetRequiredService<IOptions<FlywheelOptions>>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<ILoggerFactory>(),
            sp));
        services.TryAddSingleton<IFlywheelEngine>(sp => sp.GetRequiredService<FlywheelEngine>());
        return new FlywheelBuilder(services);
    }
}

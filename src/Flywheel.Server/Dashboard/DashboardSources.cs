using Flywheel.Engine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Flywheel.Server.Dashboard;

/// <summary>
/// A store the dashboard shows: the server's own engine (name empty), or another data folder opened beside it (such as
/// the demo's other products, each with its own store).
/// </summary>
/// <param name="Name">Empty for the server's own store; otherwise a short name used in links (<c>?store=NAME</c>).</param>
/// <param name="Engine">The engine over that store.</param>
/// <param name="Store">The store the engine opened, read for the reward time series (null until the engine starts).</param>
internal sealed record DashboardSource(string Name, IFlywheelEngine Engine, Func<IFlywheelStore?> Store);

/// <summary>Keeps the store an engine creates, so the dashboard can read the decision log's narrow columns (time, model version, reward).</summary>
internal sealed class StoreCapture
{
    private volatile IFlywheelStore? _store;

    public IFlywheelStore? Store => _store;

    /// <summary>Wraps the engine's store factory so the created store is kept here; the engine still owns and disposes it.</summary>
    public void Wrap(FlywheelOptions options)
    {
        if (options.StoreFactory is { } factory)
        {
            options.StoreFactory = services => _store = factory(services);
        }
    }
}

/// <summary>Other data folders the dashboard shows beside the server's own store, by name.</summary>
public sealed class FlywheelDashboardOptions
{
    /// <summary>Name → SQLite data folder, opened read-mostly beside the server's store; names appear in the dashboard's links.</summary>
    public IDictionary<string, string> ExtraStores { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>What the dashboard calls the server's own store when it shows others beside it. <value>Default <c>served</c>.</value></summary>
    public string ServedStoreName { get; set; } = "served";

    /// <summary>Seconds between page reloads (a meta refresh; no script). <value>Default 30; 0 turns it off.</value></summary>
    public int RefreshSeconds { get; set; } = 30;
}

/// <summary>Every store the dashboard shows: the server's own first, then the extra ones in name order.</summary>
internal sealed class DashboardSources(IFlywheelEngine engine, StoreCapture capture, IOptions<FlywheelDashboardOptions> options, TimeProvider time, ILoggerFactory loggers)
    : IHostedService, IAsyncDisposable
{
    private readonly List<DashboardSource> _extra = [];
    private readonly List<ServiceProvider> _providers = [];

    public IReadOnlyList<DashboardSource> All => [new DashboardSource("", engine, () => capture.Store), .. _extra];

    public DashboardSource? Find(string? name)
        => string.IsNullOrEmpty(name) ? All[0] : _extra.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.Ordinal));

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var (name, directory) in options.Value.ExtraStores.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var services = new ServiceCollection();
            services.AddSingleton(time);
            services.AddSingleton(loggers);
            var extraCapture = new StoreCapture();
            // Opened for viewing: no scheduled turns on another product's store.
            services.AddFlywheel(o => o.ScheduleTurns = false).UseSqlite(directory);
            services.PostConfigure<FlywheelOptions>(extraCapture.Wrap);
            var provider = services.BuildServiceProvider();
            _providers.Add(provider);
            var extraEngine = provider.GetRequiredService<FlywheelEngine>();
            await extraEngine.StartAsync(cancellationToken);
            _extra.Add(new DashboardSource(name, extraEngine, () => extraCapture.Store));
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var provider in _providers)
        {
            await provider.DisposeAsync();
        }
        _providers.Clear();
    }
}

using Flywheel.Server.Dashboard;
using Flywheel.Simulation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Flywheel.Dashboard.Tests;

/// <summary>
/// One short simulator run shared by the tests (the feed: A a loop with turns, B the straight line, one store each), and
/// a real server on 127.0.0.1 (random port) over A's store with B's shown beside it on the dashboard. The server's
/// clock is a fake one standing the day after the run, so no turn runs while the tests read.
/// </summary>
public sealed class DashboardRun : IAsyncLifetime
{
    public const string Loop = "home-feed";

    public const int Days = 100;

    private readonly TempDirectory _root = new("flywheel-dashboard-");

    public SimulationResult Result { get; private set; } = null!;

    public ServerFixture Server { get; private set; } = null!;

    /// <summary>Product name → its store's name on the dashboard (the served store is named after the first product).</summary>
    public IReadOnlyList<string> Stores => [.. Result.Products.Select(p => p.Spec.Name)];

    public async Task InitializeAsync()
    {
        var data = Path.Combine(_root.Path, "data");
        Result = await Simulation.Simulation.RunAsync(
            Scenarios.Feed(withLateLoop: false),
            new SimulationOptions { Days = Days, Users = 20, Seed = 5, DataDirectory = data });
        var first = Result.Products[0];
        Server = await ServerFixture.StartAsync(
            o => o.TimeProvider = new FakeTimeProvider(SimulationCalendar.DateOf(Days + 1)),
            Path.Combine(data, first.Spec.Key),
            b => b.Services.Configure<FlywheelDashboardOptions>(d =>
            {
                d.ServedStoreName = first.Spec.Name;
                d.RefreshSeconds = 0;
                foreach (var product in Result.Products.Skip(1))
                {
                    d.ExtraStores[product.Spec.Name] = Path.Combine(data, product.Spec.Key);
                }
            }));
    }

    public async Task DisposeAsync()
    {
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }
        _root.Dispose();
    }
}

/// <summary>The tests that share one <see cref="DashboardRun"/> (one simulation, one server).</summary>
[CollectionDefinition(Name)]
public sealed class DashboardCollection : ICollectionFixture<DashboardRun>
{
    public const string Name = "dashboard";
}

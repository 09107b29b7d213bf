using Flywheel.Core;
using Flywheel.Engine;
using Flywheel.Storage.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Flywheel.Engine.Tests;

/// <summary>A store package registers itself on the <c>AddFlywheel</c> builder; the engine only sees <see cref="IFlywheelStore"/>.</summary>
public sealed class StoreRegistrationTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(SqliteDurability.Process, "durability process")]
    [InlineData(SqliteDurability.Power, "durability power")]
    public async Task UseSqlite_OnTheBuilder_OpensThatStoreWithItsDurability(SqliteDurability durability, string promise)
    {
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(new FakeTimeProvider(new DateTimeOffset(2026, 12, 6, 0, 0, 0, TimeSpan.Zero)));
        services.AddFlywheel(o => o.ScheduleTurns = false).UseSqlite(_dir.Path, durability);
        await using var provider = services.BuildServiceProvider();
        var engine = provider.GetRequiredService<FlywheelEngine>();

        await engine.PutLoopAsync(LoopConfigJson.Parse("""{ "id": "feed", "signals": { "click": { "weight": 1 } } }"""));
        var decision = await engine.DecideAsync("feed", new DecideRequest
        {
            DecisionId = "d-1",
            Actions = [new ActionCandidate("a", Features.Empty), new ActionCandidate("b", Features.Empty)],
        });

        Assert.StartsWith("SQLite at " + Path.Combine(_dir.Path, "flywheel.db"), engine.StoreDescription, StringComparison.Ordinal);
        Assert.Contains(promise, engine.StoreDescription, StringComparison.Ordinal);
        Assert.Equal("d-1", (await engine.GetDecisionAsync("feed", "d-1"))?.Decision.DecisionId);
        Assert.Equal(decision.ChosenActionId, (await engine.GetDecisionAsync("feed", "d-1"))?.Decision.ChosenActionId);
    }

    [Fact]
    public async Task AddFlywheel_WithoutAStore_SaysToChooseOne()
    {
        var services = new ServiceCollection();
        services.AddFlywheel();
        await using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<IFlywheelEngine>());
        Assert.Contains("UseSqlite", error.Message, StringComparison.Ordinal);
    }
}

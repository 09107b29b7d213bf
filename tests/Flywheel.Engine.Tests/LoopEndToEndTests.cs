using Flywheel.Core;
using Flywheel.Engine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace Flywheel.Engine.Tests;

public sealed class LoopEndToEndTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Loop_CombinationWorld_LearnsTheCombinationAndFrozenStaysAtChance()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero));
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(time);
        services.AddFlywheel(o => { o.UseSqlite(_dir.Path); o.ScheduleTurns = false; });
        await using var provider = services.BuildServiceProvider();
        var engine = provider.GetRequiredService<IFlywheelEngine>();

        await engine.PutLoopAsync(CombinationWorld.Loop("pairs", ["context*action", "context*context*action"]));
        await engine.PutLoopAsync(CombinationWorld.Loop("separate", ["context*action"]));
        await engine.PutLoopAsync(CombinationWorld.Loop("frozen", ["context*context*action"], LoopMode.Frozen));

        var world = new CombinationWorld(seed: 20261124);
        var runner = new WorldRunner(engine, time, world);
        await runner.RunAsync(["pairs", "separate", "frozen"], rounds: 20_000);

        double Last2000(string loop) => runner.Rewards[loop].TakeLast(2000).Average();
        var optimal = world.OptimalReward;
        var uniform = world.UniformReward;
        output.WriteLine($"optimal {optimal:F4}, uniform {uniform:F4}");
        foreach (var loop in new[] { "pairs", "separate", "frozen" })
        {
            output.WriteLine($"{loop}: last 2000 mean reward {Last2000(loop):F4} ({Last2000(loop) / optimal:P1} of optimal)");
        }

        Assert.True(Last2000("pairs") >= 0.9 * optimal, $"pairs reached {Last2000("pairs"):F4}, below 90% of {optimal:F4}");
        Assert.True(Last2000("separate") < Last2000("pairs") - 0.05, "context*action alone should do measurably worse");
        Assert.InRange(Last2000("frozen"), uniform - 0.05, uniform + 0.05);

        var counts = await engine.GetCountsAsync("pairs");
        Assert.Equal(20_000, counts.Decisions);
        Assert.True(counts.LateSignals > 0, "the world sends rewatches after the window");
        Assert.True(counts.Rewards > 19_000);
    }
}

public sealed class EveryAlgorithmEndToEndTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string> Algorithms => new() { "softmax", "epsilon-greedy", "bag" };

    private static ExplorationConfig Exploration(string name) => name switch
    {
        "softmax" => new ExplorationConfig { Algorithm = ExplorationAlgorithm.Softmax, Lambda = 50, Epsilon = 0.01 },
        "epsilon-greedy" => new ExplorationConfig { Algorithm = ExplorationAlgorithm.EpsilonGreedy, Epsilon = 0.05 },
        "bag" => new ExplorationConfig { Algorithm = ExplorationAlgorithm.Bag, Bags = 5, Epsilon = 0.02 },
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Algorithms))]
    public async Task Loop_CombinationWorld_LearnsWithEveryExploration(string algorithm)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero));
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time);
        var loop = CombinationWorld.Loop("pairs", ["context*action", "context*context*action"]);
        loop = loop with { Exploration = Exploration(algorithm) };
        await engine.PutLoopAsync(loop);
        var world = new CombinationWorld(seed: 20261124);
        var runner = new WorldRunner(engine, time, world);
        await runner.RunAsync(["pairs"], rounds: 20_000);
        var last = runner.Rewards["pairs"].TakeLast(2000).Average();
        output.WriteLine($"{algorithm}: last 2000 mean reward {last:F4} ({last / world.OptimalReward:P1} of optimal)");
        Assert.True(last >= 0.9 * world.OptimalReward, $"{algorithm} reached {last:F4}, below 90% of {world.OptimalReward:F4}");
    }
}

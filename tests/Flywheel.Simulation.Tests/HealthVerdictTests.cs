using Xunit.Abstractions;

namespace Flywheel.Simulation.Tests;

/// <summary>
/// The health verdict of every scenario on seeds other than the demo's (ScenarioTests checks seed 1), run through the
/// real engine: the verdicts follow from the evidence, so they must hold whatever the draw. A class of its own, so
/// xUnit runs it beside ScenarioTests.
/// </summary>
public sealed class HealthVerdictTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _root = new("flywheel-verdict-");

    public void Dispose() => _root.Dispose();

    private Task<SimulationResult> RunAsync(Scenario scenario, int days, ulong seed)
        => Simulation.RunAsync(scenario, new SimulationOptions { Days = days, Seed = seed, DataDirectory = _root.File($"{scenario.Name}-{seed}") });

    private void Report(SimulationResult result)
    {
        foreach (var p in result.Products)
        {
            output.WriteLine($"{p.Spec.Name}: {p.Health?.Verdict.Status}: {p.Health?.Verdict.Evidence}");
        }
    }

    /// <summary>What each scenario's health report must say of A (and of B where it differs from no-pipe), at the length that gives it the evidence.</summary>
    public static TheoryData<string, ulong> OtherSeeds()
    {
        var data = new TheoryData<string, ulong>();
        foreach (var name in Scenarios.Names)
        {
            foreach (var seed in new ulong[] { 2, 3 })
            {
                data.Add(name, seed);
            }
        }
        return data;
    }

    /// <summary>What each scenario's report must say of A, and of B where the scenario defines it.</summary>
    private static readonly Dictionary<string, (Core.HealthStatus A, Core.HealthStatus? B)> Expected = new()
    {
        ["feed"] = (Core.HealthStatus.Spinning, Core.HealthStatus.NoPipe),
        ["no-signal"] = (Core.HealthStatus.NoSignal, null),
        ["no-pipe"] = (Core.HealthStatus.NoPipe, null),
        ["invisible"] = (Core.HealthStatus.Invisible, null),
        ["plateau"] = (Core.HealthStatus.Plateau, null),
        ["drift"] = (Core.HealthStatus.Spinning, Core.HealthStatus.Stale),
    };

    [Theory]
    [MemberData(nameof(OtherSeeds))]
    public async Task Health_OtherSeeds_VerdictIsTheScenarios(string name, ulong seed)
    {
        // The broken links show within months; the others need the year's evidence (invisible: ~40,000 decisions).
        var days = name is "no-signal" or "no-pipe" ? 90 : 365;
        var result = await RunAsync(Scenarios.Get(name), days: days, seed: seed);
        Report(result);
        var (a, b) = Expected[name];
        ScenarioTests.AssertVerdict(result, "a", a);
        if (b is { } expectedB)
        {
            ScenarioTests.AssertVerdict(result, "b", expectedB);
        }
    }
}

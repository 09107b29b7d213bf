using Flywheel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Flywheel.Engine.Tests;

internal static class TestEngine
{
    public static readonly DateTimeOffset Start = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    public static Task<FlywheelEngine> OpenAsync(string dataDirectory, TimeProvider time, Action<FlywheelOptions>? configure = null)
    {
        // Tests that want turns run them at chosen moments (RunTurnAsync, RunScheduledTurnsAsync).
        var options = new FlywheelOptions { ScheduleTurns = false }.UseSqlite(dataDirectory);
        configure?.Invoke(options);
        return FlywheelEngine.OpenAsync(options, time);
    }

    public static LoopConfig FeedLoop(string id = "home-feed", RewardAggregate aggregate = RewardAggregate.Sum, double min = -1, double max = 1, double @default = 0) => new()
    {
        Id = id,
        Signals = new Dictionary<string, SignalTypeConfig>
        {
            ["watch_complete"] = new() { Kind = SignalKind.Implicit, Weight = 1.0 },
            ["rewatch"] = new() { Kind = SignalKind.Implicit, Weight = 0.5 },
            ["skip"] = new() { Kind = SignalKind.Implicit, Weight = -0.5, ClosesWindow = true },
            ["thumbs_up"] = new() { Kind = SignalKind.Explicit, Weight = 1.0 },
            ["thumbs_down"] = new() { Kind = SignalKind.Explicit, Weight = -1.0 },
            ["stars"] = new() { Kind = SignalKind.Explicit, Weight = 0.25 },
            ["return_visit"] = new() { Kind = SignalKind.Implicit, Weight = 1.0 },
        },
        Reward = new RewardConfig { WindowSeconds = 600, Aggregate = aggregate, Min = min, Max = max, Default = @default },
    };

    public static DecideRequest Request(string? decisionId = "d1", string country = "fr") => new()
    {
        DecisionId = decisionId,
        UserId = "u-42",
        Context = new Features { ["user"] = { ["country"] = country }, ["time"] = { ["hour"] = 20 } },
        Actions =
        [
            new ActionCandidate("v1", new Features { ["item"] = { ["topic"] = "cooking", ["length_s"] = 35 } }),
            new ActionCandidate("v2", new Features { ["item"] = { ["topic"] = "diy", ["length_s"] = 12 } }),
            new ActionCandidate("v3", new Features { ["item"] = { ["topic"] = "music", ["length_s"] = 200 } }),
        ],
    };
}

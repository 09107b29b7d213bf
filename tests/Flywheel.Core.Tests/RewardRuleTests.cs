using System.Globalization;
using Flywheel.Core;

namespace Flywheel.Core.Tests;

public class RewardRuleTests
{
    private static LoopConfig Config(RewardAggregate aggregate, double min = -1, double max = 1, double @default = 0.25)
    {
        var config = new LoopConfig
        {
            Id = "home-feed",
            Signals = new Dictionary<string, SignalTypeConfig>
            {
                ["watch"] = new() { Weight = 1.0 },
                ["rewatch"] = new() { Weight = 0.5 },
                ["skip"] = new() { Weight = -0.5, ClosesWindow = true },
                ["up"] = new() { Kind = SignalKind.Explicit, Weight = 1.0 },
                ["down"] = new() { Kind = SignalKind.Explicit, Weight = -1.0 },
                ["big"] = new() { Weight = 2.0 },
            },
            Reward = new RewardConfig { Aggregate = aggregate, Min = min, Max = max, Default = @default },
        };
        config.Validate();
        return config;
    }

    /// <summary>"type:value;type:value" in arrival order; empty for none.</summary>
    private static List<(string Type, double Value)> Signals(string spec) =>
        spec.Length == 0
            ? []
            : spec.Split(';').Select(s => s.Split(':')).Select(p => (p[0], double.Parse(p[1], CultureInfo.InvariantCulture))).ToList();

    [Theory]
    // Sum of weight × value.
    [InlineData(RewardAggregate.Sum, "", 0.25)]
    [InlineData(RewardAggregate.Sum, "watch:1", 1.0)]
    [InlineData(RewardAggregate.Sum, "rewatch:1", 0.5)]
    [InlineData(RewardAggregate.Sum, "watch:0.5", 0.5)]
    [InlineData(RewardAggregate.Sum, "watch:0", 0.0)]
    [InlineData(RewardAggregate.Sum, "rewatch:1;skip:1", 0.0)]
    [InlineData(RewardAggregate.Sum, "rewatch:0.4;rewatch:0.4", 0.4)]
    [InlineData(RewardAggregate.Sum, "skip:1", -0.5)]
    [InlineData(RewardAggregate.Sum, "down:0.3", -0.3)]
    [InlineData(RewardAggregate.Sum, "watch:1;up:1", 1.0)]
    [InlineData(RewardAggregate.Sum, "skip:1;down:1", -1.0)]
    [InlineData(RewardAggregate.Sum, "big:3", 1.0)]
    [InlineData(RewardAggregate.Sum, "big:-3", -1.0)]
    [InlineData(RewardAggregate.Sum, "watch:1;up:1;down:1;skip:1", 0.5)]
    [InlineData(RewardAggregate.Sum, "unknown:5", 0.25)]
    [InlineData(RewardAggregate.Sum, "unknown:5;rewatch:1", 0.5)]
    // Largest weight × value.
    [InlineData(RewardAggregate.Max, "", 0.25)]
    [InlineData(RewardAggregate.Max, "rewatch:1;watch:1;skip:1", 1.0)]
    [InlineData(RewardAggregate.Max, "skip:1;down:1", -0.5)]
    [InlineData(RewardAggregate.Max, "down:1;skip:1", -0.5)]
    [InlineData(RewardAggregate.Max, "skip:1", -0.5)]
    [InlineData(RewardAggregate.Max, "rewatch:1;rewatch:1", 0.5)]
    [InlineData(RewardAggregate.Max, "big:1;watch:1", 1.0)]
    [InlineData(RewardAggregate.Max, "down:2", -1.0)]
    [InlineData(RewardAggregate.Max, "unknown:9;skip:1", -0.5)]
    [InlineData(RewardAggregate.Max, "unknown:9", 0.25)]
    // Weight × value of the last known signal.
    [InlineData(RewardAggregate.Last, "", 0.25)]
    [InlineData(RewardAggregate.Last, "watch:1;skip:1", -0.5)]
    [InlineData(RewardAggregate.Last, "skip:1;watch:1", 1.0)]
    [InlineData(RewardAggregate.Last, "watch:1;unknown:5", 1.0)]
    [InlineData(RewardAggregate.Last, "rewatch:1;big:1", 1.0)]
    [InlineData(RewardAggregate.Last, "watch:1;down:3", -1.0)]
    [InlineData(RewardAggregate.Last, "unknown:1", 0.25)]
    public void Compute_Signals_AggregatesWeightedValuesAndClamps(RewardAggregate aggregate, string signals, double expected)
    {
        var reward = RewardRule.Compute(Config(aggregate), Signals(signals));

        Assert.Equal(expected, reward, 12);
    }

    [Theory]
    [InlineData(RewardAggregate.Sum, "skip:1", 0.0)]
    [InlineData(RewardAggregate.Sum, "big:3", 6.0)]
    [InlineData(RewardAggregate.Sum, "big:3;big:3", 10.0)]
    [InlineData(RewardAggregate.Max, "skip:1;down:1", 0.0)]
    [InlineData(RewardAggregate.Last, "big:2.5", 5.0)]
    [InlineData(RewardAggregate.Last, "", 2.0)]
    public void Compute_AsymmetricRange_ClampsToMinAndMax(RewardAggregate aggregate, string signals, double expected)
    {
        var reward = RewardRule.Compute(Config(aggregate, min: 0, max: 10, @default: 2), Signals(signals));

        Assert.Equal(expected, reward, 12);
    }

    [Fact]
    public void Compute_NullArguments_ThrowArgumentNull()
    {
        Assert.Throws<ArgumentNullException>(() => RewardRule.Compute(null!, []));
        Assert.Throws<ArgumentNullException>(() => RewardRule.Compute(Config(RewardAggregate.Sum), null!));
    }
}

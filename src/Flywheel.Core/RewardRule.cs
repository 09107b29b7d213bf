namespace Flywheel.Core;

/// <summary>Turns a decision's signals into one reward (docs/loop-config.md).</summary>
public static class RewardRule
{
    /// <summary>
    /// The reward: <c>aggregate</c> of weight × value over <paramref name="signals"/> (in arrival order), clamped to
    /// [min, max]; the default when there are none. Signal types not in the config are ignored.
    /// </summary>
    public static double Compute(LoopConfig config, IEnumerable<(string Type, double Value)> signals)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(signals);
        var reward = config.Reward;
        double acc = 0;
        var any = false;
        foreach (var (type, value) in signals)
        {
            if (!config.Signals.TryGetValue(type, out var t))
            {
                continue;
            }
            var term = t.Weight * value;
            acc = !any ? term : reward.Aggregate switch
            {
                RewardAggregate.Sum => acc + term,
                RewardAggregate.Max => Math.Max(acc, term),
                _ => term,
            };
            any = true;
        }
        return any ? Math.Clamp(acc, reward.Min, reward.Max) : reward.Default;
    }
}

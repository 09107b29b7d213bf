using Flywheel.Core;

namespace Flywheel.TestUtils;

/// <summary>
/// A seeded feed world of 10 videos whose best video depends on the combination of the user's country and the time
/// slot (two namespaces): the best video of each (country, slot) cell is drawn at random, so no sum of a country
/// effect and a slot effect can express it. Users engage with the best video 90% of the time and with others 5–45%.
/// Engagement sends <c>watch_complete</c> after a delay (sometimes with a <c>thumbs_up</c>), a non-engaged view
/// usually sends a <c>skip</c> that closes the window at once, and some rewatches arrive after the window (late).
/// </summary>
public sealed class CombinationWorld
{
    public const int ActionCount = 10;
    public static readonly string[] Countries = ["fr", "de", "jp", "br"];
    public static readonly string[] Slots = ["morning", "afternoon", "evening"];

    private readonly double[,,] _engage; // country, slot, action
    private readonly Random _random;

    public CombinationWorld(int seed)
    {
        _random = new Random(seed);
        _engage = new double[Countries.Length, Slots.Length, ActionCount];
        for (var c = 0; c < Countries.Length; c++)
        {
            for (var s = 0; s < Slots.Length; s++)
            {
                var best = _random.Next(ActionCount);
                for (var a = 0; a < ActionCount; a++)
                {
                    _engage[c, s, a] = a == best ? 0.9 : 0.05 + 0.4 * _random.NextDouble();
                }
            }
        }
    }

    public static LoopConfig Loop(string id, IReadOnlyList<string> interactions, LoopMode mode = LoopMode.Online) => new()
    {
        Id = id,
        Signals = new Dictionary<string, SignalTypeConfig>
        {
            ["watch_complete"] = new() { Kind = SignalKind.Implicit, Weight = 1.0 },
            ["rewatch"] = new() { Kind = SignalKind.Implicit, Weight = 0.5 },
            ["skip"] = new() { Kind = SignalKind.Implicit, Weight = -0.2, ClosesWindow = true },
            ["thumbs_up"] = new() { Kind = SignalKind.Explicit, Weight = 1.0 },
        },
        Reward = new RewardConfig { WindowSeconds = 600, Min = -1, Max = 1 },
        Learner = new LearnerConfig { Interactions = interactions },
        Mode = mode,
    };

    public static IReadOnlyList<ActionCandidate> Actions { get; } = Enumerable.Range(0, ActionCount)
        .Select(a => new ActionCandidate($"v{a}", new Features { ["item"] = { ["length_s"] = 10 + a } }))
        .ToArray();

    public (int Country, int Slot) NextContext() => (_random.Next(Countries.Length), _random.Next(Slots.Length));

    public static Features Context((int Country, int Slot) ctx) => new()
    {
        ["user"] = { ["country"] = Countries[ctx.Country] },
        ["time"] = { ["slot"] = Slots[ctx.Slot] },
    };

    /// <summary>Expected reward of showing <paramref name="action"/> in a cell, by the loop's reward rule.</summary>
    public double ExpectedReward((int Country, int Slot) ctx, int action)
    {
        var q = _engage[ctx.Country, ctx.Slot, action];
        // Engaged: watch_complete 1, plus thumbs_up 1 (30%), clamped at 1 → 1. Not engaged: skip (70%) → −0.2, else 0.
        return q * 1.0 + (1 - q) * 0.7 * -0.2;
    }

    public double OptimalReward => Cells().Average(c => Enumerable.Range(0, ActionCount).Max(a => ExpectedReward(c, a)));

    public double UniformReward => Cells().Average(c => Enumerable.Range(0, ActionCount).Average(a => ExpectedReward(c, a)));

    private static IEnumerable<(int, int)> Cells()
        => from c in Enumerable.Range(0, Countries.Length) from s in Enumerable.Range(0, Slots.Length) select (c, s);

    /// <summary>The signals a user sends after being shown <paramref name="action"/>, with their delays in seconds.</summary>
    public List<(double DelaySeconds, string Type)> React((int Country, int Slot) ctx, int action)
    {
        var signals = new List<(double, string)>();
        if (_random.NextDouble() < _engage[ctx.Country, ctx.Slot, action])
        {
            signals.Add((10 + _random.Next(290), "watch_complete"));
            if (_random.NextDouble() < 0.3)
            {
                signals.Add((20 + _random.Next(400), "thumbs_up"));
            }
            if (_random.NextDouble() < 0.2)
            {
                signals.Add((700 + _random.Next(600), "rewatch")); // after the 600 s window: late, never learned from
            }
        }
        else if (_random.NextDouble() < 0.7)
        {
            signals.Add((1 + _random.Next(5), "skip"));
        }
        return signals;
    }
}

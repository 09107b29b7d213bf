using Flywheel.Core;

namespace Flywheel.Engine.Tests.Turns;

/// <summary>
/// A seeded world of 12 user segments and 10 videos whose best video per segment is drawn at random;
/// <see cref="Shift"/> moves every context's best video to another one and redraws the rest, as when tastes change.
/// Users engage with the best video 90% of the time and with the others 5–45%; the reward rule is the feed's
/// (<c>watch_complete</c> 1, <c>skip</c> −0.2 closing the window at once).
/// </summary>
internal sealed class DriftWorld
{
    public const int ActionCount = 10;
    public const int Segments = 12;
    private readonly double[,] _engage = new double[Segments, ActionCount];
    private readonly int[] _best = new int[Segments];
    private readonly Random _random;

    public DriftWorld(int seed)
    {
        _random = new Random(seed);
        Draw(first: true);
    }

    public static LoopConfig Loop(string id) => new()
    {
        Id = id,
        Signals = new Dictionary<string, SignalTypeConfig>
        {
            ["watch_complete"] = new() { Kind = SignalKind.Implicit, Weight = 1.0 },
            ["skip"] = new() { Kind = SignalKind.Implicit, Weight = -0.2, ClosesWindow = true },
        },
        Reward = new RewardConfig { WindowSeconds = 600, Min = -1, Max = 1 },
    };

    public static IReadOnlyList<ActionCandidate> Actions { get; } = Enumerable.Range(0, ActionCount)
        .Select(a => new ActionCandidate($"v{a}", new Features { ["item"] = { ["length_s"] = 10 + a } }))
        .ToArray();

    /// <summary>Moves every context's best video to another video and redraws the others.</summary>
    public void Shift() => Draw(first: false);

    private void Draw(bool first)
    {
        for (var c = 0; c < Segments; c++)
        {
            var best = first ? _random.Next(ActionCount) : (_best[c] + 1 + _random.Next(ActionCount - 1)) % ActionCount;
            _best[c] = best;
            for (var a = 0; a < ActionCount; a++)
            {
                _engage[c, a] = a == best ? 0.9 : 0.05 + 0.4 * _random.NextDouble();
            }
        }
    }

    public int NextContext() => _random.Next(Segments);

    public static Features Context(int segment) => new()
    {
        ["user"] = { ["segment"] = $"s{segment}" },
    };

    /// <summary>The best expected reward, averaged over the segments (what an oracle earns).</summary>
    public double OptimalReward => Enumerable.Range(0, Segments).Average(c => Enumerable.Range(0, ActionCount).Max(a => ExpectedReward(c, a)));

    /// <summary>Expected reward of showing <paramref name="action"/>: engaged 1, else a skip (70%) −0.2.</summary>
    public double ExpectedReward(int segment, int action)
    {
        var q = _engage[segment, action];
        return q + (1 - q) * 0.7 * -0.2;
    }

    /// <summary>The signals a user sends after being shown <paramref name="action"/>, with their delays in seconds.</summary>
    public List<(double DelaySeconds, string Type)> React(int segment, int action)
    {
        var signals = new List<(double, string)>();
        if (_random.NextDouble() < _engage[segment, action])
        {
            signals.Add((10 + _random.Next(290), "watch_complete"));
        }
        else if (_random.NextDouble() < 0.7)
        {
            signals.Add((1 + _random.Next(5), "skip"));
        }
        return signals;
    }
}

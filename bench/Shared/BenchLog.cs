using System.Diagnostics;
using Flywheel.Core;

namespace Flywheel.Bench;

/// <summary>
/// A synthetic log of rewarded decisions written straight into a store, as the engine's writer would, in batches of
/// 10,000: 10 actions, a context of 6 features; in each context one action earns 0.7, the others a base rate. Seeded,
/// so every bench that writes the same log measures the same data.
/// </summary>
internal static class BenchLog
{
    public const int Actions = 10;

    /// <summary>The loop every bench log belongs to: clicks worth 1, ε-greedy at 0.1, turns from 1,000 decisions.</summary>
    public static LoopConfig Loop(string id) => new()
    {
        Id = id,
        Signals = new Dictionary<string, SignalTypeConfig> { ["click"] = new() { Kind = SignalKind.Implicit, Weight = 1 } },
        Exploration = new ExplorationConfig { Algorithm = ExplorationAlgorithm.EpsilonGreedy, Epsilon = 0.1 },
        Turns = new TurnsConfig { MinDecisions = 1000 },
    };

    /// <summary>
    /// Saves <paramref name="loop"/> and writes <paramref name="decisions"/> uniformly explored decisions unless the
    /// store already holds that many rewards: <paramref name="secondsApart"/> apart from 2026-01-01, model versions
    /// 1 to <paramref name="versions"/> serving equal shares of the log, a base rate of 0.2 + <paramref name="versionLift"/>
    /// × version, and with <paramref name="users"/> &gt; 0 a user id drawn from that many.
    /// </summary>
    public static async Task WriteAsync(IFlywheelStore store, LoopConfig loop, int decisions, double secondsApart, int versions = 1, double versionLift = 0, int users = 0)
    {
        if ((await store.CountAsync(loop.Id)).Rewards >= decisions)
        {
            return;
        }
        var clock = Stopwatch.StartNew();
        await store.SaveLoopAsync(loop);
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var random = new Random(1);
        var countries = new[] { "fr", "de", "jp", "br", "us", "in", "ng", "mx" };
        var devices = new[] { "ios", "android", "web" };
        var actions = Enumerable.Range(0, Actions).Select(a => new ActionCandidate($"a{a}", new Features
        {
            ["item"] = { ["topic"] = $"t{a % 4}", ["length_s"] = 10 + 7 * a },
        })).ToArray();
        var ranking = actions.Select(a => new RankedAction(a.Id, 1.0 / Actions)).ToList();
        var batch = new StoreBatch();
        for (var i = 0; i < decisions; i++)
        {
            var country = random.Next(countries.Length);
            var device = random.Next(devices.Length);
            var hour = random.Next(24);
            var at = start.AddSeconds(i * secondsApart);
            var context = new Features
            {
                ["user"] = { ["country"] = countries[country], ["device"] = devices[device], ["tenure_days"] = random.Next(1000), ["premium"] = random.Next(2) == 1 },
                ["time"] = { ["hour"] = hour, ["weekday"] = random.Next(7) },
            };
            var version = 1 + (int)((long)versions * i / decisions);
            var chosen = random.Next(Actions);
            var best = (country * 3 + device + hour / 6) % Actions;
            var reward = random.NextDouble() < (chosen == best ? 0.7 : 0.2 + (versionLift * version)) ? 1.0 : 0.0;
            batch.Decisions.Add(new DecisionRecord
            {
                Loop = loop.Id,
                DecisionId = $"d{i}",
                At = at,
                UserId = users > 0 ? $"u{random.Next(users)}" : null,
                Context = context,
                Actions = actions,
                ChosenActionId = actions[chosen].Id,
                Explored = true,
                Ranking = ranking,
                ModelVersion = version,
            });
            batch.Rewards.Add(new RewardRecord
            {
                Loop = loop.Id,
                DecisionId = $"d{i}",
                Sequence = i + 1,
                Reward = reward,
                SignalCount = (int)reward,
                ClosedAt = at.AddSeconds(60),
                ClosedBy = WindowClose.Timeout,
            });
            if (batch.Decisions.Count == 10_000)
            {
                await store.CommitAsync(batch);
                batch.Clear();
            }
        }
        if (!batch.IsEmpty)
        {
            await store.CommitAsync(batch);
        }
        Console.WriteLine($"wrote {decisions:N0} rewarded decisions in {clock.Elapsed.TotalSeconds:F1} s");
    }
}

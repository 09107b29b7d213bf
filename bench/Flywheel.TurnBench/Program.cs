// Times one full turn over a store of N rewarded decisions (bench/RESULTS.md, "Turn").
//
//   dotnet run -c Release --project bench/Flywheel.TurnBench -- [decisions=1000000] [data-dir]
//
// The log is written straight into the SQLite store (as the engine's writer would, in batches), then an engine opens
// it (restoring the live learner by replaying every reward) and runs one turn: the champion's settings and the 4
// default candidates replayed over the whole log, each decision judged off-policy, the candidates registered.
using System.Diagnostics;
using System.Globalization;
using Flywheel.Core;
using Flywheel.Engine;
using Flywheel.Storage.Sqlite;
using Microsoft.Extensions.DependencyInjection;

var decisions = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
var dir = args.Length > 1 ? args[1] : Path.Combine(Path.GetTempPath(), $"flywheel-turnbench-{Environment.ProcessId}");
var keep = args.Length > 1;
Directory.CreateDirectory(dir);
const int K = 10;
var loop = new LoopConfig
{
    Id = "bench",
    Signals = new Dictionary<string, SignalTypeConfig> { ["click"] = new() { Kind = SignalKind.Implicit, Weight = 1 } },
    Exploration = new ExplorationConfig { Algorithm = ExplorationAlgorithm.EpsilonGreedy, Epsilon = 0.1 },
    Turns = new TurnsConfig { MinDecisions = 1000 },
};
Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {RuntimeInformationText()}");
Console.WriteLine($"data: {dir}");

var clock = Stopwatch.StartNew();
var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
await using (var store = await SqliteFlywheelStore.OpenAsync(new SqliteStoreOptions { DataDirectory = dir }))
{
    if ((await store.CountAsync("bench")).Rewards < decisions)
    {
        await store.SaveLoopAsync(loop);
        var random = new Random(1);
        var countries = new[] { "fr", "de", "jp", "br", "us", "in", "ng", "mx" };
        var devices = new[] { "ios", "android", "web" };
        var actions = Enumerable.Range(0, K).Select(a => new ActionCandidate($"a{a}", new Features
        {
            ["item"] = { ["topic"] = $"t{a % 4}", ["length_s"] = 10 + 7 * a },
        })).ToArray();
        var batch = new StoreBatch();
        for (var i = 0; i < decisions; i++)
        {
            var country = random.Next(countries.Length);
            var device = random.Next(devices.Length);
            var hour = random.Next(24);
            var at = start.AddSeconds(i * 0.1);
            var context = new Features
            {
                ["user"] = { ["country"] = countries[country], ["device"] = devices[device], ["tenure_days"] = random.Next(1000), ["premium"] = random.Next(2) == 1 },
                ["time"] = { ["hour"] = hour, ["weekday"] = random.Next(7) },
            };
            var chosen = random.Next(K);
            var best = (country * 3 + device + hour / 6) % K;
            var reward = random.NextDouble() < (chosen == best ? 0.7 : 0.2) ? 1.0 : 0.0;
            batch.Decisions.Add(new DecisionRecord
            {
                Loop = "bench",
                DecisionId = $"d{i}",
                At = at,
                Context = context,
                Actions = actions,
                ChosenActionId = actions[chosen].Id,
                Explored = true,
                Ranking = actions.Select(a => new RankedAction(a.Id, 1.0 / K)).ToList(),
                ModelVersion = 1,
            });
            batch.Rewards.Add(new RewardRecord
            {
                Loop = "bench",
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

clock.Restart();
var options = new FlywheelOptions { ScheduleTurns = false }.UseSqlite(dir);
await using var engine = await FlywheelEngine.OpenAsync(options);
Console.WriteLine($"engine open (live learner restored by replaying every reward): {clock.Elapsed.TotalSeconds:F1} s");

var cpu = Process.GetCurrentProcess().TotalProcessorTime;
clock.Restart();
var turn = await engine.RunTurnAsync("bench");
var wall = clock.Elapsed.TotalSeconds;
var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
Console.WriteLine($"turn {turn.Number}: {turn.Verdict} over {turn.Window!.Decisions:N0} decisions, {turn.Candidates.Count} policies evaluated");
Console.WriteLine($"turn wall time: {wall:F1} s, CPU {cpuSeconds:F1} s ({cpuSeconds / wall:F2} cores), {turn.Window.Decisions / wall:N0} decisions/s");
foreach (var c in turn.Candidates)
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {c.Name,-26} IPS {c.Estimates.Ips.Value:F4} DR {c.Estimates.Dr.Value:F4} [{c.Estimates.Dr.Lower:F4}, {c.Estimates.Dr.Upper:F4}] ESS {c.Estimates.EffectiveSampleSize:F0}"));
}
Console.WriteLine($"reason: {turn.Reason}");
if (!keep)
{
    await engine.DisposeAsync();
    Directory.Delete(dir, recursive: true);
}

static string RuntimeInformationText() => $"{System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}";

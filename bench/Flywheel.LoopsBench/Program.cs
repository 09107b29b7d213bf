// Restarts an engine on many idle loops (bench/RESULTS.md, "Many idle loops: restart time and memory").
//
//   dotnet run -c Release --project bench/Flywheel.LoopsBench -- [loops=10000] [data-dir] [rewarded=5]
//
// Writes `loops` loops (the default config) straight into a SQLite store, each with `rewarded` decisions, a signal on
// some of them, their rewards and the learner snapshot the engine would have saved at shutdown. Then it starts itself
// again as a fresh process (`--restore DIR`), which opens an engine on the store (restoring every loop: registry
// check, snapshot, replay, shadows, open windows), and reports the time that took, the process's peak working set
// and its managed heap, and one decision on a randomly drawn loop. A data dir that already holds the loops is reused.
using System.Diagnostics;
using System.Globalization;
using Flywheel.Core;
using Flywheel.Engine;
using Flywheel.Learning;
using Flywheel.Storage.Sqlite;
using Microsoft.Extensions.DependencyInjection;

if (args.Length == 2 && args[0] == "--restore")
{
    return await RestoreAsync(args[1]);
}
var loops = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 10_000;
var dir = args.Length > 1 ? args[1] : Path.Combine(Path.GetTempPath(), $"flywheel-loopsbench-{loops}");
var rewarded = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 5;
Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1 << 20):N0} MiB, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}");
Console.WriteLine($"data: {dir}");
Directory.CreateDirectory(dir);
await SeedAsync(dir, loops, rewarded);

// The restore runs in a fresh process, so its memory figures hold only what the restart built.
var self = Environment.ProcessPath!;
var start = new ProcessStartInfo(self) { UseShellExecute = false };
if (Path.GetFileNameWithoutExtension(self) == "dotnet")
{
    start.ArgumentList.Add(typeof(Bench).Assembly.Location);
}
start.ArgumentList.Add("--restore");
start.ArgumentList.Add(dir);
using var child = Process.Start(start)!;
await child.WaitForExitAsync();
return child.ExitCode;

static async Task SeedAsync(string dir, int loops, int rewarded)
{
    var clock = Stopwatch.StartNew();
    await using var store = await SqliteFlywheelStore.OpenAsync(new SqliteStoreOptions { DataDirectory = dir });
    var stored = (await store.LoadLoopsAsync()).Count;
    if (stored == loops)
    {
        Console.WriteLine($"store already holds {loops:N0} loops");
        return;
    }
    if (stored != 0)
    {
        throw new InvalidOperationException($"{dir} holds {stored:N0} loops, not {loops:N0}: use an empty data dir");
    }
    var random = new Random(1);
    var countries = new[] { "fr", "de", "jp", "br", "us", "in", "ng", "mx" };
    var actions = Enumerable.Range(0, 4).Select(a => new ActionCandidate($"a{a}", new Features
    {
        ["item"] = { ["topic"] = $"t{a}", ["length_s"] = 10 + 7 * a },
    })).ToArray();
    var at = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    var batch = new StoreBatch();
    for (var l = 0; l < loops; l++)
    {
        var config = Bench.Config(l);
        await store.SaveLoopAsync(config);
        var learner = LoopKinds.For(config).CreateLearner(config.Learner, config.Exploration);
        for (var i = 0; i < rewarded; i++)
        {
            var chosen = random.Next(actions.Length);
            var clicked = random.Next(3) == 0;
            var decision = new DecisionRecord
            {
                Loop = config.Id,
                DecisionId = $"d{i}",
                At = at,
                UserId = $"u{random.Next(1000)}",
                Context = new Features { ["user"] = { ["country"] = countries[random.Next(countries.Length)], ["hour"] = random.Next(24) } },
                Actions = actions,
                ChosenActionId = actions[chosen].Id,
                Explored = false,
                Ranking = actions.Select(a => new RankedAction(a.Id, a == actions[chosen] ? 0.9625 : 0.0125)).ToList(),
                ModelVersion = 1,
            };
            var reward = new RewardRecord
            {
                Loop = config.Id,
                DecisionId = decision.DecisionId,
                Sequence = i + 1,
                Reward = clicked ? 1 : 0,
                SignalCount = clicked ? 1 : 0,
                ImplicitSignals = clicked ? 1 : 0,
                ClosedAt = at.AddSeconds(600),
                ClosedBy = WindowClose.Timeout,
            };
            batch.Decisions.Add(decision);
            if (clicked)
            {
                batch.Signals.Add(new SignalRecord { Loop = config.Id, SignalId = $"s{i}", DecisionId = decision.DecisionId, Type = "click", Value = 1, At = at.AddSeconds(5), ReceivedAt = at.AddSeconds(5) });
            }
            batch.Rewards.Add(reward);
            learner.Learn(decision, reward.Reward, config.Exploration);
        }
        // What the engine saves for a loop that learned since its last snapshot when it shuts down.
        await store.SaveSnapshotAsync(new ModelSnapshotRecord { Loop = config.Id, Version = 1, LearnedThrough = rewarded, CreatedAt = at.AddSeconds(600), Data = learner.Save() });
        if (batch.Decisions.Count >= 5_000)
        {
            await store.CommitAsync(batch);
            batch.Clear();
        }
    }
    if (!batch.IsEmpty)
    {
        await store.CommitAsync(batch);
    }
    Console.WriteLine($"wrote {loops:N0} loops with {rewarded} rewarded decisions each in {clock.Elapsed.TotalSeconds:F1} s");
}

static async Task<int> RestoreAsync(string dir)
{
    var process = Process.GetCurrentProcess();
    var baseline = GC.GetTotalMemory(forceFullCollection: true);
    var clock = Stopwatch.StartNew();
    var engine = await FlywheelEngine.OpenAsync(new FlywheelOptions().UseSqlite(dir));
    var seconds = clock.Elapsed.TotalSeconds;
    await using (engine)
    {
        var heapAfterRestore = GC.GetGCMemoryInfo().HeapSizeBytes;
        var live = GC.GetTotalMemory(forceFullCollection: true);
        process.Refresh();
        var peak = process.PeakWorkingSet64;
        var ids = (await engine.ListLoopsAsync()).Select(c => c.Id).ToList();
        var loop = ids[new Random(7).Next(ids.Count)];
        var decision = await engine.DecideAsync(loop, new DecideRequest
        {
            UserId = "u1",
            Context = new Features { ["user"] = { ["country"] = "fr", ["hour"] = 20 } },
            Actions = [new ActionCandidate("a0", new Features { ["item"] = { ["topic"] = "t0" } }), new ActionCandidate("a1", new Features { ["item"] = { ["topic"] = "t1" } })],
        });
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"restored {ids.Count:N0} loops in {seconds:F1} s ({seconds * 1e6 / ids.Count:F0} µs per loop)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"peak working set {Mib(peak)}; GC heap after restore {Mib(heapAfterRestore)}; live managed memory after a full collection {Mib(live)} ({(live - baseline) / 1024.0 / ids.Count:F1} KiB per loop over the {Mib(baseline)} before the engine opened)"));
        Console.WriteLine($"decide on {loop}: chose {decision.ChosenActionId} with model v{decision.ModelVersion}");
    }
    return 0;
}

static string Mib(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:N0} MiB");

internal static class Bench
{
    public static LoopConfig Config(int i) => new()
    {
        Id = $"loop-{i:D5}",
        Signals = new Dictionary<string, SignalTypeConfig> { ["click"] = new() { Kind = SignalKind.Implicit, Weight = 1 } },
    };
}

// Times the health report of a loop over a store of N decisions (bench/RESULTS.md, "Health").
//
//   dotnet run -c Release --project bench/Flywheel.HealthBench -- [decisions=1000000] [data-dir] [users=20000]
//
// The log is written straight into the SQLite store in batches, as the engine's writer would: decisions with a user id
// and a context, their in-window signals and closed rewards (the newest day's windows still open), user-level
// return_visit signals, a few late signals, and a short ledger. Then each read the report makes is timed on its own
// through IFlywheelStore, with HealthCalculator.Compute on the HealthInput they fill (as HealthReporter does), and last
// an engine opens the folder and IFlywheelEngine.GetHealthAsync is timed: the first call and the median of 5 more.
using System.Diagnostics;
using System.Globalization;
using Flywheel.Core;
using Flywheel.Engine;
using Flywheel.Evaluation.Health;
using Flywheel.Storage.Sqlite;
using Microsoft.Extensions.DependencyInjection;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var decisions = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
var dir = args.Length > 1 ? args[1] : Path.Combine(Path.GetTempPath(), $"flywheel-healthbench-{Environment.ProcessId}");
var users = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 20_000;
var keep = args.Length > 1;
Directory.CreateDirectory(dir);
const string LoopId = "health";
const int K = 10;
const int Runs = 5;
var window = TimeSpan.FromDays(1);
var loop = new LoopConfig
{
    Id = LoopId,
    Signals = new Dictionary<string, SignalTypeConfig>
    {
        ["engaged"] = new() { Kind = SignalKind.Implicit, Weight = 1 },
        ["rating"] = new() { Kind = SignalKind.Explicit, Weight = 0.5 },
        ["return_visit"] = new() { Kind = SignalKind.Implicit, Weight = 0 },
    },
    Reward = new RewardConfig { WindowSeconds = window.TotalSeconds, Min = -1, Max = 1 },
    Exploration = new ExplorationConfig { Algorithm = ExplorationAlgorithm.EpsilonGreedy, Epsilon = 0.1 },
    Turns = new TurnsConfig { MinDecisions = 1000 },
};
Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}");
Console.WriteLine($"load average at start: {LoadAverage()}");
Console.WriteLine($"data: {dir}");

// The engine runs at the moment the log ends, as the product that wrote it would: on a later re-run the system clock
// would close the windows the log left open, with no signals.
var logEnd = DateTimeOffset.MinValue;
var clock = Stopwatch.StartNew();
await using (var store = await SqliteFlywheelStore.OpenAsync(new SqliteStoreOptions { DataDirectory = dir }))
{
    if ((await store.CountAsync(LoopId)).Decisions < decisions)
    {
        await store.SaveLoopAsync(loop);
        var written = await WriteLogAsync(store, decisions, users, window);
        Console.WriteLine($"wrote {decisions:N0} decisions, {written.Rewards:N0} rewards, {written.Signals:N0} signals " +
            $"({written.Visits:N0} return_visit), {written.Turns} ledger entries in {clock.Elapsed.TotalSeconds:F1} s");
    }
    Console.WriteLine($"store file: {new DirectoryInfo(dir).EnumerateFiles().Sum(f => f.Length) / (1024.0 * 1024):N0} MiB");
    logEnd = await TimePartsAsync(store);
}

clock.Restart();
var openCpu = Cpu();
var options = new FlywheelOptions { ScheduleTurns = false }.UseSqlite(dir);
var engine = await FlywheelEngine.OpenAsync(options, new FrozenClock(logEnd));
try
{
    Console.WriteLine($"engine open (live learner restored by replaying every reward): {clock.Elapsed.TotalSeconds:F1} s, CPU {Cpu() - openCpu:F1} s");
    var cpu = Cpu();
    clock.Restart();
    var report = await engine.GetHealthAsync(LoopId);
    var first = clock.Elapsed.TotalSeconds;
    var firstCpu = Cpu() - cpu;
    var times = new List<double>();
    var cpuTimes = new List<double>();
    for (var r = 0; r < Runs; r++)
    {
        cpu = Cpu();
        clock.Restart();
        report = await engine.GetHealthAsync(LoopId);
        times.Add(clock.Elapsed.TotalSeconds);
        cpuTimes.Add(Cpu() - cpu);
    }
    var median = Median(times);
    Console.WriteLine();
    Console.WriteLine($"GetHealthAsync: first {first:F2} s (CPU {firstCpu:F2} s), median of {Runs} more {median:F2} s (CPU {Median(cpuTimes):F2} s); runs: {string.Join(", ", times.Select(t => t.ToString("F2", CultureInfo.InvariantCulture)))}");
    Print(report);
    Console.WriteLine($"peak working set: {Process.GetCurrentProcess().PeakWorkingSet64 / (1024 * 1024):N0} MiB; load average at end: {LoadAverage()}");
    Console.WriteLine($"target: health over {decisions:N0} decisions in under 2 s: {(median < 2 ? "met" : "NOT met")} (median {median:F2} s, first {first:F2} s)");
}
finally
{
    await engine.DisposeAsync();
}
if (!keep)
{
    Directory.Delete(dir, recursive: true);
}

// Each read of the health report on its own, then the computation, as HealthReporter runs them.
static async Task<DateTimeOffset> TimePartsAsync(SqliteFlywheelStore store)
{
    var config = (await store.LoadLoopsAsync()).Single(l => l.Id == LoopId);
    var lastSequence = await store.GetLastRewardSequenceAsync(LoopId);
    HealthInput? input = null;
    DateTimeOffset? end = null;
    var parts = new Dictionary<string, List<double>>();
    var cpus = new Dictionary<string, List<double>>();
    var cpuMark = Cpu();
    void Add(string part, double seconds)
    {
        if (!parts.TryGetValue(part, out var list))
        {
            parts[part] = list = [];
            cpus[part] = [];
        }
        list.Add(seconds);
        var now = Cpu();
        cpus[part].Add(now - cpuMark);
        cpuMark = now;
    }
    for (var r = 0; r < 3; r++)
    {
        cpuMark = Cpu();
        var clock = Stopwatch.StartNew();
        var counts = await store.CountAsync(LoopId);
        Add("CountAsync", clock.Elapsed.TotalSeconds);

        cpuMark = Cpu();
        clock.Restart();
        var turns = await store.LoadTurnsAsync(LoopId);
        Add("LoadTurnsAsync", clock.Elapsed.TotalSeconds);

        // The outcomes pass alone (the SQLite read and the rows' decoding), then again into a HealthInput.
        cpuMark = Cpu();
        clock.Restart();
        long rows = 0;
        var outcomes = new List<DecisionOutcome>((int)counts.Decisions);
        await foreach (var outcome in store.ReadOutcomesAsync(LoopId))
        {
            rows += outcome.IsClosed ? 1 : 0;
            outcomes.Add(outcome);
        }
        Add("ReadOutcomesAsync (read only)", clock.Elapsed.TotalSeconds);
        end ??= outcomes.Count > 0 ? outcomes[^1].At : TimeProvider.System.GetUtcNow();
        var alone = new HealthInput { Config = config, Now = end.Value, Counts = counts };
        cpuMark = Cpu();
        clock.Restart();
        foreach (var outcome in outcomes)
        {
            alone.Add(outcome);
        }
        Add("HealthInput.Add of the outcomes (in memory)", clock.Elapsed.TotalSeconds);
        outcomes = null;

        input = new HealthInput
        {
            Config = config,
            Now = end.Value,
            Counts = counts,
            Turns = turns,
            ModelExamples = counts.Rewards,
        };
        cpuMark = Cpu();
        clock.Restart();
        await foreach (var outcome in store.ReadOutcomesAsync(LoopId))
        {
            input.Add(outcome);
        }
        Add("ReadOutcomesAsync + HealthInput.Add", clock.Elapsed.TotalSeconds);

        cpuMark = Cpu();
        clock.Restart();
        var visitList = new List<UserVisit>();
        await foreach (var visit in store.ReadUserVisitsAsync(LoopId))
        {
            visitList.Add(visit);
        }
        Add("ReadUserVisitsAsync (read only)", clock.Elapsed.TotalSeconds);
        cpuMark = Cpu();
        clock.Restart();
        foreach (var visit in visitList)
        {
            alone.Add(visit);
        }
        Add("HealthInput.Add of the visits (in memory)", clock.Elapsed.TotalSeconds);
        visitList = null;

        cpuMark = Cpu();
        clock.Restart();
        long visits = 0;
        await foreach (var visit in store.ReadUserVisitsAsync(LoopId))
        {
            input.Add(visit);
            visits++;
        }
        Add("ReadUserVisitsAsync + HealthInput.Add", clock.Elapsed.TotalSeconds);

        var sample = HealthCalculator.ContextSample;
        var (baselineFrom, recentFrom, to) = FeatureDrifts.Windows(input.First!.Value, input.Last!.Value)!.Value;
        cpuMark = Cpu();
        clock.Restart();
        input.RecentContexts = await store.ReadContextsAsync(LoopId, recentFrom, to, sample);
        Add($"ReadContextsAsync (newest week, {sample:N0})", clock.Elapsed.TotalSeconds);
        cpuMark = Cpu();
        clock.Restart();
        input.BaselineContexts = await store.ReadContextsAsync(LoopId, baselineFrom, recentFrom, sample);
        Add($"ReadContextsAsync (week before, {sample:N0})", clock.Elapsed.TotalSeconds);

        // What the engine reads for online latency once two models have served (the newest LatencySample rewards).
        cpuMark = Cpu();
        clock.Restart();
        var arrivals = await store.ReadRewardArrivalsAsync(LoopId, Math.Max(0, lastSequence - HealthReporterSample), lastSequence);
        Add($"ReadRewardArrivalsAsync (newest {HealthReporterSample:N0} rewards)", clock.Elapsed.TotalSeconds);
        // Stand-in latencies, one per arrival: the serving marks that turn arrivals into latencies are the engine's own.
        input.OnlineLatencySeconds = [.. arrivals.Select(_ => 2.0)];

        cpuMark = Cpu();
        clock.Restart();
        var report = HealthCalculator.Compute(input);
        Add("HealthCalculator.Compute", clock.Elapsed.TotalSeconds);
        if (r == 0)
        {
            Console.WriteLine($"read {input.Decisions:N0} decisions ({rows:N0} closed), {visits:N0} user-level signals, " +
                $"{input.RecentContexts.Count + input.BaselineContexts.Count:N0} contexts, {arrivals.Count:N0} reward arrivals, {turns.Count} ledger entries; verdict {report.Verdict.Status}");
        }
    }
    Console.WriteLine();
    Console.WriteLine("each part through the public APIs (3 runs; median wall time, median CPU time of the process, then every run's wall time):");
    var total = 0.0;
    foreach (var (part, list) in parts)
    {
        if (!part.Contains("read only", StringComparison.Ordinal) && !part.Contains("in memory", StringComparison.Ordinal))
        {
            total += Median(list);
        }
        Console.WriteLine($"  {part,-48} {Median(list),7:F3} s  CPU {Median(cpus[part]),7:F3} s   ({string.Join(", ", list.Select(t => t.ToString("F3", CultureInfo.InvariantCulture)))})");
    }
    Console.WriteLine($"  {"sum of medians (the report's own steps)",-48} {total,7:F3} s");
    return end ?? TimeProvider.System.GetUtcNow();
}

static async Task<(long Rewards, long Signals, long Visits, int Turns)> WriteLogAsync(SqliteFlywheelStore store, int decisions, int users, TimeSpan window)
{
    var random = new Random(1);
    var end = TimeProvider.System.GetUtcNow();
    end = new DateTimeOffset(end.Ticks - end.Ticks % TimeSpan.TicksPerSecond, TimeSpan.Zero);
    var span = TimeSpan.FromDays(60);
    var start = end - span;
    var step = span / decisions;
    var countries = new[] { "fr", "de", "jp", "br", "us", "in", "ng", "mx" };
    var devices = new[] { "ios", "android", "web" };
    var actions = Enumerable.Range(0, K).Select(a => new ActionCandidate($"a{a}", new Features
    {
        ["item"] = { ["topic"] = $"t{a % 4}", ["length_s"] = 10 + 7 * a },
    })).ToArray();
    var ranking = actions.Select(a => new RankedAction(a.Id, 1.0 / K)).ToList();
    var userCountry = Enumerable.Range(0, users).Select(_ => random.Next(countries.Length)).ToArray();
    var userTenure = Enumerable.Range(0, users).Select(_ => random.Next(1000)).ToArray();
    var lastDay = Enumerable.Repeat(-1L, users).ToArray();
    var batch = new StoreBatch();
    long sequence = 0, signals = 0, visits = 0;
    var decidedAt = new DateTimeOffset[decisions];
    for (var i = 0; i < decisions; i++)
    {
        var t = (double)i / decisions;
        var at = start + step * i;
        decidedAt[i] = at;
        // A few heavy users and a long tail: u = users·x² puts a quarter of the decisions on the first 6% of users.
        var u = Math.Min(users - 1, (int)(users * Math.Pow(random.NextDouble(), 2)));
        var userId = $"u{u}";
        var day = at.UtcTicks / TimeSpan.TicksPerDay;
        if (lastDay[u] >= 0 && lastDay[u] != day)
        {
            // The user's first visit of a later day: a user-level signal, as a product sends on app open.
            batch.Signals.Add(new SignalRecord
            {
                Loop = LoopId, SignalId = $"v{i}", UserId = userId, Type = "return_visit", Value = 1,
                At = at.AddSeconds(-2), ReceivedAt = at.AddSeconds(-1),
            });
            visits++;
        }
        lastDay[u] = day;
        // The web's share falls and the price seen rises over the log: feature drift for the report to find.
        var device = random.NextDouble() < 0.4 - 0.25 * t ? 2 : random.Next(2);
        var context = new Features
        {
            ["user"] = { ["country"] = countries[userCountry[u]], ["device"] = devices[device], ["tenure_days"] = userTenure[u] + (int)(60 * t) },
            ["session"] = { ["hour"] = at.Hour, ["price_seen"] = Math.Round(10 + 5 * t + 3 * Gaussian(random), 2) },
        };
        var chosen = random.Next(K);
        var decisionId = $"d{i}";
        batch.Decisions.Add(new DecisionRecord
        {
            Loop = LoopId,
            DecisionId = decisionId,
            At = at,
            UserId = userId,
            Context = context,
            Actions = actions,
            ChosenActionId = actions[chosen].Id,
            Explored = random.NextDouble() < 0.1,
            Ranking = ranking,
            ModelVersion = 1,
        });
        var closedAt = at + window;
        if (closedAt <= end)
        {
            // Most windows hold one signal (engagement, improving over the log with noise), some none, a few a rating too.
            var signalCount = 0;
            var implicitCount = 0;
            var explicitCount = 0;
            var reward = 0.0;
            if (random.NextDouble() < 0.72)
            {
                var engaged = Math.Clamp(0.30 + 0.15 * (1 - Math.Exp(-4 * t)) + 0.25 * Gaussian(random), 0, 1);
                AddSignal(batch, $"e{i}", decisionId, userId, "engaged", Math.Round(engaged, 3), at.AddSeconds(5 + random.Next(300)));
                reward += Math.Round(engaged, 3);
                signalCount++;
                implicitCount++;
            }
            if (random.NextDouble() < 0.04)
            {
                var rating = random.NextDouble() < 0.35 + 0.2 * t ? 1.0 : -1.0;
                AddSignal(batch, $"r{i}", decisionId, userId, "rating", rating, at.AddSeconds(60 + random.Next(600)));
                reward += 0.5 * rating;
                signalCount++;
                explicitCount++;
            }
            if (random.NextDouble() < 0.003)
            {
                batch.Signals.Add(new SignalRecord
                {
                    Loop = LoopId, SignalId = $"l{i}", DecisionId = decisionId, UserId = userId, Type = "engaged", Value = 1,
                    At = closedAt.AddMinutes(5), ReceivedAt = closedAt.AddMinutes(5), Late = true,
                });
            }
            batch.Rewards.Add(new RewardRecord
            {
                Loop = LoopId,
                DecisionId = decisionId,
                Sequence = ++sequence,
                Reward = Math.Clamp(reward, -1, 1),
                SignalCount = signalCount,
                ImplicitSignals = implicitCount,
                ExplicitSignals = explicitCount,
                ClosedAt = closedAt,
                ClosedBy = WindowClose.Timeout,
            });
        }
        if (batch.Decisions.Count == 10_000)
        {
            signals += batch.Signals.Count;
            await store.CommitAsync(batch);
            batch.Clear();
        }
    }
    if (!batch.IsEmpty)
    {
        signals += batch.Signals.Count;
        await store.CommitAsync(batch);
    }

    // A short ledger: six scheduled turns over the log, three of them deployed (two with a measured online lift).
    const int TurnCount = 6;
    long after = 0;
    for (var n = 1; n <= TurnCount; n++)
    {
        var through = sequence * n / (TurnCount + 1);
        var from = decidedAt[after];
        var to = decidedAt[through - 1];
        var deployed = n is 2 or 4 or 5;
        var version = 1 + (n >= 2 ? 1 : 0) + (n >= 4 ? 1 : 0) + (n >= 5 ? 1 : 0);
        var champion = deployed ? version - 1 : version;
        await store.SaveTurnAsync(new TurnRecord
        {
            Loop = LoopId,
            Number = n,
            Trigger = TurnTrigger.Schedule,
            StartedAt = to.AddMinutes(1),
            FinishedAt = to.AddMinutes(3),
            Window = new DataWindow { AfterSequence = after, ThroughSequence = through, From = from, To = to, Decisions = through - after, Signals = (long)((through - after) * 0.76) },
            ChampionVersion = champion,
            Verdict = deployed ? TurnVerdict.Promoted : TurnVerdict.Rejected,
            Reason = deployed ? "a candidate's lower bound beat the champion" : "no candidate's lower bound beat the champion",
            DeployedVersion = deployed ? version : null,
            DeployedAt = deployed ? to.AddMinutes(3) : null,
            Lift = n is 2 or 4 ? new OnlineLift
            {
                Version = version,
                PredecessorVersion = champion,
                Decisions = 20_000,
                Mean = 0.34,
                PredecessorDecisions = 20_000,
                PredecessorMean = 0.32,
                Difference = new Estimate(0.02, 0.012, 0.028),
                Relative = 0.0625,
                MeasuredAt = to.AddDays(1),
            } : null,
        });
        after = through;
    }
    return (sequence, signals, visits, TurnCount);
}

static void AddSignal(StoreBatch batch, string id, string decisionId, string userId, string type, double value, DateTimeOffset at)
    => batch.Signals.Add(new SignalRecord
    {
        Loop = LoopId, SignalId = id, DecisionId = decisionId, UserId = userId, Type = type, Value = value, At = at, ReceivedAt = at,
    });

static double Gaussian(Random random)
    => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

static double Cpu() => Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;

static double Median(List<double> values)
{
    var sorted = values.Order().ToArray();
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
}

static string LoadAverage()
    => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

static void Print(HealthReport report)
{
    var e = report.Evidence;
    Console.WriteLine($"verdict: {report.Verdict.Status}: {report.Verdict.Evidence}");
    Console.WriteLine($"  advice: {report.Verdict.Advice}");
    Console.WriteLine($"  evidence: {e.Decisions:N0} decisions, {e.Rewards:N0} rewards, {e.Signals:N0} signals, reward sd {e.RewardStandardDeviation:F3}, {e.DecisionsToJudge:N0} rewards per side to judge");
    Console.WriteLine($"  capture {report.Capture.Rate.Value:P1} (implicit {report.Capture.Implicit.Value:P1}, explicit {report.Capture.Explicit.Value:P1}), late {report.Capture.LateSignals:N0}; fuel {report.Fuel.ExamplesPerHour:N0} examples/h, {report.Fuel.SignalsPerDecision:F2} signals/decision");
    Console.WriteLine($"  learning curve: {report.LearningCurve.Points.Count} buckets, doubling gain {report.LearningCurve.DoublingGain:F4}, plateau {report.LearningCurve.Plateau}");
    if (report.Lift.Learning is { } l)
    {
        Console.WriteLine($"  lift of learning: {l.BeforeReward.Value:F3} -> {l.AfterReward.Value:F3}, difference {l.Difference.Value:F3} [{l.Difference.Lower:F3}, {l.Difference.Upper:F3}]; turns: {string.Join(", ", report.Lift.Turns.Select(t => $"{t.Turn}:{t.Status}"))}");
    }
    Console.WriteLine($"  staleness: reward PSI {report.Staleness.RewardPsi:F3}, feature PSI {string.Join(", ", report.Staleness.FeaturePsi.Take(4).Select(f => $"{f.Feature} {f.Psi:F3}"))}; drift alarms {report.Staleness.Drift.Alarms}, stale {report.Staleness.Drift.Stale}");
    Console.WriteLine($"  return: {report.Return.Users:N0} users, within 1 day {report.Return.Within1Day.Rate.Value:P1}, 7 days {report.Return.Within7Days.Rate.Value:P1}, 30 days {report.Return.Within30Days.Rate.Value:P1}");
}

internal static partial class Program
{
    // HealthReporter.LatencySample (internal to the engine): the newest rewards whose loop latency is measured.
    private const int HealthReporterSample = 5000;
}

/// <summary>A clock stopped at one moment (timers still run on the system's).</summary>
internal sealed class FrozenClock(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}

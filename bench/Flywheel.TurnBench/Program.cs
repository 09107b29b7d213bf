// Times one full turn over a store of N rewarded decisions (bench/RESULTS.md, "Turn").
//
//   dotnet run -c Release --project bench/Flywheel.TurnBench -- [decisions=1000000] [data-dir]
//
// The log is written straight into the SQLite store (as the engine's writer would, in batches), then an engine opens
// it (restoring the live learner by replaying every reward) and runs one turn: the champion's settings and the 4
// default candidates replayed over the whole log, each decision judged off-policy, the candidates registered.
using System.Diagnostics;
using System.Globalization;
using Flywheel.Bench;
using Flywheel.Core;
using Flywheel.Engine;
using Flywheel.Storage.Sqlite;
using Microsoft.Extensions.DependencyInjection;

var decisions = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
var dir = args.Length > 1 ? args[1] : Path.Combine(Path.GetTempPath(), $"flywheel-turnbench-{Environment.ProcessId}");
var keep = args.Length > 1;
Directory.CreateDirectory(dir);
var loop = BenchLog.Loop("bench");
Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {RuntimeInformationText()}");
Console.WriteLine($"data: {dir}");

var clock = Stopwatch.StartNew();
await using (var store = await SqliteFlywheelStore.OpenAsync(new SqliteStoreOptions { DataDirectory = dir }))
{
    await BenchLog.WriteAsync(store, loop, decisions, secondsApart: 0.1);
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

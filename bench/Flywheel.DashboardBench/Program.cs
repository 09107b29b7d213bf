// Times the dashboard's pages over a store of N rewarded decisions (bench/RESULTS.md, "Dashboard").
//
//   dotnet run -c Release --project bench/Flywheel.DashboardBench -- [decisions=1000000] [data-dir] [requests=10]
//
// The log is written straight into the SQLite store (as the engine's writer would, in batches of 10,000): 10 actions,
// a context of 6 features, 5,000 users, three model versions serving a third of the log each. Then a real server
// (Kestrel on 127.0.0.1, a random port; turns not scheduled, so none runs while it is measured) serves it, and one
// client times sequential GETs of each page: the first (cold) on its own; then, after one warm-up, the given number
// on an idle store (the dashboard reuses its figures while the loop's counts stay put) and as many on a live one (a
// signal arrives before each request, so every page reads the log again).
using System.Diagnostics;
using System.Globalization;
using Flywheel.Bench;
using Flywheel.Core;
using Flywheel.Engine;
using Flywheel.Server;
using Flywheel.Storage.Sqlite;
using Microsoft.Extensions.DependencyInjection;

var decisions = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
var dir = args.Length > 1 ? args[1] : Path.Combine(Path.GetTempPath(), $"flywheel-dashbench-{Environment.ProcessId}");
var requests = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 10;
var keep = args.Length > 1;
Directory.CreateDirectory(dir);
const string Loop = "bench";
var loop = BenchLog.Loop(Loop);
Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}");
Console.WriteLine($"data: {dir}");

var clock = Stopwatch.StartNew();
await using (var store = await SqliteFlywheelStore.OpenAsync(new SqliteStoreOptions { DataDirectory = dir }))
{
    // One decision every 3 s: a million span about a month, so return rates and streaks have days to count.
    await BenchLog.WriteAsync(store, loop, decisions, secondsApart: 3.0, versions: 3, versionLift: 0.02, users: 5000);
}

clock.Restart();
var app = FlywheelServerApp.Build(
    new FlywheelServerOptions { DataDirectory = dir, Urls = "http://127.0.0.1:0" },
    b => b.Services.Configure<FlywheelOptions>(o => o.ScheduleTurns = false));
await app.StartAsync();
var address = new Uri(FlywheelServerApp.Addresses(app)[0]);
Console.WriteLine($"server up at {address} in {clock.Elapsed.TotalSeconds:F1} s (engine open: the live learner restored by replaying every reward)");

using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromMinutes(5) };
var engine = app.Services.GetRequiredService<IFlywheelEngine>();
var signals = 0;
Console.WriteLine($"{"page",-24} {"store",-5} {"cold ms",8} {"median ms",10} {"p90 ms",8} {"min ms",8} {"max ms",8} {"KiB",6}");
foreach (var path in new[] { "/", $"/loops/{Loop}", $"/v1/loops/{Loop}/health" })
{
    var (cold, bytes) = await TimeAsync(http, path);
    await TimeAsync(http, path);
    foreach (var live in new[] { false, true })
    {
        var times = new List<double>();
        for (var i = 0; i < requests; i++)
        {
            if (live)
            {
                // An orphaned signal (no such decision) moves the loop's counts, as traffic would.
                await engine.RecordSignalsAsync(Loop, [new SignalInput { DecisionId = $"bench-{++signals}", Type = "click" }]);
            }
            times.Add((await TimeAsync(http, path)).Ms);
        }
        times.Sort();
        double At(double q) => times[Math.Min(times.Count - 1, (int)Math.Ceiling(q * times.Count) - 1)];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{path,-24} {(live ? "live" : "idle"),-5} {cold,8:F0} {At(0.5),10:F0} {At(0.9),8:F0} {times[0],8:F0} {times[^1],8:F0} {bytes / 1024.0,6:F0}"));
    }
}
await app.StopAsync();
await app.DisposeAsync();
if (!keep)
{
    Directory.Delete(dir, recursive: true);
}

static async Task<(double Ms, long Bytes)> TimeAsync(HttpClient http, string path)
{
    var clock = Stopwatch.StartNew();
    using var response = await http.GetAsync(new Uri(path, UriKind.Relative));
    var body = await response.Content.ReadAsByteArrayAsync();
    response.EnsureSuccessStatusCode();
    return (clock.Elapsed.TotalMilliseconds, body.LongLength);
}

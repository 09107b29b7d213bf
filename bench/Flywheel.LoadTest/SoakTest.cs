using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Flywheel.Core;

namespace Flywheel.LoadTest;

/// <summary>Everything the soak depends on, from the command line.</summary>
internal sealed record SoakSettings
{
    public required string Cli { get; init; }
    public required string Durability { get; init; }
    public required int Minutes { get; init; }
    public required double Fraction { get; init; }
    /// <summary>Decides/s taken as capacity instead of measuring it; null: measure.</summary>
    public required double? Capacity { get; init; }
    public required int CapacityClients { get; init; }
    public required TimeSpan CapacityWarmup { get; init; }
    public required TimeSpan CapacityDuration { get; init; }
    public required TimeSpan Prewarm { get; init; }
    public required double WindowSeconds { get; init; }
    public required TimeSpan SampleInterval { get; init; }
    public required int Connections { get; init; }
    public required int Seed { get; init; }
    public required bool Json { get; init; }
    public required string? JsonFile { get; init; }
    public required bool KeepData { get; init; }
    public required TimeSpan RequestTimeout { get; init; }
}

/// <summary>The closed-loop phase whose decide rate the soak takes as capacity.</summary>
internal sealed record CapacityResult(
    int Clients,
    double WarmupSeconds,
    double MeasuredSeconds,
    double DecidesPerSecond,
    double SignalsPerSecond,
    LatencySummary Decide,
    LatencySummary Signals,
    int Errors,
    int Unavailable,
    string? ErrorKinds,
    CpuUse Cpu,
    double Turns);

/// <summary>One minute of the soak. Latencies and errors by scheduled time; rates by answer time; memory at the minute's end.</summary>
internal sealed record SoakMinute(
    int Minute,
    double DecidesPerSecond,
    double SignalsPerSecond,
    LatencySummary Decide,
    LatencySummary Signals,
    double SendLagP99Ms,
    int DecideErrors,
    int SignalErrors,
    int Unavailable,
    double RewardsByWindow,
    double RewardsBySignal,
    double LearnerUpdates,
    double Turns,
    ProcessMemory MemoryAtEnd,
    double RssMinMiB,
    double RssMaxMiB,
    long DataBytesAtEnd,
    long WalBytesAtEnd,
    CpuUse Cpu);

internal sealed record SoakTotals(
    int Sessions,
    int Decides,
    int DecideErrors,
    int SignalBatches,
    int SignalErrors,
    int Unavailable,
    long Accepted,
    long Duplicates,
    long Orphaned,
    long Late,
    string? ErrorKinds,
    LatencySummary Decide,
    LatencySummary Signals);

/// <summary>
/// Memory, over the last five minutes: the least-squares slope of every RSS sample (with its standard error: the GC
/// moves RSS by tens of MiB between samples) and of each minute's lowest sample (the floor the heap returns to), and
/// the spread of RSS after the second minute. Latency: the per-minute decide p99 over the same steady part.
/// </summary>
internal sealed record SoakVerdict(
    double SlopeFromMinute,
    double RssSlopeMiBPerMinute,
    double RssSlopeStandardError,
    double RssFloorSlopeMiBPerMinute,
    double RssAnonSlopeMiBPerMinute,
    double SpreadFromMinute,
    double RssMinMiB,
    double RssMaxMiB,
    bool? MemoryFlat,
    double DecideP99MinMs,
    double DecideP99MedianMs,
    double DecideP99MaxMs,
    double SignalP99MedianMs,
    string P99Trend)
{
    /// <summary>
    /// Null when the soak is too short (under 4 minutes) to judge. RSS may rise by less than this per minute and still count as flat (under 60 MiB an hour): the floor's slope must
    /// be under it, and the all-sample slope not above it by more than twice its standard error.
    /// </summary>
    public const double FlatSlopeMiBPerMinute = 1.0;
}

internal sealed record SoakReport(
    MachineInfo Machine,
    string Command,
    SoakSettings Settings,
    string SourceCommit,
    string LoadBefore,
    string LoadAfter,
    double AverageDecideBytes,
    CapacityResult? Capacity,
    double CapacityDecidesPerSecond,
    double TargetRate,
    SoakTotals Totals,
    IReadOnlyList<SoakMinute> Minutes,
    IReadOnlyList<ServerSample> Samples,
    SoakVerdict Verdict,
    IReadOnlyList<ServerLine> ServerLog,
    long DataBytes,
    double TotalSeconds);

/// <summary>A line the server printed during the soak, seconds after its start.</summary>
internal sealed record ServerLine(double Seconds, string Line);

/// <summary>
/// The soak: one <c>flywheel serve</c> on a loop with a short reward window (so windows close, by time-out and by
/// signal, and the learner runs throughout), its capacity measured with the soak's own mix in a closed loop, then an
/// open loop of sessions (a decide, then a batch of its signals) at a fraction of that capacity for N minutes, with the
/// server's memory and counters sampled every few seconds.
/// </summary>
internal static class SoakTest
{
    private const int DistinctBodies = 1_024;

    public static async Task<SoakReport> RunAsync(SoakSettings settings, TextWriter log, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var loadBefore = LoadAverage();
        var workload = new SoakWorkload(DistinctBodies, settings.Seed);
        log.WriteLine($"# soak: {workload.BodyCount} distinct decide bodies, {workload.AverageBodyBytes:0} bytes on average; CLI {settings.Cli}; load average {loadBefore}");
        await using var server = await ServerProcess.StartAsync(settings.Cli, settings.Durability, settings.KeepData, log, cancellationToken);
        using var client = LoadTest.CreateClient(server.BaseAddress, settings.Connections, settings.RequestTimeout);
        using var scraper = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            await LoadTest.PutLoopAsync(client, settings.WindowSeconds, cancellationToken);
            await LoadTest.PrewarmAsync(client, Workload.DecideBodies(64, settings.Seed), settings.Prewarm, log, cancellationToken);

            CapacityResult? capacity = null;
            double rate;
            if (settings.Capacity is { } given)
            {
                rate = given * settings.Fraction;
                log.WriteLine($"# capacity given: {given:0}/s; soak at {rate:0} decides/s");
            }
            else
            {
                log.WriteLine($"# capacity: closed loop, {settings.CapacityClients} clients, {settings.CapacityWarmup.TotalSeconds:0} s warm-up + {settings.CapacityDuration.TotalSeconds:0} s");
                capacity = await MeasureCapacityAsync(client, scraper, server, workload, settings, cancellationToken);
                rate = capacity.DecidesPerSecond * settings.Fraction;
                log.WriteLine($"#   {capacity.DecidesPerSecond:0} decides/s + {capacity.SignalsPerSecond:0} signals/s; decide p50 {capacity.Decide.P50Ms:0.00} ms, p99 {capacity.Decide.P99Ms:0.00} ms; errors {capacity.Errors}{(capacity.ErrorKinds is null ? "" : $" ({capacity.ErrorKinds})")}; turns {capacity.Turns:0}; CPU {capacity.Cpu}");
                // No pause before the soak: after an idle gap the first rewards to arrive are the window-closing skips
                // (the time-outs follow a window later), a drop in the reward that the drift watch answers with a turn.
                log.WriteLine($"# soak at {settings.Fraction:0.##} × capacity = {rate:0} decides/s, straight after");
            }
            // The exporter's first scrape is slow (hundreds of ms): not inside the soak.
            await ServerMonitor.ScrapeAsync(scraper, cancellationToken);
            if (rate < 1)
            {
                throw new InvalidOperationException($"the soak's rate would be {rate:0.###} decides/s: capacity too low to soak");
            }

            var soak = new OpenLoopSoak(client, scraper, server, workload, settings, rate, log);
            var (minutes, samples, totals, serverLog) = await soak.RunAsync(cancellationToken);
            var verdict = Judge(minutes, samples, settings.Minutes);
            var loadAfter = LoadAverage();
            log.WriteLine($"# load average after: {loadAfter}");
            return new SoakReport(LoadTest.Machine(), LoadTest.CommandLine(), settings, SourceCommit(settings.Cli), loadBefore, loadAfter,
                workload.AverageBodyBytes, capacity, capacity?.DecidesPerSecond ?? settings.Capacity ?? double.NaN, rate, totals, minutes, samples, verdict, serverLog,
                server.DataBytes(), Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
        catch (Exception ex) when (ex is InvalidOperationException or HttpRequestException)
        {
            throw new InvalidOperationException($"{ex.Message}{Environment.NewLine}server output (last lines):{Environment.NewLine}{server.Tail}", ex);
        }
    }

    private static async Task<CapacityResult> MeasureCapacityAsync(HttpClient client, HttpClient scraper, ServerProcess server, SoakWorkload workload, SoakSettings settings, CancellationToken cancellationToken)
    {
        var turnsBefore = (await ServerMonitor.ScrapeAsync(scraper, cancellationToken)).Turns;
        var start = Stopwatch.GetTimestamp();
        var measureStart = start + (long)(settings.CapacityWarmup.TotalSeconds * Stopwatch.Frequency);
        var end = measureStart + (long)(settings.CapacityDuration.TotalSeconds * Stopwatch.Frequency);
        var errorKinds = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var workers = Enumerable.Range(0, settings.CapacityClients).Select(w => Task.Run(async () =>
        {
            var random = new Random(settings.Seed + 1_000 + w);
            var decides = new List<long>();
            var batches = new List<long>();
            long accepted = 0;
            int errors = 0, unavailable = 0;
            for (var n = 0; Stopwatch.GetTimestamp() < end; n++)
            {
                var plan = workload.Next(random, string.Create(CultureInfo.InvariantCulture, $"c{w:D3}-{n:D9}"));
                var sent = Stopwatch.GetTimestamp();
                var decide = await Http.DecideAsync(client, workload.DecideBody(plan), cancellationToken);
                var answered = Stopwatch.GetTimestamp();
                var inWindow = answered >= measureStart && answered < end;
                if (decide is not null)
                {
                    if (inWindow)
                    {
                        errors++;
                        unavailable += decide == "HTTP 503" ? 1 : 0;
                        errorKinds.AddOrUpdate(decide, 1, (_, k) => k + 1);
                    }
                    await Task.Delay(10, cancellationToken); // An unavailable server must not turn this into a hot loop.
                    continue;
                }
                if (inWindow)
                {
                    decides.Add(answered - sent);
                }
                var (error, result) = await Http.SignalsAsync(client, SoakWorkload.SignalBody(plan), cancellationToken);
                var acknowledged = Stopwatch.GetTimestamp();
                if (acknowledged < measureStart || acknowledged >= end)
                {
                    continue;
                }
                if (error is not null)
                {
                    errors++;
                    unavailable += error == "HTTP 503" ? 1 : 0;
                    errorKinds.AddOrUpdate(error, 1, (_, k) => k + 1);
                    await Task.Delay(10, cancellationToken);
                    continue;
                }
                batches.Add(acknowledged - answered);
                accepted += result!.Accepted;
            }
            return (decides, batches, accepted, errors, unavailable);
        }, cancellationToken)).ToArray();

        using var cpu = new CpuSampler(server);
        await DelayUntilAsync(measureStart, cancellationToken);
        cpu.Start();
        await DelayUntilAsync(end, cancellationToken);
        var cpuUse = cpu.Stop();
        var results = await Task.WhenAll(workers);
        var turns = (await ServerMonitor.ScrapeAsync(scraper, cancellationToken)).Turns - turnsBefore;
        var seconds = settings.CapacityDuration.TotalSeconds;
        var decideTicks = results.SelectMany(r => r.decides).ToArray();
        var batchTicks = results.SelectMany(r => r.batches).ToArray();
        return new CapacityResult(settings.CapacityClients, settings.CapacityWarmup.TotalSeconds, seconds,
            decideTicks.Length / seconds, results.Sum(r => r.accepted) / seconds,
            LatencySummary.FromTicks(decideTicks), LatencySummary.FromTicks(batchTicks),
            results.Sum(r => r.errors), results.Sum(r => r.unavailable), Kinds(errorKinds), cpuUse, turns);
    }

    internal static string? Kinds(ConcurrentDictionary<string, int> kinds)
        => kinds.IsEmpty ? null : string.Join("; ", kinds.OrderByDescending(k => k.Value).Select(k => $"{k.Key} ×{k.Value}"));

    internal static async Task DelayUntilAsync(long timestamp, CancellationToken cancellationToken)
    {
        var remaining = timestamp - Stopwatch.GetTimestamp();
        if (remaining > 0)
        {
            await Task.Delay(TimeSpan.FromSeconds(remaining / (double)Stopwatch.Frequency), cancellationToken);
        }
    }

    private static SoakVerdict Judge(IReadOnlyList<SoakMinute> minutes, IReadOnlyList<ServerSample> samples, int totalMinutes)
    {
        // The first two minutes fill the caches and the open windows; judge what follows when there is enough of it.
        var spreadFrom = totalMinutes >= 4 ? 2 : 0;
        var slopeFrom = Math.Max(spreadFrom, totalMinutes - 5);
        var steady = samples.Where(s => s.Seconds >= spreadFrom * 60 && !double.IsNaN(s.Memory.RssMiB)).ToList();
        var tail = samples.Where(s => s.Seconds >= slopeFrom * 60 && !double.IsNaN(s.Memory.RssMiB)).ToList();
        var (rssSlope, rssError) = Fit(tail.Select(s => (X: s.Seconds / 60, Y: s.Memory.RssMiB)).ToList());
        var anonSlope = Fit(tail.Select(s => (X: s.Seconds / 60, Y: s.Memory.RssAnonMiB)).ToList()).Slope;
        var floorSlope = Fit(minutes.Where(m => m.Minute >= slopeFrom && double.IsFinite(m.RssMinMiB)).Select(m => (X: (double)m.Minute, Y: m.RssMinMiB)).ToList()).Slope;
        // Under 4 minutes there is no steady part: the open windows are still filling the heap.
        bool? flat = totalMinutes < 4 ? null : double.IsFinite(rssSlope) && rssSlope - (2 * rssError) < SoakVerdict.FlatSlopeMiBPerMinute
            && (!double.IsFinite(floorSlope) || floorSlope < SoakVerdict.FlatSlopeMiBPerMinute);
        var steadyMinutes = minutes.Where(m => m.Minute >= spreadFrom && m.Decide.Count > 0).ToList();
        var p99 = steadyMinutes.Select(m => m.Decide.P99Ms).Order().ToList();
        var signalP99 = steadyMinutes.Select(m => m.Signals.P99Ms).Where(double.IsFinite).Order().ToList();
        var median = Median(p99);
        string trend;
        if (p99.Count < 2)
        {
            trend = "too short to tell";
        }
        else
        {
            // Rising: the fitted line climbs by more than half the median over the steady part. Spiky: a minute above 3× the median.
            var line = Fit(steadyMinutes.Select((m, i) => (X: (double)i, Y: m.Decide.P99Ms)).ToList()).Slope;
            var rise = line * (steadyMinutes.Count - 1);
            trend = rise > 0.5 * median ? $"rising (+{rise:0.00} ms over minutes {spreadFrom + 1}–{totalMinutes})"
                : p99[^1] > 3 * median ? $"steady with a spike (worst minute {p99[^1]:0.00} ms, {p99[^1] / median:0.0}× the median)"
                : "steady";
        }
        return new SoakVerdict(slopeFrom, rssSlope, rssError, floorSlope, anonSlope, spreadFrom,
            steady.Count == 0 ? double.NaN : steady.Min(s => s.Memory.RssMiB), steady.Count == 0 ? double.NaN : steady.Max(s => s.Memory.RssMiB), flat,
            p99.Count == 0 ? double.NaN : p99[0], median, p99.Count == 0 ? double.NaN : p99[^1], Median(signalP99), trend);
    }

    /// <summary>Least-squares slope of the points and its standard error; NaN for fewer than 2 (error: 3) points.</summary>
    private static (double Slope, double StandardError) Fit(List<(double X, double Y)> points)
    {
        points = points.Where(p => double.IsFinite(p.Y)).ToList();
        if (points.Count < 2)
        {
            return (double.NaN, double.NaN);
        }
        var mx = points.Average(p => p.X);
        var my = points.Average(p => p.Y);
        var sxx = points.Sum(p => (p.X - mx) * (p.X - mx));
        if (sxx == 0)
        {
            return (double.NaN, double.NaN);
        }
        var slope = points.Sum(p => (p.X - mx) * (p.Y - my)) / sxx;
        if (points.Count < 3)
        {
            return (slope, double.NaN);
        }
        var residuals = points.Sum(p => Math.Pow(p.Y - my - (slope * (p.X - mx)), 2));
        return (slope, Math.Sqrt(residuals / (points.Count - 2) / sxx));
    }

    private static double Median(List<double> sorted)
        => sorted.Count == 0 ? double.NaN : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "unknown";
        }
    }

    /// <summary>
    /// The last commit that changed src/ in the repository the CLI was built in (the server's code; bench changes do
    /// not move it), with "+dirty" when src/ has uncommitted changes.
    /// </summary>
    private static string SourceCommit(string cli)
    {
        var dir = Path.GetDirectoryName(cli);
        try
        {
            var commit = Git(dir!, "log -1 --format=%h -- :/src");
            if (string.IsNullOrEmpty(commit))
            {
                return "unknown";
            }
            var dirty = Git(dir!, "status --porcelain -- :/src");
            return string.IsNullOrWhiteSpace(dirty) ? commit : commit + "+dirty";
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return "unknown";
        }

        static string? Git(string directory, string arguments)
        {
            var info = new ProcessStartInfo("git", $"-C \"{directory}\" {arguments}") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            using var git = Process.Start(info);
            if (git is null)
            {
                return null;
            }
            var output = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return git.ExitCode == 0 ? output : null;
        }
    }
}

/// <summary>The two calls of a session; an error comes back as its kind (<c>HTTP 503</c>, an exception's name), success as null.</summary>
internal static class Http
{
    private static readonly Uri DecideUri = new($"v1/loops/{Workload.LoopId}/decide", UriKind.Relative);
    private static readonly Uri SignalsUri = new($"v1/loops/{Workload.LoopId}/signals", UriKind.Relative);

    public static async Task<string?> DecideAsync(HttpClient client, byte[] body, CancellationToken cancellationToken)
    {
        try
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var request = new HttpRequestMessage(HttpMethod.Post, DecideUri) { Content = content };
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
            return response.IsSuccessStatusCode ? null : "HTTP " + ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException && !cancellationToken.IsCancellationRequested)
        {
            return ex.GetType().Name;
        }
    }

    public static async Task<(string? Error, SignalBatchResult? Result)> SignalsAsync(HttpClient client, byte[] body, CancellationToken cancellationToken)
    {
        try
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var request = new HttpRequestMessage(HttpMethod.Post, SignalsUri) { Content = content };
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return ("HTTP " + ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture), null);
            }
            var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            using var doc = JsonDocument.Parse(bytes);
            return (null, FlywheelJson.Read<SignalBatchResult>(doc.RootElement));
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException or JsonException && !cancellationToken.IsCancellationRequested)
        {
            return (ex.GetType().Name, null);
        }
    }
}

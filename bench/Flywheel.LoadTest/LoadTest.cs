using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Flywheel.Core;

namespace Flywheel.LoadTest;

/// <summary>The whole run: for each durability setting a fresh server, its decide runs, then its signal runs.</summary>
internal sealed record LoadReport(
    MachineInfo Machine,
    string Command,
    Settings Settings,
    IReadOnlyList<DecideResult> Decide,
    IReadOnlyList<SignalResult> Signals,
    IReadOnlyList<ServerRun> Servers);

internal sealed record MachineInfo(string Cpu, int Cores, string Os, string Runtime);

/// <summary>What the server left behind: its data size and the last lines it printed.</summary>
internal sealed record ServerRun(string Durability, long DataBytes, double TotalSeconds);

internal static class LoadTest
{
    private const int DistinctDecideBodies = 1_024;

    public static async Task<LoadReport> RunAsync(Settings settings, TextWriter log, CancellationToken cancellationToken)
    {
        var decide = new List<DecideResult>();
        var signals = new List<SignalResult>();
        var servers = new List<ServerRun>();
        var bodies = Workload.DecideBodies(DistinctDecideBodies, settings.Seed);
        log.WriteLine($"# {bodies.Length} distinct decide bodies, {bodies.Average(b => b.Length):0} bytes on average; CLI {settings.Cli}");
        foreach (var durability in settings.Durabilities)
        {
            var started = Stopwatch.GetTimestamp();
            await using var server = await ServerProcess.StartAsync(settings.Cli, durability, settings.KeepData, log, cancellationToken);
            using var client = CreateClient(server.BaseAddress, settings.Connections, settings.RequestTimeout);
            try
            {
                await PutLoopAsync(client, settings.WindowSeconds, cancellationToken);
                await PrewarmAsync(client, bodies, settings.Prewarm, log, cancellationToken);
                foreach (var rate in settings.Rates)
                {
                    log.WriteLine($"# [{durability}] decide at {rate}/s: {settings.DecideWarmup.TotalSeconds:0.#} s warm-up + {settings.DecideDuration.TotalSeconds:0.#} s");
                    var result = await DecideLoad.RunAsync(client, server, durability, bodies, rate, settings.DecideWarmup, settings.DecideDuration, settings.TraceSlowMs, log, cancellationToken);
                    log.WriteLine($"#   achieved {result.AchievedRate:0}/s, p50 {result.Latency.P50Ms:0.000} ms, p99 {result.Latency.P99Ms:0.000} ms, p99.9 {result.Latency.P999Ms:0.000} ms, max {result.Latency.MaxMs:0.000} ms, errors {result.Errors}{(result.ErrorKinds is null ? "" : $" ({result.ErrorKinds})")}; send lag p99 {result.SendLag.P99Ms:0.000} ms; CPU {result.Cpu}");
                    decide.Add(result);
                    await Task.Delay(500, cancellationToken); // Let the writer drain before the next rate.
                }

                var decisions = new DecisionPicker(await CreateDecisionsAsync(client, settings, log, cancellationToken), settings.SequentialSignals);
                foreach (var batch in settings.BatchSizes)
                {
                    log.WriteLine($"# [{durability}] signals in batches of {batch}, {settings.Senders} senders: {settings.SignalWarmup.TotalSeconds:0.#} s warm-up + {settings.SignalDuration.TotalSeconds:0.#} s");
                    var result = await SignalLoad.RunAsync(client, server, durability, batch, settings.Senders, decisions,
                        settings.SignalWarmup, settings.SignalDuration, settings.SignalIds, settings.Seed, cancellationToken);
                    log.WriteLine($"#   {result.SignalsPerSecond:0} acknowledged signals/s ({result.BatchesPerSecond:0} batches/s), batch p50 {result.Latency.P50Ms:0.000} ms, p99 {result.Latency.P99Ms:0.000} ms, errors {result.Errors}{(result.ErrorKinds is null ? "" : $" ({result.ErrorKinds})")}, duplicates {result.Duplicates}, orphaned {result.Orphaned}, late {result.Late}; CPU {result.Cpu}");
                    signals.Add(result);
                    await Task.Delay(500, cancellationToken);
                }
            }
            catch (Exception ex) when (ex is InvalidOperationException or HttpRequestException)
            {
                throw new InvalidOperationException($"{ex.Message}{Environment.NewLine}server output (last lines):{Environment.NewLine}{server.Tail}", ex);
            }
            servers.Add(new ServerRun(durability, server.DataBytes(), Stopwatch.GetElapsedTime(started).TotalSeconds));
        }
        return new LoadReport(Machine(), CommandLine(), settings, decide, signals, servers);
    }

    internal static HttpClient CreateClient(Uri baseAddress, int connections, TimeSpan timeout)
    {
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = connections,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
            ConnectTimeout = TimeSpan.FromSeconds(5),
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
        };
        return new HttpClient(handler, disposeHandler: true)
        {
            BaseAddress = baseAddress,
            Timeout = timeout,
            DefaultRequestVersion = HttpVersion.Version11,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
    }

    internal static async Task PutLoopAsync(HttpClient client, double windowSeconds, CancellationToken cancellationToken)
    {
        using var content = new StringContent(Workload.LoopConfigJson(windowSeconds), Encoding.UTF8, "application/json");
        using var response = await client.PutAsync(new Uri($"v1/loops/{Workload.LoopId}", UriKind.Relative), content, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"PUT /v1/loops/{Workload.LoopId} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }
    }

    private static async Task<byte[]> PostAsync(HttpClient client, string path, byte[] body, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await client.PostAsync(new Uri(path, UriKind.Relative), content, cancellationToken);
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST /{path} answered {(int)response.StatusCode}: {Encoding.UTF8.GetString(bytes)}");
        }
        return bytes;
    }

    /// <summary>Closed-loop decides (16 at a time) to JIT both sides and open connections; checks the answer's shape once.</summary>
    internal static async Task PrewarmAsync(HttpClient client, byte[][] bodies, TimeSpan duration, TextWriter log, CancellationToken cancellationToken)
    {
        var path = $"v1/loops/{Workload.LoopId}/decide";
        using (var doc = JsonDocument.Parse(await PostAsync(client, path, bodies[0], cancellationToken)))
        {
            var decision = FlywheelJson.Read<Decision>(doc.RootElement);
            if (decision.Ranking.Count != Workload.ActionsPerDecision)
            {
                throw new InvalidOperationException($"the decide answer ranks {decision.Ranking.Count} actions; expected {Workload.ActionsPerDecision}");
            }
        }
        var end = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var count = 0;
        var workers = Enumerable.Range(0, 16).Select(w => Task.Run(async () =>
        {
            for (var i = w; Stopwatch.GetTimestamp() < end && i < 1_000_000; i += 16)
            {
                await PostAsync(client, path, bodies[i % bodies.Length], cancellationToken);
                Interlocked.Increment(ref count);
            }
        }, cancellationToken));
        await Task.WhenAll(workers);
        log.WriteLine($"# pre-warm: {count} closed-loop decides in {duration.TotalSeconds:0.#} s");
    }

    /// <summary>The decisions signals will name: client-chosen ids, created 8 at a time before the signal runs.</summary>
    private static async Task<string[]> CreateDecisionsAsync(HttpClient client, Settings settings, TextWriter log, CancellationToken cancellationToken)
    {
        const string prefix = "sig-d-";
        var bodies = Workload.DecideBodies(settings.SignalDecisions, settings.Seed + 1, prefix);
        var path = $"v1/loops/{Workload.LoopId}/decide";
        var next = -1;
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < bodies.Length)
            {
                await PostAsync(client, path, bodies[i], cancellationToken);
            }
        }, cancellationToken)));
        log.WriteLine($"# created {bodies.Length} decisions for the signal runs in {Stopwatch.GetElapsedTime(started).TotalSeconds:0.0} s");
        return Enumerable.Range(0, bodies.Length).Select(i => Workload.PoolDecisionId(prefix, i)).ToArray();
    }

    internal static MachineInfo Machine()
    {
        var cpu = "unknown";
        try
        {
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? cpu;
        }
        catch (IOException)
        {
            // Not Linux.
        }
        catch (UnauthorizedAccessException)
        {
            // Not readable.
        }
        return new MachineInfo(cpu, Environment.ProcessorCount, RuntimeInformation.OSDescription, RuntimeInformation.FrameworkDescription);
    }

    internal static string CommandLine()
        => string.Join(' ', Environment.GetCommandLineArgs().Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"'{a}'" : a));
}

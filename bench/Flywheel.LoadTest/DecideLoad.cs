using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;

namespace Flywheel.LoadTest;

/// <summary>One fixed-rate decide run.</summary>
internal sealed record DecideResult(
    string Durability,
    int TargetRate,
    double AchievedRate,
    int Requests,
    int Errors,
    string? ErrorKinds,
    LatencySummary Latency,
    LatencySummary SendLag,
    CpuUse Cpu,
    double MeasuredSeconds);

/// <summary>
/// Open-loop decide load: request i is due at t0 + i / rate, whatever happened to earlier requests, and its latency
/// runs from that due time to the last byte of the answer. A slow server therefore shows as latency (and as a lower
/// achieved rate), never as a quietly lower offered rate — the coordinated-omission trap. A dedicated thread paces the
/// sends with nanosleep (no spinning: the server needs the other core); its own lateness is reported as "send lag",
/// and is part of every latency figure.
/// </summary>
internal static class DecideLoad
{
    public static async Task<DecideResult> RunAsync(HttpClient client, ServerProcess server, string durability, byte[][] bodies, int rate,
        TimeSpan warmup, TimeSpan duration, double traceSlowMs, TextWriter log, CancellationToken cancellationToken)
    {
        var warm = (int)Math.Round(rate * warmup.TotalSeconds);
        var measured = Math.Max(1, (int)Math.Round(rate * duration.TotalSeconds));
        var total = warm + measured;
        var latency = new long[total];   // due → answer; -1 for an error
        var done = new long[total];      // when the answer arrived
        var lag = new long[total];       // due → actually handed to HttpClient
        var tasks = new Task[total];
        var errorKinds = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var uri = new Uri($"v1/loops/{Workload.LoopId}/decide", UriKind.Relative);
        var period = Stopwatch.Frequency / (double)rate;

        using var cpu = new CpuSampler(server);
        var scheduled = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        var pacer = new Thread(() =>
        {
            try
            {
                var t0 = Stopwatch.GetTimestamp() + (Stopwatch.Frequency / 100);
                for (var i = 0; i < total && !cancellationToken.IsCancellationRequested; i++)
                {
                    var due = t0 + (long)(i * period);
                    if (i == warm)
                    {
                        // CPU accounting for the measured part only (reading /proc takes tens of µs: done ahead of time).
                        cpu.Start();
                    }
                    long now;
                    while ((now = Stopwatch.GetTimestamp()) < due)
                    {
                        NativeMethods.SleepTicks(due - now);
                    }
                    lag[i] = now - due;
                    tasks[i] = SendAsync(client, uri, bodies[i % bodies.Length], i, due, latency, done, errorKinds, cancellationToken);
                }
                scheduled.SetResult(t0 + (long)(warm * period));
            }
            catch (Exception ex)
            {
                scheduled.SetException(ex);
            }
        })
        { IsBackground = true, Name = "decide pacer" };
        pacer.Start();
        var measureStart = await scheduled.Task;
        for (var i = 0; i < total; i++)
        {
            tasks[i] ??= Task.CompletedTask;
        }
        await Task.WhenAll(tasks);
        var cpuUse = cpu.Stop();

        var ok = new List<long>(measured);
        long lastDone = 0;
        var errors = 0;
        for (var i = warm; i < total; i++)
        {
            if (latency[i] >= 0 && done[i] != 0)
            {
                ok.Add(latency[i]);
                lastDone = Math.Max(lastDone, done[i]);
            }
            else
            {
                errors++;
            }
        }
        if (traceSlowMs > 0)
        {
            TraceSlow(latency, warm, measureStart, period, traceSlowMs, log);
        }
        var measuredSeconds = lastDone > measureStart ? Stopwatch.GetElapsedTime(measureStart, lastDone).TotalSeconds : double.NaN;
        var summary = LatencySummary.FromTicks(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(ok));
        var lagSummary = LatencySummary.FromTicks(lag.AsSpan(warm));
        var kinds = errorKinds.IsEmpty ? null : string.Join("; ", errorKinds.OrderByDescending(k => k.Value).Select(k => $"{k.Key} ×{k.Value}"));
        return new DecideResult(durability, rate, ok.Count / measuredSeconds, measured, errors, kinds, summary, lagSummary, cpuUse, measuredSeconds);
    }

    /// <summary>Groups slow requests into bursts (gaps under 50 ms) and prints when each began, how long it lasted and its worst latency.</summary>
    private static void TraceSlow(long[] latency, int warm, long measureStart, double period, double thresholdMs, TextWriter log)
    {
        var threshold = (long)(thresholdMs * Stopwatch.Frequency / 1000);
        var gap = Stopwatch.Frequency / 20;
        // Wall-clock time of measureStart, to line bursts up with server-side traces (strace -tt and the like).
        var wallAtMeasureStart = TimeProvider.System.GetUtcNow() - Stopwatch.GetElapsedTime(measureStart);
        long burstStart = -1, burstEnd = -1, worst = 0;
        var count = 0;
        var bursts = 0;
        void Flush()
        {
            if (count > 0)
            {
                bursts++;
                log.WriteLine($"#     slow burst at {LatencySummary.Ms(burstStart - measureStart) / 1000:0.000} s ({wallAtMeasureStart + TimeSpan.FromMilliseconds(LatencySummary.Ms(burstStart - measureStart)):HH:mm:ss.fff} UTC): {count} requests over {LatencySummary.Ms(burstEnd - burstStart):0.0} ms, worst {LatencySummary.Ms(worst):0.00} ms");
            }
            count = 0;
            worst = 0;
        }
        for (var i = warm; i < latency.Length; i++)
        {
            if (latency[i] < threshold)
            {
                continue;
            }
            var due = measureStart + (long)((i - warm) * period);
            if (count > 0 && due - burstEnd > gap)
            {
                Flush();
            }
            if (count == 0)
            {
                burstStart = due;
            }
            burstEnd = due;
            worst = Math.Max(worst, latency[i]);
            count++;
        }
        Flush();
        log.WriteLine($"#     {bursts} bursts of decides slower than {thresholdMs:0.###} ms (errors not included)");
    }

    private static async Task SendAsync(HttpClient client, Uri uri, byte[] body, int i, long due, long[] latency, long[] done,
        ConcurrentDictionary<string, int> errorKinds, CancellationToken cancellationToken)
    {
        try
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = content };
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
            var end = Stopwatch.GetTimestamp();
            if (response.IsSuccessStatusCode)
            {
                latency[i] = end - due;
                done[i] = end;
            }
            else
            {
                latency[i] = -1;
                errorKinds.AddOrUpdate($"HTTP {(int)response.StatusCode}", 1, (_, n) => n + 1);
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
        {
            latency[i] = -1;
            errorKinds.AddOrUpdate(ex.GetType().Name, 1, (_, n) => n + 1);
        }
    }
}

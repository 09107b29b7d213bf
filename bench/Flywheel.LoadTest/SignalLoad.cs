using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Flywheel.Core;

namespace Flywheel.LoadTest;

/// <summary>One closed-loop signal run at one batch size.</summary>
internal sealed record SignalResult(
    string Durability,
    int BatchSize,
    int Senders,
    long Batches,
    long Acknowledged,
    double SignalsPerSecond,
    double BatchesPerSecond,
    LatencySummary Latency,
    int Errors,
    string? ErrorKinds,
    long Duplicates,
    long Orphaned,
    long Late,
    CpuUse Cpu,
    double MeasuredSeconds);

/// <summary>
/// Closed-loop signal throughput: N senders each post a batch, wait for the 202 (which promises the batch is committed),
/// and post the next. Every signal has a unique id and names one of the decisions created before the run. Counted:
/// the <c>accepted</c> figures of answers that arrive inside the measured window, after a warm-up.
/// </summary>
internal static class SignalLoad
{
    private const int MaxBatchesPerSender = 200_000;

    public static async Task<SignalResult> RunAsync(HttpClient client, ServerProcess server, string durability, int batchSize, int senders,
        DecisionPicker decisions, TimeSpan warmup, TimeSpan duration, bool withSignalIds, int seed, CancellationToken cancellationToken)
    {
        var uri = new Uri($"v1/loops/{Workload.LoopId}/signals", UriKind.Relative);
        var start = Stopwatch.GetTimestamp();
        var measureStart = start + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
        var end = measureStart + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var workers = new Task<SenderTotals>[senders];
        for (var s = 0; s < senders; s++)
        {
            var sender = s;
            workers[s] = Task.Run(() => SendLoopAsync(client, uri, batchSize, $"b{batchSize}-s{sender}-",
                decisions, new Random(seed + (sender * 7919) + batchSize), withSignalIds, measureStart, end, cancellationToken), cancellationToken);
        }

        using var cpu = new CpuSampler(server);
        await DelayUntilAsync(measureStart, cancellationToken);
        cpu.Start();
        await DelayUntilAsync(end, cancellationToken);
        var cpuUse = cpu.Stop();

        var totals = await Task.WhenAll(workers);
        var measuredSeconds = duration.TotalSeconds;
        var latencies = totals.SelectMany(t => t.Latencies.Take(t.Count)).ToArray();
        var errorKinds = totals.SelectMany(t => t.ErrorKinds).GroupBy(k => k.Key)
            .Select(g => $"{g.Key} ×{g.Sum(k => k.Value)}").ToList();
        var acknowledged = totals.Sum(t => t.Accepted);
        var batches = totals.Sum(t => (long)t.Count);
        return new SignalResult(durability, batchSize, senders, batches, acknowledged, acknowledged / measuredSeconds, batches / measuredSeconds,
            LatencySummary.FromTicks(latencies), totals.Sum(t => t.Errors), errorKinds.Count == 0 ? null : string.Join("; ", errorKinds),
            totals.Sum(t => t.Duplicates), totals.Sum(t => t.Orphaned), totals.Sum(t => t.Late),
            cpuUse, measuredSeconds);
    }

    private static async Task DelayUntilAsync(long timestamp, CancellationToken cancellationToken)
    {
        var remaining = timestamp - Stopwatch.GetTimestamp();
        if (remaining > 0)
        {
            await Task.Delay(TimeSpan.FromSeconds(remaining / (double)Stopwatch.Frequency), cancellationToken);
        }
    }

    private sealed class SenderTotals
    {
        public long[] Latencies { get; } = new long[MaxBatchesPerSender];
        public int Count { get; set; }
        public long Accepted { get; set; }
        public long Duplicates { get; set; }
        public long Orphaned { get; set; }
        public long Late { get; set; }
        public int Errors { get; set; }
        public Dictionary<string, int> ErrorKinds { get; } = new(StringComparer.Ordinal);

        public void Error(string kind)
        {
            Errors++;
            ErrorKinds[kind] = ErrorKinds.GetValueOrDefault(kind) + 1;
        }
    }

    private static async Task<SenderTotals> SendLoopAsync(HttpClient client, Uri uri, int batchSize, string idPrefix, DecisionPicker decisions,
        Random random, bool withSignalIds, long measureStart, long end, CancellationToken cancellationToken)
    {
        var totals = new SenderTotals();
        var buffer = new ArrayBufferWriter<byte>((batchSize * 128) + 64);
        await using var writer = new Utf8JsonWriter(buffer);
        long sequence = 0;
        while (totals.Count < MaxBatchesPerSender && !cancellationToken.IsCancellationRequested)
        {
            var sent = Stopwatch.GetTimestamp();
            if (sent >= end)
            {
                break;
            }
            Workload.WriteSignalBatch(buffer, writer, batchSize, idPrefix, ref sequence, decisions, random, withSignalIds);
            try
            {
                using var content = new ReadOnlyMemoryContent(buffer.WrittenMemory);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = content };
                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
                var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
                var received = Stopwatch.GetTimestamp();
                var inWindow = received >= measureStart && received < end;
                if (!response.IsSuccessStatusCode)
                {
                    if (inWindow)
                    {
                        totals.Error("HTTP " + ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture));
                    }
                    continue;
                }
                if (!inWindow)
                {
                    continue;
                }
                using var doc = JsonDocument.Parse(bytes);
                var result = FlywheelJson.Read<SignalBatchResult>(doc.RootElement);
                totals.Latencies[totals.Count++] = received - sent;
                totals.Accepted += result.Accepted;
                totals.Duplicates += result.Duplicates;
                totals.Orphaned += result.Orphaned;
                totals.Late += result.Late;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException or JsonException)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    throw;
                }
                totals.Error(ex.GetType().Name);
                await Task.Delay(10, cancellationToken); // A dead server must not turn this into a hot loop.
            }
        }
        return totals;
    }
}

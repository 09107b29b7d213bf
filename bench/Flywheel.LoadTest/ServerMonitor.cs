using System.Diagnostics;
using System.Globalization;

namespace Flywheel.LoadTest;

/// <summary>The server's memory as Linux sees it (<c>/proc/PID/status</c>), in MiB; NaN off Linux.</summary>
internal sealed record ProcessMemory(double RssMiB, double RssAnonMiB, double RssFileMiB, double PeakRssMiB, int Threads, int OpenFiles)
{
    public static readonly ProcessMemory Unknown = new(double.NaN, double.NaN, double.NaN, double.NaN, 0, 0);
}

/// <summary>
/// The engine's counters from <c>GET /metrics</c> (Prometheus text), summed over their tags. The server exports the
/// engine's meter and ASP.NET Core's; no runtime meter, so the GC heap is not among them.
/// </summary>
internal sealed record ServerCounters(
    double Decisions,
    double Signals,
    double RewardsByWindow,
    double RewardsBySignal,
    double LearnerUpdates,
    double Turns,
    double Late,
    double Orphaned,
    double Duplicates,
    double IngestQueueDepth,
    double ActiveConnections,
    double ScrapeMs)
{
    public static readonly ServerCounters Unknown = new(double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);
}

/// <summary>One look at the server, every sampling interval of the soak.</summary>
/// <param name="Seconds">Since the soak's first scheduled request.</param>
/// <param name="InFlight">The generator's sessions sent and not yet answered.</param>
/// <param name="Cpu">Cores used since the previous sample.</param>
/// <param name="WalBytes">The part of <paramref name="DataBytes"/> in SQLite's write-ahead log (<c>*-wal</c>).</param>
internal sealed record ServerSample(double Seconds, ProcessMemory Memory, ServerCounters Counters, long DataBytes, long WalBytes, int InFlight, CpuUse Cpu);

internal static class ServerMonitor
{
    public static long WalBytes(string dataDirectory)
    {
        try
        {
            return new DirectoryInfo(dataDirectory).EnumerateFiles("*-wal").Sum(f => f.Length);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    public static ProcessMemory ReadMemory(int pid)
    {
        try
        {
            double rss = double.NaN, anon = double.NaN, file = double.NaN, hwm = double.NaN;
            var threads = 0;
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    rss = KiB(line);
                }
                else if (line.StartsWith("RssAnon:", StringComparison.Ordinal))
                {
                    anon = KiB(line);
                }
                else if (line.StartsWith("RssFile:", StringComparison.Ordinal))
                {
                    file = KiB(line);
                }
                else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    hwm = KiB(line);
                }
                else if (line.StartsWith("Threads:", StringComparison.Ordinal))
                {
                    threads = int.Parse(line.AsSpan(8).Trim(), CultureInfo.InvariantCulture);
                }
            }
            var files = Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd").Count();
            return new ProcessMemory(rss, anon, file, hwm, threads, files);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return ProcessMemory.Unknown;
        }

        static double KiB(string line)
        {
            // "VmRSS:	  123456 kB"
            var value = line.AsSpan(line.IndexOf(':') + 1).Trim();
            var space = value.IndexOf(' ');
            return long.Parse(space < 0 ? value : value[..space], CultureInfo.InvariantCulture) / 1024.0;
        }
    }

    public static async Task<ServerCounters> ScrapeAsync(HttpClient client, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        string text;
        try
        {
            text = await client.GetStringAsync(new Uri("metrics", UriKind.Relative), cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return ServerCounters.Unknown;
        }
        var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        double decisions = 0, signals = 0, byWindow = 0, bySignal = 0, updates = 0, turns = 0, late = 0, orphaned = 0, duplicates = 0, queue = 0, connections = 0;
        foreach (var line in text.AsSpan().EnumerateLines())
        {
            if (line.IsEmpty || line[0] == '#')
            {
                continue;
            }
            var nameEnd = line.IndexOfAny('{', ' ');
            if (nameEnd <= 0)
            {
                continue;
            }
            var name = line[..nameEnd];
            var labels = line[nameEnd] == '{' ? line[(nameEnd + 1)..line.LastIndexOf('}')] : [];
            var rest = line[(line[nameEnd] == '{' ? line.LastIndexOf('}') + 1 : nameEnd)..].Trim();
            var valueEnd = rest.IndexOf(' '); // a timestamp may follow the value
            if (!double.TryParse(valueEnd < 0 ? rest : rest[..valueEnd], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                continue;
            }
            switch (name)
            {
                case "flywheel_decisions_total": decisions += value; break;
                case "flywheel_signals_total": signals += value; break;
                case "flywheel_learner_updates_total": updates += value; break;
                case "flywheel_turns_total": turns += value; break;
                case "flywheel_ingest_queue_depth": queue += value; break;
                case "kestrel_active_connections": connections += value; break;
                case "flywheel_rewards_total":
                    if (labels.Contains("closed_by=\"signal\"", StringComparison.Ordinal))
                    {
                        bySignal += value;
                    }
                    else
                    {
                        byWindow += value;
                    }
                    break;
                case "flywheel_signals_unjoined_total":
                    if (labels.Contains("outcome=\"late\"", StringComparison.Ordinal))
                    {
                        late += value;
                    }
                    else if (labels.Contains("outcome=\"orphaned\"", StringComparison.Ordinal))
                    {
                        orphaned += value;
                    }
                    else
                    {
                        duplicates += value;
                    }
                    break;
                default: break;
            }
        }
        return new ServerCounters(decisions, signals, byWindow, bySignal, updates, turns, late, orphaned, duplicates, queue, connections, ms);
    }
}

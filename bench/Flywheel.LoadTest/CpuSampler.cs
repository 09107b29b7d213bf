using System.Diagnostics;
using System.Globalization;

namespace Flywheel.LoadTest;

/// <summary>
/// CPU time of the server, of this process and of the whole machine (Linux <c>/proc/stat</c>) between two moments,
/// in cores. "Other" is what neither side used: builds or tests of someone else sharing the machine.
/// </summary>
internal sealed record CpuUse(double Server, double Client, double Other, double IoWait)
{
    public static readonly CpuUse Unknown = new(double.NaN, double.NaN, double.NaN, double.NaN);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"server {Server:0.00}, client {Client:0.00}, other {Other:0.00}, iowait {IoWait:0.00} cores");
}

internal sealed class CpuSampler : IDisposable
{
    private readonly ServerProcess _server;
    private readonly Process _self = Process.GetCurrentProcess();
    private TimeSpan _server0;
    private TimeSpan _client0;
    private (long Busy, long IoWait, long Total)? _machine0;
    private long _wall0;

    public CpuSampler(ServerProcess server) => _server = server;

    public void Start()
    {
        _server0 = _server.CpuTime;
        _self.Refresh();
        _client0 = _self.TotalProcessorTime;
        _machine0 = Machine();
        _wall0 = Stopwatch.GetTimestamp();
    }

    public CpuUse Stop()
    {
        if (_wall0 == 0)
        {
            return CpuUse.Unknown;
        }
        var seconds = Stopwatch.GetElapsedTime(_wall0).TotalSeconds;
        var server = (_server.CpuTime - _server0).TotalSeconds / seconds;
        _self.Refresh();
        var client = (_self.TotalProcessorTime - _client0).TotalSeconds / seconds;
        var machine1 = Machine();
        if (_machine0 is not { } m0 || machine1 is not { } m1 || m1.Total <= m0.Total)
        {
            return new CpuUse(server, client, double.NaN, double.NaN);
        }
        var cores = Environment.ProcessorCount;
        var total = (double)(m1.Total - m0.Total);
        var busy = (m1.Busy - m0.Busy) / total * cores;
        var ioWait = (m1.IoWait - m0.IoWait) / total * cores;
        return new CpuUse(server, client, Math.Max(0, busy - server - client), ioWait);
    }

    /// <summary>The first line of /proc/stat: busy, iowait and total jiffies over all cores; null off Linux.</summary>
    private static (long Busy, long IoWait, long Total)? Machine()
    {
        try
        {
            using var reader = new StreamReader("/proc/stat");
            var line = reader.ReadLine();
            if (line is null || !line.StartsWith("cpu ", StringComparison.Ordinal))
            {
                return null;
            }
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8)
                .Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
            // user nice system idle iowait irq softirq steal
            var total = fields.Sum();
            var idle = fields[3];
            var ioWait = fields.Length > 4 ? fields[4] : 0;
            return (total - idle - ioWait, ioWait, total);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    public void Dispose() => _self.Dispose();
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Flywheel.LoadTest;

/// <summary>
/// The soak's open loop: session i is due at t0 + i / rate whatever happened before (coordinated-omission-safe, as in
/// <see cref="DecideLoad"/>): its decide's latency runs from that due time to the end of the answer; its signal batch
/// is sent as soon as the decide is answered, and its latency runs from then. A monitor samples the server every
/// <see cref="SoakSettings.SampleInterval"/>.
/// </summary>
internal sealed class OpenLoopSoak
{
    private readonly HttpClient _client;
    private readonly HttpClient _scraper;
    private readonly ServerProcess _server;
    private readonly SoakWorkload _workload;
    private readonly SoakSettings _settings;
    private readonly double _rate;
    private readonly TextWriter _log;
    private readonly int _total;
    private readonly double _sessionsPerMinute;

    // Per session, by index; a zero "done" means no successful answer.
    private readonly long[] _decideLatency;
    private readonly long[] _decideDone;
    private readonly long[] _batchLatency;
    private readonly long[] _batchDone;
    private readonly int[] _accepted;
    private readonly long[] _lag;

    // Per minute of scheduled time.
    private readonly int[] _decideErrors;
    private readonly int[] _signalErrors;
    private readonly int[] _unavailable;
    private readonly ConcurrentDictionary<string, int> _errorKinds = new(StringComparer.Ordinal);
    private long _duplicates;
    private long _orphaned;
    private long _late;
    private int _inFlight;

    public OpenLoopSoak(HttpClient client, HttpClient scraper, ServerProcess server, SoakWorkload workload, SoakSettings settings, double rate, TextWriter log)
    {
        _client = client;
        _scraper = scraper;
        _server = server;
        _workload = workload;
        _settings = settings;
        _rate = rate;
        _log = log;
        _sessionsPerMinute = rate * 60;
        _total = (int)Math.Round(_sessionsPerMinute * settings.Minutes);
        _decideLatency = new long[_total];
        _decideDone = new long[_total];
        _batchLatency = new long[_total];
        _batchDone = new long[_total];
        _accepted = new int[_total];
        _lag = new long[_total];
        _decideErrors = new int[settings.Minutes];
        _signalErrors = new int[settings.Minutes];
        _unavailable = new int[settings.Minutes];
    }

    public async Task<(IReadOnlyList<SoakMinute> Minutes, IReadOnlyList<ServerSample> Samples, SoakTotals Totals, IReadOnlyList<ServerLine> ServerLog)> RunAsync(CancellationToken cancellationToken)
    {
        var period = Stopwatch.Frequency / _rate;
        var t0 = Stopwatch.GetTimestamp() + (Stopwatch.Frequency / 10);
        _log.WriteLine($"# soak: {_total:N0} sessions at {_rate:0.#}/s over {_settings.Minutes} min (decide, then 1–3 signals); reward window {_settings.WindowSeconds:0.#} s");
        using var monitorStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var monitor = MonitorAsync(t0, monitorStop.Token);

        var paced = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var pacer = new Thread(() =>
        {
            try
            {
                var random = new Random(_settings.Seed);
                for (var i = 0; i < _total && !cancellationToken.IsCancellationRequested; i++)
                {
                    var plan = _workload.Next(random, "s" + i.ToString("D9", CultureInfo.InvariantCulture));
                    var due = t0 + (long)(i * period);
                    long now;
                    while ((now = Stopwatch.GetTimestamp()) < due)
                    {
                        NativeMethods.SleepTicks(due - now);
                    }
                    _lag[i] = now - due;
                    Interlocked.Increment(ref _inFlight);
                    _ = SessionAsync(i, due, plan, cancellationToken);
                }
                paced.SetResult();
            }
            catch (Exception ex)
            {
                paced.SetException(ex);
            }
        })
        { IsBackground = true, Name = "soak pacer" };
        pacer.Start();
        await paced.Task;
        // Every request has the client's timeout, so this ends.
        while (Volatile.Read(ref _inFlight) > 0)
        {
            await Task.Delay(50, cancellationToken);
        }
        var samples = await monitor;
        var lines = _server.LinesSince(t0).Select(l => new ServerLine(Math.Round(LatencySummary.Ms(l.At - t0) / 1000, 3), l.Line)).ToList();
        return (Minutes(t0, samples), samples, Totals(), lines);
    }

    private async Task SessionAsync(int i, long due, SessionPlan plan, CancellationToken cancellationToken)
    {
        var minute = Math.Min((int)(i / _sessionsPerMinute), _settings.Minutes - 1);
        try
        {
            var error = await Http.DecideAsync(_client, _workload.DecideBody(plan), cancellationToken);
            var answered = Stopwatch.GetTimestamp();
            if (error is not null)
            {
                Error(_decideErrors, minute, error);
                return; // No decision, nothing to signal.
            }
            _decideLatency[i] = answered - due;
            _decideDone[i] = answered;
            var (signalError, result) = await Http.SignalsAsync(_client, SoakWorkload.SignalBody(plan), cancellationToken);
            var acknowledged = Stopwatch.GetTimestamp();
            if (signalError is not null)
            {
                Error(_signalErrors, minute, signalError);
                return;
            }
            _batchLatency[i] = acknowledged - answered;
            _batchDone[i] = acknowledged;
            _accepted[i] = result!.Accepted;
            if (result.Duplicates + result.Orphaned + result.Late > 0)
            {
                Interlocked.Add(ref _duplicates, result.Duplicates);
                Interlocked.Add(ref _orphaned, result.Orphaned);
                Interlocked.Add(ref _late, result.Late);
            }
        }
        catch (OperationCanceledException)
        {
            // The run was cancelled.
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private void Error(int[] perMinute, int minute, string kind)
    {
        Interlocked.Increment(ref perMinute[minute]);
        if (kind == "HTTP 503")
        {
            Interlocked.Increment(ref _unavailable[minute]);
        }
        _errorKinds.AddOrUpdate(kind, 1, (_, n) => n + 1);
    }

    /// <summary>Samples at t0, then every interval through the soak's end; logs each sample, and a summary at each minute's end.</summary>
    private async Task<List<ServerSample>> MonitorAsync(long t0, CancellationToken cancellationToken)
    {
        var samples = new List<ServerSample>();
        var interval = _settings.SampleInterval.TotalSeconds;
        var count = (int)Math.Floor(_settings.Minutes * 60 / interval + 1e-9);
        using var cpu = new CpuSampler(_server);
        try
        {
            for (var k = 0; k <= count; k++)
            {
                var at = t0 + (long)(k * interval * Stopwatch.Frequency);
                await SoakTest.DelayUntilAsync(at, cancellationToken);
                var cpuUse = k == 0 ? CpuUse.Unknown : cpu.Stop();
                cpu.Start();
                var memory = ServerMonitor.ReadMemory(_server.ProcessId);
                var counters = await ServerMonitor.ScrapeAsync(_scraper, cancellationToken);
                var sample = new ServerSample(k * interval, memory, counters, _server.DataBytes(), ServerMonitor.WalBytes(_server.DataDirectory), Volatile.Read(ref _inFlight), cpuUse);
                samples.Add(sample);
                _log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"#   {sample.Seconds,5:0} s: RSS {memory.RssMiB:0.0} MiB (anon {memory.RssAnonMiB:0.0}, file {memory.RssFileMiB:0.0}), threads {memory.Threads}, fds {memory.OpenFiles}, data {sample.DataBytes / 1048576.0:0.0} MiB (WAL {sample.WalBytes / 1048576.0:0.0}), in flight {sample.InFlight}, decisions {counters.Decisions:0}, rewards {counters.RewardsByWindow + counters.RewardsBySignal:0}, learned {counters.LearnerUpdates:0}, turns {counters.Turns:0}, queue {counters.IngestQueueDepth:0}, scrape {counters.ScrapeMs:0.0} ms, CPU {cpuUse}"));
                var seconds = k * interval;
                if (k > 0 && Math.Abs(seconds % 60) < 1e-9)
                {
                    var m = Summarize((int)(seconds / 60) - 1, t0, samples);
                    _log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"# minute {m.Minute + 1}: {m.DecidesPerSecond:0} decides/s, {m.SignalsPerSecond:0} signals/s; decide p50 {m.Decide.P50Ms:0.00} p99 {m.Decide.P99Ms:0.00} p99.9 {m.Decide.P999Ms:0.00} max {m.Decide.MaxMs:0.0} ms; batch p99 {m.Signals.P99Ms:0.00} ms; errors {m.DecideErrors + m.SignalErrors} (503: {m.Unavailable}); RSS {m.MemoryAtEnd.RssMiB:0.0} MiB"));
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Cancelled with the run.
        }
        return samples;
    }

    private List<SoakMinute> Minutes(long t0, List<ServerSample> samples)
        => Enumerable.Range(0, _settings.Minutes).Select(m => Summarize(m, t0, samples)).ToList();

    /// <summary>Minute <paramref name="m"/>: latencies of the sessions due in it; rates of the answers that arrived in it.</summary>
    private SoakMinute Summarize(int m, long t0, List<ServerSample> samples)
    {
        var first = (int)Math.Ceiling(m * _sessionsPerMinute);
        var last = Math.Min(_total, (int)Math.Ceiling((m + 1) * _sessionsPerMinute));
        var decide = new List<long>(Math.Max(0, last - first));
        var batch = new List<long>(Math.Max(0, last - first));
        for (var i = first; i < last; i++)
        {
            if (Volatile.Read(ref _decideDone[i]) != 0)
            {
                decide.Add(_decideLatency[i]);
            }
            if (Volatile.Read(ref _batchDone[i]) != 0)
            {
                batch.Add(_batchLatency[i]);
            }
        }
        var lag = _lag.AsSpan(first, last - first).ToArray();

        // Answers by arrival time; the last minute also takes the answers that came after the soak's end.
        var minuteTicks = 60L * Stopwatch.Frequency;
        var from = t0 + (m * minuteTicks);
        var to = m == _settings.Minutes - 1 ? long.MaxValue : from + minuteTicks;
        long decides = 0, signals = 0;
        for (var i = 0; i < _total; i++)
        {
            var d = Volatile.Read(ref _decideDone[i]);
            if (d >= from && d < to)
            {
                decides++;
            }
            var b = Volatile.Read(ref _batchDone[i]);
            if (b >= from && b < to)
            {
                signals += _accepted[i];
            }
        }
        var end = samples.LastOrDefault(s => s.Seconds <= ((m + 1) * 60) + 1e-6);
        var start = samples.LastOrDefault(s => s.Seconds <= (m * 60) + 1e-6);
        var around = samples.Where(s => s.Seconds >= (m * 60) - 1e-6 && s.Seconds <= ((m + 1) * 60) + 1e-6 && double.IsFinite(s.Memory.RssMiB)).ToList();
        var inMinute = samples.Where(s => s.Seconds > (m * 60) + 1e-6 && s.Seconds <= ((m + 1) * 60) + 1e-6 && double.IsFinite(s.Cpu.Server)).ToList();
        var cpu = inMinute.Count == 0 ? CpuUse.Unknown : new CpuUse(inMinute.Average(s => s.Cpu.Server), inMinute.Average(s => s.Cpu.Client), inMinute.Average(s => s.Cpu.Other), inMinute.Average(s => s.Cpu.IoWait));
        double Delta(Func<ServerCounters, double> f) => end is null || start is null ? double.NaN : f(end.Counters) - f(start.Counters);
        return new SoakMinute(m, decides / 60.0, signals / 60.0, LatencySummary.FromTicks(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(decide)),
            LatencySummary.FromTicks(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(batch)), LatencySummary.FromTicks(lag).P99Ms,
            _decideErrors[m], _signalErrors[m], _unavailable[m],
            Delta(c => c.RewardsByWindow), Delta(c => c.RewardsBySignal), Delta(c => c.LearnerUpdates), Delta(c => c.Turns),
            end?.Memory ?? ProcessMemory.Unknown,
            around.Count == 0 ? double.NaN : around.Min(s => s.Memory.RssMiB), around.Count == 0 ? double.NaN : around.Max(s => s.Memory.RssMiB),
            end?.DataBytes ?? 0, end?.WalBytes ?? 0, cpu);
    }

    private SoakTotals Totals()
    {
        var decide = new List<long>(_total);
        var batch = new List<long>(_total);
        long accepted = 0;
        for (var i = 0; i < _total; i++)
        {
            if (_decideDone[i] != 0)
            {
                decide.Add(_decideLatency[i]);
            }
            if (_batchDone[i] != 0)
            {
                batch.Add(_batchLatency[i]);
                accepted += _accepted[i];
            }
        }
        return new SoakTotals(_total, decide.Count, _decideErrors.Sum(), batch.Count, _signalErrors.Sum(), _unavailable.Sum(),
            accepted, _duplicates, _orphaned, _late, SoakTest.Kinds(_errorKinds),
            LatencySummary.FromTicks(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(decide)),
            LatencySummary.FromTicks(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(batch)));
    }
}

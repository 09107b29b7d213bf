using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Flywheel.LoadTest;

/// <summary>
/// One <c>flywheel serve</c> child process on 127.0.0.1, a free port and a fresh data directory; stopped with
/// SIGTERM (then killed if it lingers) and its directory deleted on dispose.
/// </summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private const int TailLines = 40;
    private const int MaxLogLines = 10_000;
    private readonly Process _process;
    private readonly Queue<string> _tail = new();
    private readonly List<(long At, string Line)> _log = [];
    private readonly bool _keepData;

    private ServerProcess(Process process, Uri baseAddress, string dataDirectory, bool keepData)
    {
        _process = process;
        BaseAddress = baseAddress;
        DataDirectory = dataDirectory;
        _keepData = keepData;
    }

    public Uri BaseAddress { get; }

    public string DataDirectory { get; }

    public int ProcessId => _process.Id;

    /// <summary>CPU time the server has used so far (user + system, all threads).</summary>
    public TimeSpan CpuTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    /// <summary>The last lines the server printed (for error messages).</summary>
    public string Tail
    {
        get
        {
            lock (_tail)
            {
                return string.Join(Environment.NewLine, _tail);
            }
        }
    }

    public static async Task<ServerProcess> StartAsync(string cli, string durability, bool keepData, TextWriter log, CancellationToken cancellationToken)
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "flywheel-loadtest-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dataDirectory);
        var port = FreeLoopbackPort();
        var url = $"http://127.0.0.1:{port}";
        var info = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (cli.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
        {
            info.FileName = DotnetHost();
            info.ArgumentList.Add(cli);
        }
        else
        {
            info.FileName = cli;
        }
        foreach (var a in new[] { "serve", "--data-dir", dataDirectory, "--urls", url, "--durability", durability })
        {
            info.ArgumentList.Add(a);
        }
        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {info.FileName}");
        var server = new ServerProcess(process, new Uri(url + "/"), dataDirectory, keepData);
        process.OutputDataReceived += (_, e) => server.Remember(e.Data);
        process.ErrorDataReceived += (_, e) => server.Remember(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        log.WriteLine($"# started flywheel serve (pid {process.Id}) on {url}, durability {durability}, data in {dataDirectory}");
        try
        {
            await server.WaitHealthyAsync(TimeSpan.FromSeconds(60), cancellationToken);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
        return server;
    }

    private void Remember(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_tail)
        {
            _tail.Enqueue(line);
            while (_tail.Count > TailLines)
            {
                _tail.Dequeue();
            }
            if (_log.Count < MaxLogLines)
            {
                _log.Add((Stopwatch.GetTimestamp(), line));
            }
        }
    }

    /// <summary>What the server printed at or after <paramref name="since"/> (a Stopwatch timestamp), with when (the first 10,000 lines of the run).</summary>
    public IReadOnlyList<(long At, string Line)> LinesSince(long since)
    {
        lock (_tail)
        {
            return _log.Where(l => l.At >= since).ToList();
        }
    }

    private async Task WaitHealthyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var start = Stopwatch.GetTimestamp();
        var attempts = 0;
        while (Stopwatch.GetElapsedTime(start) < timeout && attempts++ < 2_000)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"flywheel serve exited with code {_process.ExitCode} before it was healthy:{Environment.NewLine}{Tail}");
            }
            try
            {
                using var response = await client.GetAsync(new Uri("healthz", UriKind.Relative), cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // A slow first answer.
            }
            await Task.Delay(100, cancellationToken);
        }
        throw new TimeoutException($"flywheel serve did not answer /healthz within {timeout.TotalSeconds:0} s:{Environment.NewLine}{Tail}");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                if (NativeMethods.Terminate(_process.Id))
                {
                    using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(15));
                    try
                    {
                        await _process.WaitForExitAsync(wait.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        // Lingering: killed below.
                    }
                }
                if (!_process.HasExited)
                {
                    _process.Kill(entireProcessTree: true);
                    await _process.WaitForExitAsync();
                }
            }
        }
        finally
        {
            _process.Dispose();
            if (!_keepData)
            {
                try
                {
                    Directory.Delete(DataDirectory, recursive: true);
                }
                catch (IOException)
                {
                    // Best effort: it is a temp folder.
                }
            }
        }
    }

    /// <summary>Bytes in the data directory (the SQLite file, its WAL and snapshots).</summary>
    public long DataBytes()
        => Directory.Exists(DataDirectory)
            ? new DirectoryInfo(DataDirectory).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length)
            : 0;

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static string DotnetHost()
    {
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(host) && File.Exists(host))
        {
            return host;
        }
        var self = Environment.ProcessPath;
        if (self is not null && Path.GetFileNameWithoutExtension(self).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            return self;
        }
        return "dotnet";
    }
}

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Flywheel.TestUtils;

/// <summary><c>flywheel serve</c> as a child process, for tests that kill it.</summary>
public sealed class ServerProcess : IDisposable
{
    private readonly Process _process;

    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _log;

    private ServerProcess(Process process, Uri address, System.Collections.Concurrent.ConcurrentQueue<string> log)
    {
        _process = process;
        Address = address;
        _log = log;
    }

    /// <summary>What the server has written to stdout and stderr so far (the first 10,000 lines).</summary>
    public string Log => string.Join('\n', _log);

    public Uri Address { get; }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static Task<ServerProcess> StartAsync(string dataDirectory, int port, string durability = "process", params string[] extraArguments)
    {
        var cli = Path.Combine(AppContext.BaseDirectory, "flywheel.dll");
        var address = new Uri($"http://127.0.0.1:{port}");
        return StartAsync(new ProcessStartInfo("dotnet", [cli, "serve", "--data-dir", dataDirectory, "--urls", address.ToString().TrimEnd('/'), "--durability", durability, .. extraArguments]), address);
    }

    /// <summary>Starts <paramref name="start"/> (a server, its output captured) and waits until <paramref name="address"/> answers <c>/healthz</c>.</summary>
    public static async Task<ServerProcess> StartAsync(ProcessStartInfo start, Uri address)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        var process = Process.Start(start)!;
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        void Keep(string? line)
        {
            if (line is not null && log.Count < 10_000)
            {
                log.Enqueue(line);
            }
        }
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(2) };
        // A hang guard only: a loaded machine may take many seconds to start the server.
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < ChildProcess.HangGuard)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"flywheel serve exited with {process.ExitCode}:\n{string.Join('\n', log)}");
            }
            try
            {
                using var response = await http.GetAsync("/healthz");
                if (response.IsSuccessStatusCode)
                {
                    return new ServerProcess(process, address, log);
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            await Task.Delay(100);
        }
        process.Kill();
        throw new TimeoutException($"flywheel serve did not answer /healthz within {ChildProcess.HangGuard.TotalMinutes} minutes");
    }

    /// <summary>Whether the server process is still running.</summary>
    public bool IsRunning => !_process.HasExited;

    /// <summary>The server's resident memory now (Linux: VmRSS), in bytes.</summary>
    public long ResidentBytes() => ReadStatus("VmRSS:");

    /// <summary>The most resident memory the server has held (Linux: VmHWM), in bytes.</summary>
    public long PeakResidentBytes() => ReadStatus("VmHWM:");

    private long ReadStatus(string field)
    {
        var line = File.ReadLines($"/proc/{_process.Id}/status").First(l => l.StartsWith(field, StringComparison.Ordinal));
        return long.Parse(line[field.Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }

    /// <summary>SIGKILL: no shutdown code runs.</summary>
    public void Kill()
    {
        _process.Kill();
        _process.WaitForExit();
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Kill();
        }
        _process.Dispose();
    }
}

using System.Diagnostics;

namespace Flywheel.TestUtils;

/// <summary>Runs a program to its end and captures what it printed.</summary>
public static class ChildProcess
{
    /// <summary>Only stops a hang: a child that runs this long is killed and the test fails.</summary>
    public static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(10);

    /// <summary>Runs <paramref name="program"/> with <paramref name="args"/>; returns its exit code, stdout and stderr.</summary>
    public static async Task<(int ExitCode, string Out, string Error)> RunAsync(string program, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(program, args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        // Both streams at once: a child that fills one pipe while the other is being read would otherwise block.
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var guard = new CancellationTokenSource(HangGuard);
        try
        {
            await process.WaitForExitAsync(guard.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not end within {HangGuard.TotalMinutes} minutes");
        }
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Runs an assembly built beside the tests (<c>dotnet NAME.dll ARGS</c>).</summary>
    public static Task<(int ExitCode, string Out, string Error)> RunDotnetAsync(string assembly, params string[] args)
        => RunAsync("dotnet", [System.IO.Path.Combine(AppContext.BaseDirectory, assembly), .. args]);
}

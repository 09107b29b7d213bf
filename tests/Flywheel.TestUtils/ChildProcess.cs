using System.Diagnostics;

namespace Flywheel.TestUtils;

/// <summary>Runs a program to its end and captures what it printed.</summary>
public static class ChildProcess
{
    /// <summary>Only stops a hang: a child that runs this long is killed and the test fails.</summary>
    public static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(10);

    /// <summary>Runs <paramref name="program"/> with <paramref name="args"/>; returns its exit code, stdout and stderr.</summary>
    public static Task<(int ExitCode, string Out, string Error)> RunAsync(string program, params string[] args)
        => RunAsync(program, args, new Dictionary<string, string?>(), HangGuard);

    /// <summary>
    /// Runs <paramref name="program"/> with <paramref name="args"/>, the variables of <paramref name="environment"/> set
    /// (a null value removes one) and <paramref name="hangGuard"/> as the hang guard (for a build, say); returns its exit
    /// code, stdout and stderr.
    /// </summary>
    public static async Task<(int ExitCode, string Out, string Error)> RunAsync(
        string program, IReadOnlyList<string> args, IReadOnlyDictionary<string, string?> environment, TimeSpan hangGuard)
    {
        var start = new ProcessStartInfo(program, args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        using var process = Process.Start(start)!;
        // Both streams at once: a child that fills one pipe while the other is being read would otherwise block.
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var guard = new CancellationTokenSource(hangGuard);
        try
        {
            await process.WaitForExitAsync(guard.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not end within {hangGuard.TotalMinutes} minutes");
        }
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Runs an assembly built beside the tests (<c>dotnet NAME.dll ARGS</c>).</summary>
    public static Task<(int ExitCode, string Out, string Error)> RunDotnetAsync(string assembly, params string[] args)
        => RunAsync("dotnet", [System.IO.Path.Combine(AppContext.BaseDirectory, assembly), .. args]);
}

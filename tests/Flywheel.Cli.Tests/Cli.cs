using Microsoft.Extensions.Time.Testing;

namespace Flywheel.Cli.Tests;

/// <summary>Runs the command line in process, for every CLI test.</summary>
internal static class Cli
{
    /// <summary>
    /// Runs <c>flywheel</c> with <paramref name="args"/>; returns the exit code, stdout and stderr. The CLI's clock is a
    /// fake one that never moves, so no progress line ever depends on how fast the machine is.
    /// </summary>
    public static Task<(int Code, string Out, string Error)> RunAsync(params string[] args) => RunAsync(new FakeTimeProvider(), args);

    /// <summary>Runs <c>flywheel</c> with <paramref name="args"/> on the clock <paramref name="time"/>.</summary>
    public static async Task<(int Code, string Out, string Error)> RunAsync(TimeProvider time, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var context = new CliContext(stdout, stderr, Interactive: false, time);
        var code = await FlywheelCli.RunAsync(args, context, CancellationToken.None);
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Runs <c>flywheel</c> with <paramref name="args"/> and only the environment variables <paramref name="variables"/>.</summary>
    public static async Task<(int Code, string Out, string Error)> RunWithVariablesAsync(IReadOnlyDictionary<string, string> variables, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var context = new CliContext(stdout, stderr, Interactive: false, new FakeTimeProvider()) { Variables = name => variables.GetValueOrDefault(name) };
        var code = await FlywheelCli.RunAsync(args, context, CancellationToken.None);
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>The non-empty lines of <paramref name="text"/>.</summary>
    public static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>A clock that moves <paramref name="step"/> forward each time it is read: a run that is slow by design.</summary>
    public sealed class SteppingClock(TimeSpan step) : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Add(ref _ticks, step.Ticks);
    }
}

namespace Flywheel.Cli;

/// <summary>
/// When a plain progress line is due: every few seconds on the CLI's clock, and never within the first interval, so a
/// short run prints none. The clock is <see cref="CliContext.Time"/>, so tests on a fake clock never see a line.
/// </summary>
internal sealed class ProgressThrottle(TimeProvider time)
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(3);
    private readonly long _start = time.GetTimestamp();
    private TimeSpan _next = Interval;

    /// <summary>True when a line is due; the next one is then due an interval later.</summary>
    public bool Due()
    {
        var elapsed = time.GetElapsedTime(_start);
        if (elapsed < _next)
        {
            return false;
        }
        _next = elapsed + Interval;
        return true;
    }
}

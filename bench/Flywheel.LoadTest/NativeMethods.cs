using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Flywheel.LoadTest;

/// <summary>
/// The two libc calls .NET does not expose: a sub-millisecond sleep (Thread.Sleep rounds to whole milliseconds,
/// too coarse to pace 5,000 requests/s without spinning a core the server needs) and a polite SIGTERM.
/// </summary>
internal static partial class NativeMethods
{
    private const int SigTerm = 15;

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "nanosleep", SetLastError = true)]
    private static partial int NanoSleep(in TimeSpec request, IntPtr remaining);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    /// <summary>Sleeps about <paramref name="stopwatchTicks"/> (Linux: nanosleep, typically +50–80 µs late; elsewhere: whole ms or a yield).</summary>
    public static void SleepTicks(long stopwatchTicks)
    {
        if (stopwatchTicks <= 0)
        {
            return;
        }
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
        {
            var ns = (long)(stopwatchTicks * (1e9 / Stopwatch.Frequency));
            var request = new TimeSpec { Seconds = ns / 1_000_000_000, Nanoseconds = ns % 1_000_000_000 };
            _ = NanoSleep(in request, IntPtr.Zero); // EINTR: the caller re-checks the clock and sleeps again.
            return;
        }
        var ms = stopwatchTicks * 1000 / Stopwatch.Frequency;
        if (ms >= 1)
        {
            Thread.Sleep((int)ms);
        }
        else
        {
            Thread.Yield();
        }
    }

    /// <summary>Asks a process to stop (SIGTERM) so the host shuts down cleanly; false where that is not possible.</summary>
    public static bool Terminate(int pid)
        => (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) && Kill(pid, SigTerm) == 0;
}

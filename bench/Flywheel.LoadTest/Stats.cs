using System.Diagnostics;

namespace Flywheel.LoadTest;

/// <summary>Nearest-rank percentiles over latencies in Stopwatch ticks, reported in milliseconds.</summary>
internal sealed record LatencySummary(int Count, double P50Ms, double P99Ms, double P999Ms, double MaxMs, double MeanMs)
{
    public static readonly LatencySummary Empty = new(0, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);

    /// <summary>Sorts <paramref name="ticks"/> in place and summarizes it.</summary>
    public static LatencySummary FromTicks(Span<long> ticks)
    {
        if (ticks.IsEmpty)
        {
            return Empty;
        }
        ticks.Sort();
        double sum = 0;
        foreach (var t in ticks)
        {
            sum += t;
        }
        return new LatencySummary(ticks.Length, Ms(Rank(ticks, 0.50)), Ms(Rank(ticks, 0.99)), Ms(Rank(ticks, 0.999)), Ms(ticks[^1]), Ms(sum / ticks.Length));
    }

    private static long Rank(ReadOnlySpan<long> sorted, double q)
    {
        var index = (int)Math.Ceiling(q * sorted.Length) - 1;
        return sorted[Math.Clamp(index, 0, sorted.Length - 1)];
    }

    public static double Ms(double ticks) => ticks * 1000.0 / Stopwatch.Frequency;
}

namespace Flywheel.Server.Dashboard;

/// <summary>One time bucket of one model version: its mean reward and capture rate over the closed decisions it served.</summary>
internal readonly record struct SeriesPoint(DateTimeOffset At, int Version, long Decisions, double MeanReward, double CaptureRate);

/// <summary>
/// Reward and capture over time by model version, from one pass over the decision log's narrow columns (the same
/// read the health report makes). The log is cut into equal time buckets; each (bucket, version) with closed decisions
/// becomes a point, so a version's line starts when it began to serve.
/// </summary>
internal static class RewardSeries
{
    /// <summary>Time buckets across the log: enough to show a trend, few enough to keep the page small.</summary>
    public const int Buckets = 48;

    public static async Task<IReadOnlyList<SeriesPoint>> ReadAsync(IFlywheelStore store, string loop, DateTimeOffset? from, DateTimeOffset? to, CancellationToken cancellationToken)
    {
        if (from is not { } first || to is not { } last)
        {
            return [];
        }
        var span = Math.Max(1, (last - first).Ticks);
        // (bucket, version) → sums; a dictionary keeps it small whatever the log's size.
        var sums = new Dictionary<(int Bucket, int Version), (long N, double Reward, long Captured)>();
        await foreach (var o in store.ReadOutcomesAsync(loop, cancellationToken))
        {
            if (!o.IsClosed)
            {
                continue;
            }
            var bucket = (int)Math.Clamp((o.At - first).Ticks * Buckets / span, 0, Buckets - 1);
            var key = (bucket, o.ModelVersion);
            sums.TryGetValue(key, out var s);
            sums[key] = (s.N + 1, s.Reward + o.Reward, s.Captured + (o.Signals > 0 ? 1 : 0));
        }
        return [.. sums
            .OrderBy(p => p.Key.Version).ThenBy(p => p.Key.Bucket)
            .Select(p => new SeriesPoint(
                first + TimeSpan.FromTicks(span * ((2L * p.Key.Bucket) + 1) / (2L * Buckets)),
                p.Key.Version, p.Value.N, p.Value.Reward / p.Value.N, (double)p.Value.Captured / p.Value.N))];
    }
}

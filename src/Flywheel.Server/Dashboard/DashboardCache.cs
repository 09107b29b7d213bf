using System.Collections.Concurrent;

namespace Flywheel.Server.Dashboard;

/// <summary>
/// The dashboard's figures per loop, reused while the loop's counts (decisions, signals, rewards) have not moved and
/// for at most <see cref="MaxAge"/>: a health report reads the whole log, and an idle store (the demo's) or several
/// open browsers need not read it again on every refresh. The API's <c>/v1/loops/{loop}/health</c> is never cached.
/// </summary>
internal sealed class DashboardCache(TimeProvider time)
{
    /// <summary>The longest a report is reused even when nothing moved (time alone changes some windows).</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(60);

    private readonly ConcurrentDictionary<(string Store, string Loop), Entry> _entries = new();

    private sealed record Entry(LoopCounts Counts, DateTimeOffset At, HealthReport Health, IReadOnlyList<SeriesPoint>? Series);

    /// <summary>The loop's health report, and with <paramref name="withSeries"/> its reward series (else null).</summary>
    public async Task<(HealthReport Health, IReadOnlyList<SeriesPoint>? Series)> GetAsync(DashboardSource source, string loop, bool withSeries, CancellationToken cancellationToken)
    {
        var key = (source.Name, loop);
        var counts = await source.Engine.GetCountsAsync(loop, cancellationToken);
        var now = time.GetUtcNow();
        _entries.TryGetValue(key, out var cached);
        var fresh = cached is not null && cached.Counts == counts && now - cached.At < MaxAge;
        if (fresh && (!withSeries || cached!.Series is not null))
        {
            return (cached!.Health, withSeries ? cached.Series : null);
        }
        var health = fresh ? cached!.Health : await source.Engine.GetHealthAsync(loop, cancellationToken);
        IReadOnlyList<SeriesPoint>? series = fresh ? cached!.Series : null;
        if (withSeries)
        {
            series = source.Store() is { } store
                ? await RewardSeries.ReadAsync(store, loop, health.Evidence.Span.From, health.Evidence.Span.To, cancellationToken)
                : [];
        }
        _entries[key] = new Entry(counts, fresh ? cached!.At : now, health, series);
        return (health, series);
    }
}

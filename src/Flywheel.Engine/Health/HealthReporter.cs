using Flywheel.Core;
using Flywheel.Learning;
using Flywheel.Evaluation.Health;

namespace Flywheel.Engine;

/// <summary>
/// The health report of a loop (docs/health.md). It only reads: one narrow pass over the decision log, the user-level
/// signals, two samples of contexts for feature drift, the ledger, and the moments newly learned policies first
/// served (loop latency); then <see cref="HealthCalculator"/> does the arithmetic.
/// </summary>
internal sealed class HealthReporter(TimeProvider time, IFlywheelStore store)
{
    /// <summary>The newest rewards whose loop latency is measured.</summary>
    public const int LatencySample = 5000;

    public async ValueTask<HealthReport> ReportAsync(LoopRuntime runtime, CancellationToken cancellationToken)
    {
        var serving = runtime.Serving;
        var config = serving.Config;
        var counts = await store.CountAsync(runtime.Id, cancellationToken).ConfigureAwait(false);
        var turns = await store.LoadTurnsAsync(runtime.Id, cancellationToken).ConfigureAwait(false);
        var input = new HealthInput
        {
            Config = config,
            Now = time.GetUtcNow(),
            Counts = counts,
            Turns = turns,
            ModelExamples = serving.Policy.Examples,
        };
        // The decision log is the long read; the user-level signals and loop latency are read beside it on their own
        // connection, so on a machine with two cores the report takes about as long as the one pass. The context
        // samples come after it: their windows are placed by the log's first and last decisions.
        var side = Task.Run(() => ReadBesideLogAsync(runtime, cancellationToken).AsTask(), cancellationToken);
        try
        {
            await foreach (var outcome in store.ReadOutcomesAsync(runtime.Id, cancellationToken).ConfigureAwait(false))
            {
                input.Add(outcome);
            }
        }
        finally
        {
            // Never leave the side reads running past the report, even when the log read failed.
            await ((Task)side).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        var (visits, latency) = await side.ConfigureAwait(false);
        foreach (var visit in visits)
        {
            input.Add(visit);
        }
        input.OnlineLatencySeconds = latency;
        if (input.First is { } first && input.Last is { } last && FeatureDrifts.Windows(first, last) is var (baselineFrom, recentFrom, to))
        {
            var sample = HealthCalculator.ContextSample;
            var recent = await store.ReadContextsAsync(runtime.Id, recentFrom, to, sample, cancellationToken).ConfigureAwait(false);
            var baseline = await store.ReadContextsAsync(runtime.Id, baselineFrom, recentFrom, sample, cancellationToken).ConfigureAwait(false);
            if (recent.Count >= HealthCalculator.MinimumContextSample && baseline.Count >= HealthCalculator.MinimumContextSample)
            {
                input.RecentContexts = recent;
                input.BaselineContexts = baseline;
            }
        }
        var report = HealthCalculator.Compute(input);
        if (config.Generation is not null)
        {
            var figures = new GenerationFigures();
            await foreach (var generation in store.ReadGenerationsAsync(runtime.Id, DateTimeOffset.MinValue, DateTimeOffset.MaxValue, withText: false, cancellationToken).ConfigureAwait(false))
            {
                figures.Add(generation);
            }
            report = report with { Generation = figures.Compute(turns) };
        }
        return serving.Policy switch
        {
            IRankingPolicy ranker => report with { PositionBias = ranker.PositionBias(config) },
            IAbilityPolicy tutor => report with { Learners = tutor.Estimates.Health(time.GetUtcNow(), config.AbilitySettings) },
            _ => report,
        };
    }

    private async ValueTask<(List<UserVisit> Visits, IReadOnlyList<double> Latency)> ReadBesideLogAsync(LoopRuntime runtime, CancellationToken cancellationToken)
    {
        var visits = new List<UserVisit>();
        await foreach (var visit in store.ReadUserVisitsAsync(runtime.Id, cancellationToken).ConfigureAwait(false))
        {
            visits.Add(visit);
        }
        var latency = await OnlineLatencyAsync(runtime, cancellationToken).ConfigureAwait(false);
        return (visits, latency);
    }

    /// <summary>
    /// For each pair of consecutive serving marks, the rewards learned between them reached users at the second
    /// mark's first decision; the latency of each is that moment minus its first signal's arrival.
    /// </summary>
    private async ValueTask<IReadOnlyList<double>> OnlineLatencyAsync(LoopRuntime runtime, CancellationToken cancellationToken)
    {
        var marks = runtime.ServingLog.Snapshot();
        if (marks.Length < 2)
        {
            return [];
        }
        var through = marks[^1].LearnedThrough;
        var after = Math.Max(marks[0].LearnedThrough, through - LatencySample);
        var arrivals = await store.ReadRewardArrivalsAsync(runtime.Id, after, through, cancellationToken).ConfigureAwait(false);
        var latencies = new List<double>(arrivals.Count);
        var m = 1;
        foreach (var arrival in arrivals)
        {
            while (m < marks.Length && marks[m].LearnedThrough < arrival.Sequence)
            {
                m++;
            }
            if (m == marks.Length)
            {
                break;
            }
            if (arrival.Sequence > marks[m - 1].LearnedThrough)
            {
                latencies.Add(Math.Max(0, (marks[m].FirstServedAt - arrival.FirstSignalAt).TotalSeconds));
            }
        }
        return latencies;
    }
}

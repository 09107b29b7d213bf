using Flywheel.Core;
using Flywheel.Evaluation.Health;

namespace Flywheel.Engine;

/// <summary>
/// The health report of a loop (DESIGN §10). It only reads: one narrow pass over the decision log, the user-level
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
        // The decision log is the long read; the rest (user-level signals, context samples, loop latency) runs beside
        // it on its own connection, so on a machine with two cores the report takes about as long as the one pass.
        var side = Task.Run(() => ReadBesideLogAsync(runtime, counts, cancellationToken).AsTask(), cancellationToken);
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
        var (visits, recent, baseline, latency) = await side.ConfigureAwait(false);
        foreach (var visit in visits)
        {
            input.Add(visit);
        }
        input.RecentContexts = recent;
        input.BaselineContexts = baseline;
        input.OnlineLatencySeconds = latency;
        return HealthCalculator.Compute(input);
    }

    private async ValueTask<(List<UserVisit> Visits, IReadOnlyList<Features> Recent, IReadOnlyList<Features> Baseline, IReadOnlyList<double> Latency)> ReadBesideLogAsync(
        LoopRuntime runtime, LoopCounts counts, CancellationToken cancellationToken)
    {
        var visits = new List<UserVisit>();
        await foreach (var visit in store.ReadUserVisitsAsync(runtime.Id, cancellationToken).ConfigureAwait(false))
        {
            visits.Add(visit);
        }
        IReadOnlyList<Features> recent = [], baseline = [];
        var sample = HealthCalculator.ContextSample;
        if (counts.Decisions >= 2L * sample)
        {
            recent = await store.ReadContextsAsync(runtime.Id, 0, sample, cancellationToken).ConfigureAwait(false);
            baseline = await store.ReadContextsAsync(runtime.Id, sample, sample, cancellationToken).ConfigureAwait(false);
        }
        var latency = await OnlineLatencyAsync(runtime, cancellationToken).ConfigureAwait(false);
        return (visits, recent, baseline, latency);
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

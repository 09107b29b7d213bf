using System.Threading.Channels;
using Flywheel.Core;
using Flywheel.Evaluation;
using Flywheel.Evaluation.Slates;
using Flywheel.Learning;

namespace Flywheel.Engine;

/// <summary>A turn's replay of the reward log into the champion's settings and each candidate's.</summary>
internal static class LogReplay
{
    public sealed class ReplayWindow
    {
        public OffPolicyAccumulator Logged;
        public OffPolicyAccumulator Uniform;
        public OffPolicyAccumulator Baseline;
        public DataWindow Window = null!;

        /// <summary>A rank loop's served rankings, as logged (its references are rankings, not single choices).</summary>
        public SlateAccumulator? LoggedRankings;

        /// <summary>A rank loop's rankings under a uniformly random ranker.</summary>
        public SlateAccumulator? UniformRankings;

        /// <summary>What the served policy earned, bounded by the loop's reward range.</summary>
        public OffPolicyEstimates Served(double z, RewardConfig reward)
            => LoggedRankings is { } r ? r.Estimates(z, reward.Min, reward.Max) : Logged.GetEstimatesWithin(z, reward.Min, reward.Max);

        /// <summary>What serving uniformly at random would have earned.</summary>
        public OffPolicyEstimates UniformEstimates(double z, RewardConfig reward)
            => UniformRankings is { } r ? r.Estimates(z, reward.Min, reward.Max) : Uniform.GetEstimatesWithin(z, reward.Min, reward.Max);
    }

    /// <summary>Replays rewards 1…<paramref name="through"/> into every learner and judges those after <paramref name="after"/>.</summary>
    public static Task<ReplayWindow> ReplayAsync(IFlywheelStore store, ILoopKind kind, string loop, LoopConfig config, long after, long through, CandidateReplay replica, IReadOnlyList<CandidateReplay> candidates, CancellationToken cancellationToken)
        => ReplayAsync(store, kind, loop, config, new EvidenceStart(after, null, null, $"reward {after}"), through, replica, candidates, cancellationToken);

    /// <summary>
    /// Replays rewards 1…<paramref name="through"/> into every learner; those from where <paramref name="start"/> says the
    /// evidence begins are judged first. A reward is learned only once its window had closed before the decision being
    /// judged was made, so each learner judges with what it would have known live.
    /// </summary>
    public static async Task<ReplayWindow> ReplayAsync(IFlywheelStore store, ILoopKind kind, string loop, LoopConfig config, EvidenceStart start, long through, CandidateReplay replica, IReadOnlyList<CandidateReplay> candidates, CancellationToken cancellationToken)
    {
        // The judged window opens at the first reward that start admits and stays open: a contiguous stretch of the log.
        var judging = false;
        long after = start.After, previous = 0;
        var result = new ReplayWindow();
        if (kind.Kind == LoopKind.Rank)
        {
            result.LoggedRankings = new SlateAccumulator();
            result.UniformRankings = new SlateAccumulator();
        }
        var pending = new Queue<ReplayRow>();
        DateTimeOffset? from = null, to = null;
        long decisions = 0, signals = 0;

        // This thread reads and orders the rows; a second one hands each batch of steps to the learners, which run the
        // same steps in the same order, each on its own thread, so the results do not depend on the number of cores.
        CandidateReplay[] learners = [replica, .. candidates];
        var parallel = new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount };
        var batches = Channel.CreateBounded<List<(ReplayRow Row, bool Judge)>>(new BoundedChannelOptions(2) { SingleReader = true, SingleWriter = true });
        var consumer = Task.Run(async () =>
        {
            try
            {
                await foreach (var batch in batches.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                {
                    RunSteps(batch);
                }
            }
            catch (Exception ex)
            {
                // Stop the reader too: it would otherwise wait for room in the channel forever.
                batches.Writer.TryComplete(ex);
                throw;
            }
        }, cancellationToken);
        void RunSteps(List<(ReplayRow Row, bool Judge)> batch)
        {
            Parallel.For(0, learners.Length, parallel, i =>
            {
                var learner = learners[i];
                foreach (var (row, judge) in batch)
                {
                    if (!judge)
                    {
                        learner.Learn(row);
                        continue;
                    }
                    learner.Evaluate(row);
                    if (i == 0 && result.LoggedRankings is { } logged)
                    {
                        replica.AddRankingReferences(row, logged, result.UniformRankings!);
                    }
                    else if (i == 0)
                    {
                        replica.AddReferences(row, ref result.Logged, ref result.Uniform, ref result.Baseline);
                    }
                }
            });
        }

        var steps = new List<(ReplayRow Row, bool Judge)>(ReplayBatch + 64);
        try
        {
            await foreach (var (decision, reward) in store.ReadRewardsAsync(loop, 0, cancellationToken).ConfigureAwait(false))
            {
                if (reward.Sequence > through)
                {
                    break;
                }
                if (!judging && start.Admits(reward.Sequence, decision))
                {
                    judging = true;
                    after = Math.Max(start.After, previous);
                }
                previous = reward.Sequence;
                var row = new ReplayRow();
                if (!row.Set(kind, decision, reward, config.Turns, config.Reward))
                {
                    continue;
                }
                while (pending.TryPeek(out var closed) && closed.ClosedAt <= row.DecidedAt)
                {
                    steps.Add((pending.Dequeue(), false));
                }
                if (judging)
                {
                    steps.Add((row, true));
                    from = from is null || decision.At < from ? decision.At : from;
                    to = to is null || decision.At > to ? decision.At : to;
                    decisions++;
                    signals += reward.SignalCount;
                }
                pending.Enqueue(row);
                if (steps.Count >= ReplayBatch)
                {
                    await batches.Writer.WriteAsync(steps, cancellationToken).ConfigureAwait(false);
                    steps = new List<(ReplayRow Row, bool Judge)>(ReplayBatch + 64);
                }
            }
            while (pending.Count > 0)
            {
                steps.Add((pending.Dequeue(), false));
            }
            await batches.Writer.WriteAsync(steps, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            // The learners failed; their exception comes out of the consumer below.
        }
        finally
        {
            batches.Writer.TryComplete();
        }
        await consumer.ConfigureAwait(false);
        result.Window = new DataWindow { AfterSequence = judging ? after : Math.Max(start.After, previous), ThroughSequence = through, From = from, To = to, Decisions = decisions, Signals = signals };
        return result;
    }

    /// <summary>Replay steps handed to the learners at a time.</summary>
    private const int ReplayBatch = 2048;
}

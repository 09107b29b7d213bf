using Flywheel.Core;

namespace Flywheel.Engine;

/// <summary>A decision whose reward window is still open; owned by the ingest writer.</summary>
internal sealed class PendingDecision
{
    private readonly byte[] _payload;

    /// <param name="record">The decision.</param>
    /// <param name="closeAt">When its window closes.</param>
    /// <param name="payload">Its features as <see cref="DecisionPayload"/> bytes (computed off the writer thread when possible).</param>
    public PendingDecision(DecisionRecord record, DateTimeOffset closeAt, byte[]? payload = null)
    {
        _payload = payload ?? DecisionPayload.Serialize(record.Context, record.Actions);
        Record = DecisionPayload.Slim(record);
        CloseAt = closeAt;
    }

    /// <summary>The decision without its features: enough to answer a retry and to compute the reward.</summary>
    public DecisionRecord Record { get; }

    /// <summary>When its window closes: the decision's time plus the loop's current window (moved when that changes).</summary>
    public DateTimeOffset CloseAt { get; set; }

    public List<PendingSignal> Signals { get; } = [];

    /// <summary>The full decision, features included (the learner calls this when the window has closed).</summary>
    public DecisionRecord Restore() => DecisionPayload.Restore(Record, _payload);
}

/// <summary>An in-window signal: its type, value and, on a rank decision, the served action it names.</summary>
internal readonly record struct PendingSignal(string Type, double Value, string? ActionId = null);

/// <summary>One loop's open reward windows and its next reward's position in the learning order.</summary>
internal sealed class RewardWindows
{
    public Dictionary<string, PendingDecision> Pending { get; } = new(StringComparer.Ordinal);

    public PriorityQueue<PendingDecision, DateTimeOffset> DueQueue { get; } = new();

    public long NextRewardSequence { get; set; } = 1;

    /// <summary>The window length every open window's close time was computed with.</summary>
    public TimeSpan Window { get; set; }
}

/// <summary>A reward closed in a group commit, with its decision, on its way to the learner.</summary>
internal readonly record struct ClosedReward(LoopRuntime Loop, PendingDecision Decision, RewardRecord Reward);

/// <summary>
/// The joiner (docs/architecture.md): opens a window for each decision, adds signals to it, and closes it on timeout or on a
/// <c>closesWindow</c> signal into one reward. Called only by the ingest writer, which owns every loop's windows.
/// </summary>
internal static class Joiner
{
    /// <summary>Opens the window of a newly committed decision.</summary>
    public static void Open(LoopRuntime loop, DecisionRecord record, byte[] payload)
    {
        var pending = new PendingDecision(record, record.At + TimeSpan.FromSeconds(loop.Config.Reward.WindowSeconds), payload);
        loop.Windows.Pending[record.DecisionId] = pending;
        loop.Windows.DueQueue.Enqueue(pending, pending.CloseAt);
        DriftWatch.For(loop).Decided(record.At, record.ModelVersion, loop.Config.Reward.WindowSeconds);
    }

    /// <summary>
    /// Closes every window of <paramref name="loop"/> due by <paramref name="now"/>. When the loop's reward window has
    /// changed since the open windows were scheduled, they are first moved to the new length, as a restart would.
    /// </summary>
    public static void CloseDue(LoopRuntime loop, DateTimeOffset now, StoreBatch batch, List<ClosedReward> closed)
    {
        var windows = loop.Windows;
        var window = TimeSpan.FromSeconds(loop.Config.Reward.WindowSeconds);
        if (windows.Window != window)
        {
            Reschedule(windows, window);
        }
        while (windows.DueQueue.TryPeek(out var pending, out var closeAt) && closeAt <= now)
        {
            windows.DueQueue.Dequeue();
            if (windows.Pending.TryGetValue(pending.Record.DecisionId, out var current) && ReferenceEquals(current, pending))
            {
                Close(loop, pending, closeAt, WindowClose.Timeout, batch, closed);
            }
        }
    }

    /// <summary>Gives every open window the close time <paramref name="window"/> after its decision.</summary>
    private static void Reschedule(RewardWindows windows, TimeSpan window)
    {
        windows.Window = window;
        windows.DueQueue.Clear();
        foreach (var pending in windows.Pending.Values)
        {
            pending.CloseAt = pending.Record.At + window;
            windows.DueQueue.Enqueue(pending, pending.CloseAt);
        }
    }

    /// <summary>Turns a window's signals into its reward, added to the batch and to <paramref name="closed"/>.</summary>
    public static void Close(LoopRuntime loop, PendingDecision pending, DateTimeOffset at, WindowClose reason, StoreBatch batch, List<ClosedReward> closed)
    {
        loop.Windows.Pending.Remove(pending.Record.DecisionId);
        var slots = loop.Config.Kind == LoopKind.Rank ? SlotRewards(loop.Config, pending) : null;
        var reward = new RewardRecord
        {
            Loop = loop.Id,
            DecisionId = pending.Record.DecisionId,
            Sequence = loop.Windows.NextRewardSequence++,
            Reward = slots is null ? RewardRule.Compute(loop.Config, Typed(pending.Signals)) : slots.Sum(s => s.Reward),
            Slots = slots,
            SignalCount = pending.Signals.Count,
            ImplicitSignals = CountOfKind(loop.Config, pending.Signals, SignalKind.Implicit),
            ExplicitSignals = CountOfKind(loop.Config, pending.Signals, SignalKind.Explicit),
            ClosedAt = at,
            ClosedBy = reason,
        };
        batch.Rewards.Add(reward);
        closed.Add(new ClosedReward(loop, pending, reward));
    }

    /// <summary>Rebuilds a loop's open windows and reward sequence from the store; returns how many are open.</summary>
    public static async Task<int> LoadAsync(IFlywheelStore store, LoopRuntime loop, CancellationToken cancellationToken)
    {
        var windows = loop.Windows;
        windows.Pending.Clear();
        windows.DueQueue.Clear();
        var window = TimeSpan.FromSeconds(loop.Config.Reward.WindowSeconds);
        windows.Window = window;
        await foreach (var (decision, signals) in store.ReadOpenDecisionsAsync(loop.Id, cancellationToken).ConfigureAwait(false))
        {
            var pending = new PendingDecision(decision, decision.At + window);
            foreach (var s in signals)
            {
                pending.Signals.Add(new PendingSignal(s.Type, s.Value, s.ActionId));
            }
            windows.Pending[decision.DecisionId] = pending;
            windows.DueQueue.Enqueue(pending, pending.CloseAt);
        }
        windows.NextRewardSequence = await store.GetLastRewardSequenceAsync(loop.Id, cancellationToken).ConfigureAwait(false) + 1;
        return windows.Pending.Count;
    }

    /// <summary>
    /// Each served slot's reward by the loop's reward rule over the signals naming its action; a slot no signal names
    /// earns the rule's default.
    /// </summary>
    private static SlotReward[] SlotRewards(LoopConfig config, PendingDecision pending)
    {
        var ranking = pending.Record.Ranking;
        var slots = new SlotReward[ranking.Count];
        for (var i = 0; i < slots.Length; i++)
        {
            var id = ranking[i].ActionId;
            var named = pending.Signals.Where(s => s.ActionId == id).ToList();
            slots[i] = new SlotReward(ranking[i].Slot ?? i + 1, id, RewardRule.Compute(config, Typed(named)), named.Count);
        }
        return slots;
    }

    private static IEnumerable<(string Type, double Value)> Typed(List<PendingSignal> signals)
    {
        foreach (var s in signals)
        {
            yield return (s.Type, s.Value);
        }
    }

    private static int CountOfKind(LoopConfig config, List<PendingSignal> signals, SignalKind kind)
    {
        var count = 0;
        foreach (var (type, _, _) in signals)
        {
            if (config.Signals.TryGetValue(type, out var t) && t.Kind == kind)
            {
                count++;
            }
        }
        return count;
    }
}

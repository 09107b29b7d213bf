using Flywheel.Core;

namespace Flywheel.Engine;

/// <summary>
/// What one group commit did to signals, held until the commit succeeds: the ingest writer counts only what it then
/// acknowledges. Owned by the writer's thread and reused across groups (its list keeps its capacity).
/// </summary>
internal sealed class IngestTally
{
    private readonly List<(string Loop, string Type, SignalKind Kind, SignalOutcome? Outcome)> _signals = [];
    private readonly List<string> _duplicates = [];

    public void Clear()
    {
        _signals.Clear();
        _duplicates.Clear();
    }

    /// <summary>An accepted signal; <paramref name="outcome"/> says when it joined no window (late, orphaned).</summary>
    public void Accepted(string loop, string type, SignalKind kind, SignalOutcome? outcome) => _signals.Add((loop, type, kind, outcome));

    public void Duplicate(string loop) => _duplicates.Add(loop);

    /// <summary>Counts a committed group: its new decisions and closed rewards (from the batch) and its signals.</summary>
    public void Count(FlywheelMetrics metrics, StoreBatch batch)
    {
        foreach (var decision in batch.Decisions)
        {
            metrics.Decided(decision.Loop, decision.Explored);
        }
        foreach (var reward in batch.Rewards)
        {
            metrics.RewardJoined(reward.Loop, reward.ClosedBy);
        }
        foreach (var (loop, type, kind, outcome) in _signals)
        {
            metrics.SignalAccepted(loop, type, kind);
            if (outcome is { } o)
            {
                metrics.SignalUnjoined(loop, o);
            }
        }
        foreach (var loop in _duplicates)
        {
            metrics.SignalUnjoined(loop, SignalOutcome.Duplicate);
        }
    }
}

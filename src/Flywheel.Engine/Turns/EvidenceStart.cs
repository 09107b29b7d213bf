using Flywheel.Core;

namespace Flywheel.Engine;

/// <summary>
/// Where a turn's judged evidence begins: the first reward after <paramref name="After"/> whose decision was made at
/// or after <paramref name="DecidedFrom"/> and served by <paramref name="ServedBy"/> (each when set); every later reward
/// up to the turn's end is judged too, so the window is one contiguous stretch of the log.
/// </summary>
/// <param name="After">The window starts after this reward sequence at the earliest.</param>
/// <param name="DecidedFrom">When what serves last changed (a deploy, a graduation), if the ledger knows.</param>
/// <param name="ServedBy">The serving version, when it began serving outside the ledger (new learner settings).</param>
/// <param name="Since">What began the evidence, in words for the ledger: <c>v3 became champion</c>.</param>
internal sealed record EvidenceStart(long After, DateTimeOffset? DecidedFrom, int? ServedBy, string Since)
{
    /// <summary>True when the reward of <paramref name="decision"/> opens the window.</summary>
    public bool Admits(long sequence, DecisionRecord decision)
        => sequence > After && (DecidedFrom is null || decision.At >= DecidedFrom) && (ServedBy is null || decision.ModelVersion == ServedBy);

    /// <summary>
    /// Where the evidence of a scheduled or manual turn begins, read from the ledger (newest first): since what serves
    /// last changed (a turn's or a hand's promotion, a rollback, a graduation or its reversal), carried forward through
    /// the judged turns since; since the serving version began serving or the loop's mode changed when that happened
    /// outside the ledger; from the start of the log when nothing did. A change the drift watch found later starts it
    /// there, and so does a turn whose estimates held a weight that no amount of evidence would dilute (see
    /// <see cref="HasUndilutableWeight"/>), so one bad decision does not block every later turn.
    /// </summary>
    public static EvidenceStart FromLedger(IReadOnlyList<TurnRecord> ledger, int champion, LoopMode mode, DriftAlarm? change, long through)
    {
        var start = Walk(ledger, champion, mode)
            ?? new EvidenceStart(0, null, champion, mode == LoopMode.Apprentice ? "apprentice mode began" : $"v{champion} began serving");
        // Before a change of the world the champion's figures describe another world (DriftWatch); the drift turn judged it.
        return change is { } c && c.ChangeSequence > start.After && c.ChangeSequence < through
            ? start with { After = c.ChangeSequence, Since = $"the drop of the reward found after reward {c.ChangeSequence}" }
            : start;
    }

    /// <summary>True when an entry of <paramref name="ledger"/> decides where the evidence begins (else read further back).</summary>
    public static bool Decides(IReadOnlyList<TurnRecord> ledger, int champion, LoopMode mode)
        => Walk(ledger, champion, mode) is not null;

    private static EvidenceStart? Walk(IReadOnlyList<TurnRecord> ledger, int champion, LoopMode mode)
    {
        for (var i = ledger.Count - 1; i >= 0; i--)
        {
            var entry = ledger[i];
            if (entry.DeployedVersion is { } deployed && entry.DeployedAt is { } at
                && entry.Verdict is TurnVerdict.Promoted or TurnVerdict.ManuallyPromoted or TurnVerdict.RolledBack or TurnVerdict.Graduated)
            {
                // What serves changed here. The entry's window (when it has one) ends before the deploy; the deploy's
                // moment is exact. New learner settings made since start a version of their own: its first decision.
                var lowest = entry.Window?.ThroughSequence ?? JudgedBefore(ledger, i);
                if (deployed != champion)
                {
                    return new EvidenceStart(lowest, at, champion, $"v{champion} began serving");
                }
                var since = entry.Verdict switch
                {
                    TurnVerdict.Graduated => $"v{deployed} graduated to online",
                    TurnVerdict.RolledBack when deployed == entry.ChampionVersion => "the loop went back to apprentice mode",
                    TurnVerdict.RolledBack => $"v{deployed} was restored by a rollback",
                    _ => $"v{deployed} became champion",
                };
                return new EvidenceStart(lowest, at, null, since);
            }
            if (entry.Window is not { } window || entry.Verdict is not (TurnVerdict.Promoted or TurnVerdict.Rejected or TurnVerdict.AwaitingManualPromotion or TurnVerdict.Graduated))
            {
                continue; // judged nothing
            }
            if (entry.ChampionVersion != champion)
            {
                // New learner settings started a version outside the ledger after this turn.
                return new EvidenceStart(window.ThroughSequence, null, champion, $"v{champion} began serving");
            }
            if (entry.Mode is { } was && was != mode)
            {
                return new EvidenceStart(window.ThroughSequence, null, null, mode == LoopMode.Apprentice ? "apprentice mode began" : $"the loop went {LoopConfigJson.Name(mode)}");
            }
            if (entry.Candidates.Any(c => HasUndilutableWeight(c.Estimates)))
            {
                return new EvidenceStart(window.ThroughSequence, null, null, $"turn {entry.Number}, whose window held an extreme importance weight");
            }
            if (entry.Trigger == TurnTrigger.Drift)
            {
                continue; // judged on the rewards since the change only; FromLedger starts at the change
            }
            // A judged turn with the same champion: its evidence goes on.
            return new EvidenceStart(window.AfterSequence, null, null, entry.EvidenceSince ?? $"reward {window.AfterSequence}");
        }
        return null;
    }

    /// <summary>The end of the last judged window before entry <paramref name="index"/> (0 when none).</summary>
    private static long JudgedBefore(IReadOnlyList<TurnRecord> ledger, int index)
    {
        for (var i = index - 1; i >= 0; i--)
        {
            if (ledger[i].Window is { } window)
            {
                return window.ThroughSequence;
            }
        }
        return 0;
    }

    /// <summary>
    /// An extreme weight that more evidence would not dilute: one decision's weight above the window's count of decisions.
    /// A sound target's weights average 1 under the logging policy, so Σw grows about as the decisions do and a weight w
    /// keeps more than a tenth of it until some 10·w decisions; a weight this large comes from a logged probability far
    /// below what the exploration gives (a logging fault), not from thin exploration.
    /// </summary>
    public static bool HasUndilutableWeight(OffPolicyEstimates estimates)
        => estimates.HasExtremeWeights && estimates.MaxWeight > estimates.Count;
}

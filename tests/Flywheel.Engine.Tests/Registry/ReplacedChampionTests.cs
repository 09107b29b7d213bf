using Flywheel.Core;

namespace Flywheel.Engine.Tests.Registry;

/// <summary>Which champion a rollback restores, read from hand-written ledgers.</summary>
public sealed class ReplacedChampionTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 24, 0, 0, 0, TimeSpan.Zero);

    private static TurnRecord Entry(long number, TurnVerdict verdict, int champion, int? deployed) => new()
    {
        Loop = "feed",
        Number = number,
        Trigger = TurnTrigger.Manual,
        StartedAt = At,
        FinishedAt = At,
        ChampionVersion = champion,
        Verdict = verdict,
        Reason = "test",
        DeployedVersion = deployed,
        DeployedAt = deployed is null ? null : At,
    };

    [Fact]
    public void TurnPromotedV3ThenV2ByHand_ReplacedIsV3NotTheLineageParent()
    {
        TurnRecord[] ledger = [Entry(1, TurnVerdict.Promoted, 1, 3), Entry(2, TurnVerdict.ManuallyPromoted, 3, 2)];
        Assert.Equal(3, ModelRegistry.ReplacedChampion(ledger, 2));
    }

    [Fact]
    public void RepeatedRollbacks_WalkBackThroughTheDeployments()
    {
        var ledger = new List<TurnRecord> { Entry(1, TurnVerdict.Promoted, 1, 2), Entry(2, TurnVerdict.InsufficientData, 2, null), Entry(3, TurnVerdict.ManuallyPromoted, 2, 3) };
        Assert.Equal(2, ModelRegistry.ReplacedChampion(ledger, 3));
        ledger.Add(Entry(4, TurnVerdict.RolledBack, 3, 2));
        Assert.Equal(1, ModelRegistry.ReplacedChampion(ledger, 2));
        ledger.Add(Entry(5, TurnVerdict.RolledBack, 2, 1));
        Assert.Null(ModelRegistry.ReplacedChampion(ledger, 1));
        // A new promotion after the walk back starts a new history.
        ledger.Add(Entry(6, TurnVerdict.ManuallyPromoted, 1, 3));
        Assert.Equal(1, ModelRegistry.ReplacedChampion(ledger, 3));
    }

    [Fact]
    public void GraduationsAndJudgedTurns_AreNotDeployments()
    {
        TurnRecord[] ledger = [Entry(1, TurnVerdict.Graduated, 1, 1), Entry(2, TurnVerdict.Rejected, 1, null), Entry(3, TurnVerdict.RolledBack, 1, 1)];
        Assert.Null(ModelRegistry.ReplacedChampion(ledger, 1));
    }

    [Fact]
    public void ChampionChangedOutsideTheLedger_ReplacedTheLedgersChampion()
    {
        // v2 deployed by a turn; new learner settings then started v4 without a ledger entry.
        TurnRecord[] ledger = [Entry(1, TurnVerdict.Promoted, 1, 2)];
        Assert.Equal(2, ModelRegistry.ReplacedChampion(ledger, 4));
        // Rolled back from v4 to v2, then v2 replaced v1 as before.
        TurnRecord[] after = [.. ledger, Entry(2, TurnVerdict.RolledBack, 4, 2)];
        Assert.Equal(1, ModelRegistry.ReplacedChampion(after, 2));
    }

    [Fact]
    public void LegacyRollbackToTheLineageParent_ReturnsToWhenThatVersionServed()
    {
        // An older build rolled v2 back to v1 (its parent) although v2 had replaced v3.
        TurnRecord[] ledger = [Entry(1, TurnVerdict.Promoted, 1, 3), Entry(2, TurnVerdict.ManuallyPromoted, 3, 2), Entry(3, TurnVerdict.RolledBack, 2, 1)];
        Assert.Null(ModelRegistry.ReplacedChampion(ledger, 1));
    }

    [Fact]
    public void EmptyLedger_ReplacedNothing() => Assert.Null(ModelRegistry.ReplacedChampion([], 1));
}

using Flywheel.Core;

namespace Flywheel.Engine.Tests.Turns;

/// <summary>Where a turn's evidence begins, read from the ledger.</summary>
public sealed class EvidenceStartTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 24, 0, 0, 0, TimeSpan.Zero);

    private static OffPolicyEstimates Estimates(long n = 1000, double maxWeight = 2, double share = 0.002) => new()
    {
        Count = n,
        EffectiveSampleSize = 500,
        Ips = new Estimate(0.5, 0.4, 0.6),
        Snips = new Estimate(0.5, 0.4, 0.6),
        Dm = new Estimate(0.5, 0.4, 0.6),
        Dr = new Estimate(0.5, 0.4, 0.6),
        MinReward = 0,
        MaxReward = 1,
        MaxWeight = maxWeight,
        MaxWeightShare = share,
    };

    private static TurnRecord Judged(long number, int champion, long after, long through, TurnVerdict verdict = TurnVerdict.Rejected, LoopMode? mode = LoopMode.Online, string? since = null, OffPolicyEstimates? candidate = null, TurnTrigger trigger = TurnTrigger.Schedule) => new()
    {
        Loop = "feed",
        Number = number,
        Trigger = trigger,
        StartedAt = T0.AddHours(number),
        FinishedAt = T0.AddHours(number),
        Window = new DataWindow { AfterSequence = after, ThroughSequence = through, Decisions = through - after, Signals = 0 },
        ChampionVersion = champion,
        Candidates = [new TurnCandidate { Name = "candidate", Version = 100 + (int)number, Estimates = candidate ?? Estimates() }],
        Verdict = verdict,
        Reason = "test",
        DeployedVersion = verdict is TurnVerdict.Promoted ? 100 + (int)number : verdict is TurnVerdict.Graduated ? champion : null,
        DeployedAt = verdict is TurnVerdict.Promoted or TurnVerdict.Graduated ? T0.AddHours(number) : null,
        Mode = mode,
        EvidenceSince = since,
    };

    private static TurnRecord Rollback(long number, int from, int to, bool graduation = false) => new()
    {
        Loop = "feed",
        Number = number,
        Trigger = TurnTrigger.Guardrail,
        StartedAt = T0.AddHours(number),
        FinishedAt = T0.AddHours(number),
        ChampionVersion = from,
        Verdict = TurnVerdict.RolledBack,
        Reason = "test",
        DeployedVersion = graduation ? from : to,
        DeployedAt = T0.AddHours(number),
    };

    [Fact]
    public void EmptyLedger_StartsWhereTheServingVersionBegan()
    {
        var start = EvidenceStart.FromLedger([], 1, LoopMode.Online, null, 5000);
        Assert.Equal(new EvidenceStart(0, null, 1, "v1 began serving"), start);
        Assert.Equal("apprentice mode began", EvidenceStart.FromLedger([], 1, LoopMode.Apprentice, null, 5000).Since);
    }

    [Fact]
    public void JudgedTurnsOfTheSameChampion_CarryTheirStartForward()
    {
        TurnRecord[] ledger = [Judged(1, 1, 0, 1000, since: "v1 began serving"), Judged(2, 1, 0, 2000, since: "v1 began serving")];
        var start = EvidenceStart.FromLedger(ledger, 1, LoopMode.Online, null, 3000);
        Assert.Equal(new EvidenceStart(0, null, null, "v1 began serving"), start);
    }

    [Fact]
    public void APromotion_StartsAtItsDeploy()
    {
        TurnRecord[] ledger = [Judged(1, 1, 0, 1000), Judged(2, 1, 0, 2000, TurnVerdict.Promoted), Judged(3, 102, 2010, 3000, since: "v102 became champion")];
        Assert.Equal(new EvidenceStart(2010, null, null, "v102 became champion"), EvidenceStart.FromLedger(ledger, 102, LoopMode.Online, null, 4000));
        Assert.Equal(new EvidenceStart(2000, T0.AddHours(2), null, "v102 became champion"), EvidenceStart.FromLedger(ledger[..2], 102, LoopMode.Online, null, 4000));
    }

    [Fact]
    public void ARollbackWithoutAWindow_StartsAtItsMomentAfterTheLastJudgedWindow()
    {
        TurnRecord[] ledger = [Judged(1, 1, 0, 2000, TurnVerdict.Promoted), Judged(2, 101, 2000, 3000), Rollback(3, 101, 1)];
        Assert.Equal(new EvidenceStart(3000, T0.AddHours(3), null, "v1 was restored by a rollback"), EvidenceStart.FromLedger(ledger, 1, LoopMode.Online, null, 4000));
    }

    [Fact]
    public void AGraduationAndItsReversal_StartTheEvidenceAgain()
    {
        TurnRecord[] graduated = [Judged(1, 1, 0, 2000, TurnVerdict.Graduated, LoopMode.Apprentice)];
        Assert.Equal("v1 graduated to online", EvidenceStart.FromLedger(graduated, 1, LoopMode.Online, null, 3000).Since);
        TurnRecord[] reverted = [.. graduated, Rollback(2, 1, 1, graduation: true)];
        var start = EvidenceStart.FromLedger(reverted, 1, LoopMode.Apprentice, null, 3000);
        Assert.Equal(("the loop went back to apprentice mode", (DateTimeOffset?)T0.AddHours(2)), (start.Since, start.DecidedFrom));
    }

    [Fact]
    public void AChangeOutsideTheLedger_StartsAfterTheLastJudgedWindow()
    {
        TurnRecord[] ledger = [Judged(1, 1, 0, 2000)];
        // New learner settings started v2: its first decision after the window.
        Assert.Equal(new EvidenceStart(2000, null, 2, "v2 began serving"), EvidenceStart.FromLedger(ledger, 2, LoopMode.Online, null, 3000));
        // The mode was changed by hand.
        Assert.Equal(new EvidenceStart(2000, null, null, "apprentice mode began"), EvidenceStart.FromLedger(ledger, 1, LoopMode.Apprentice, null, 3000));
        // An entry written before the mode was recorded carries its start forward.
        Assert.Equal(0, EvidenceStart.FromLedger([Judged(1, 1, 0, 2000, mode: null)], 1, LoopMode.Apprentice, null, 3000).After);
    }

    [Fact]
    public void AnUndilutableWeight_StartsTheEvidenceAfterThatTurnsWindow_AThinOneDoesNot()
    {
        TurnRecord[] bad = [Judged(1, 1, 0, 2000, candidate: Estimates(2000, maxWeight: 9.8e8, share: 0.999))];
        Assert.Equal(new EvidenceStart(2000, null, null, "turn 1, whose window held an extreme importance weight"), EvidenceStart.FromLedger(bad, 1, LoopMode.Online, null, 3000));
        TurnRecord[] thin = [Judged(1, 1, 0, 2000, candidate: Estimates(2000, maxWeight: 190, share: 0.14))];
        Assert.Equal(0, EvidenceStart.FromLedger(thin, 1, LoopMode.Online, null, 3000).After);
    }

    [Fact]
    public void AChangeTheDriftWatchFound_StartsTheEvidenceThere()
    {
        TurnRecord[] ledger = [Judged(1, 1, 0, 2000), Judged(2, 1, 2500, 2800, trigger: TurnTrigger.Drift)];
        var change = new DriftAlarm(2500, 2700, 0.8, 0.5, 200);
        // The drift turn's own window is skipped; the evidence starts at the change.
        Assert.Equal(new EvidenceStart(2500, null, null, "the drop of the reward found after reward 2500"), EvidenceStart.FromLedger(ledger, 1, LoopMode.Online, change, 4000));
    }
}

using Flywheel.Core;

namespace Flywheel.Engine.Tests.Turns;

/// <summary>The promotion policy refuses a candidate whose estimates rest on one decision, even when its ESS passes.</summary>
public sealed class ExtremeWeightJudgeTests
{
    private static OffPolicyEstimates Estimates(double value, double half, double ess, double maxWeight, double share)
        => JudgeFixtures.Estimates(value, half, value, half, ess, maxWeight, share);

    private static ModelRecord Candidate(int version, OffPolicyEstimates estimates) => JudgeFixtures.Candidate(version, estimates);

    private static readonly OffPolicyEstimates Champion = Estimates(0.50, 0.01, ess: 1000, maxWeight: 1, share: 0.001);

    [Theory]
    [InlineData(PromotionPolicy.LowerBoundBeatsChampion)]
    [InlineData(PromotionPolicy.EstimateBeatsChampion)]
    public void Judge_CandidateWithAnExtremeWeight_IsNotJudgedEvenWhenItsEssPasses(PromotionPolicy policy)
    {
        // ESS 40 passes the gate, the figures beat the champion by far, but one decision carries 15% of Σw.
        var extreme = Candidate(7, Estimates(0.90, 0.05, ess: 40, maxWeight: 150, share: 0.15));
        Assert.True(extreme.Estimates!.HasExtremeWeights);

        var (winner, verdict, reason) = TurnJudge.Judge(new TurnsConfig { PromoteWhen = policy }, 1, Champion, [extreme]);

        Assert.Null(winner);
        Assert.Equal(TurnVerdict.Rejected, verdict);
        Assert.Contains("no candidate has 30 effective samples on this window without an extreme weight; v7 not judged: extreme importance weight: one decision carries 15", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Judge_ExtremeCandidateBesideASoundOne_PromotesTheSoundOneAndNamesTheOther()
    {
        var extreme = Candidate(7, Estimates(0.95, 0.01, ess: 40, maxWeight: 150, share: 0.15));
        var sound = Candidate(8, Estimates(0.60, 0.02, ess: 400, maxWeight: 5, share: 0.005));

        var (winner, verdict, reason) = TurnJudge.Judge(new TurnsConfig(), 1, Champion, [extreme, sound]);

        Assert.Equal(TurnVerdict.Promoted, verdict);
        Assert.Same(sound, winner);
        Assert.Contains("v7 not judged: extreme importance weight", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Judge_ThinWindowsLargeWeights_AreTheEssGatesToReport()
    {
        // Thin exploration: few large weights, share above 10% but ESS below the gate and the weight below the count of
        // decisions; more evidence dilutes it, so the ledger does not blame a logging fault.
        var thin = Candidate(7, Estimates(0.90, 0.30, ess: 8, maxWeight: 190, share: 0.14));

        var (winner, verdict, reason) = TurnJudge.Judge(new TurnsConfig(), 1, Champion, [thin]);

        Assert.Null(winner);
        Assert.Equal(TurnVerdict.Rejected, verdict);
        Assert.StartsWith("no candidate has 30 effective samples on this window; champion v1", reason, StringComparison.Ordinal);
        Assert.False(EvidenceStart.HasUndilutableWeight(thin.Estimates!));
        Assert.True(EvidenceStart.HasUndilutableWeight(Estimates(0.9, 0.3, ess: 1, maxWeight: 9.8e8, share: 0.999)));
    }
}

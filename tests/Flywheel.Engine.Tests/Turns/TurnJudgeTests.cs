using Flywheel.Core;

namespace Flywheel.Engine.Tests.Turns;

public sealed class JudgeTests
{
    private static OffPolicyEstimates Estimates(double ips, double ipsHalf, double dr, double drHalf, double ess = 500)
        => JudgeFixtures.Estimates(ips, ipsHalf, dr, drHalf, ess);

    private static ModelRecord Candidate(int version, OffPolicyEstimates estimates) => JudgeFixtures.Candidate(version, estimates);

    private static readonly OffPolicyEstimates Champion = Estimates(0.50, 0.01, 0.50, 0.01, ess: 1000);

    [Fact]
    public void Judge_LowerBoundPolicy_PromotesTheCandidateMostClearlyBetterOnBothEstimators()
    {
        var turns = new TurnsConfig();
        var better = Candidate(2, Estimates(0.60, 0.05, 0.60, 0.04));
        var clearer = Candidate(3, Estimates(0.58, 0.01, 0.58, 0.01));
        var (winner, verdict, reason) = TurnJudge.Judge(turns, 1, Champion, [better, clearer]);
        Assert.Equal(TurnVerdict.Promoted, verdict);
        Assert.Same(clearer, winner);
        Assert.Contains("95% lower bounds of IPS and DR beat the champion", reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.60, 0.05, 0.49, 0.05)] // DR's interval reaches below the champion
    [InlineData(0.45, 0.20, 0.70, 0.05)] // DR looks far better but IPS, which no reward model can fool, does not
    [InlineData(0.40, 0.01, 0.40, 0.01)] // plainly worse
    public void Judge_LowerBoundPolicy_RejectsUnlessBothLowerBoundsBeatTheChampion(double ips, double ipsHalf, double dr, double drHalf)
    {
        var (winner, verdict, reason) = TurnJudge.Judge(new TurnsConfig(), 1, Champion, [Candidate(2, Estimates(ips, ipsHalf, dr, drHalf))]);
        Assert.Null(winner);
        Assert.Equal(TurnVerdict.Rejected, verdict);
        Assert.Contains("champion v1 earned 0.5000 online", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Judge_EstimatePolicy_PromotesOnPointEstimatesAlone()
    {
        var turns = new TurnsConfig { PromoteWhen = PromotionPolicy.EstimateBeatsChampion };
        var candidate = Candidate(2, Estimates(0.52, 0.10, 0.51, 0.10));
        Assert.Equal(TurnVerdict.Promoted, TurnJudge.Judge(turns, 1, Champion, [candidate]).Verdict);
        Assert.Equal(TurnVerdict.Rejected, TurnJudge.Judge(turns, 1, Champion, [Candidate(3, Estimates(0.52, 0.1, 0.49, 0.1))]).Verdict);
    }

    [Fact]
    public void Judge_ManualPolicy_NeverPromotes()
    {
        var turns = new TurnsConfig { PromoteWhen = PromotionPolicy.Manual };
        var (winner, verdict, reason) = TurnJudge.Judge(turns, 1, Champion, [Candidate(2, Estimates(0.9, 0.01, 0.9, 0.01))]);
        Assert.Null(winner);
        Assert.Equal(TurnVerdict.AwaitingManualPromotion, verdict);
        Assert.Contains("v2", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Judge_TooFewEffectiveSamples_IsNotJudged()
    {
        var (winner, verdict, reason) = TurnJudge.Judge(new TurnsConfig(), 1, Champion, [Candidate(2, Estimates(0.9, 0.01, 0.9, 0.01, ess: 12))]);
        Assert.Null(winner);
        Assert.Equal(TurnVerdict.Rejected, verdict);
        Assert.Contains("30 effective samples", reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.95, 1.959963984540054)]
    [InlineData(0.99, 2.5758293035489004)]
    [InlineData(0.9, 1.6448536269514722)]
    [InlineData(0.8, 1.2815515655446004)]
    public void ZFor_Confidence_IsTheNormalQuantile(double confidence, double z)
        => Assert.Equal(z, Estimate.ZFor(confidence), z * 1e-8);

    [Fact]
    public void RewardEstimates_PredictedCostsOutsideTheRewardRange_AreClampedIntoIt()
    {
        // Rewards in [−1, 2] are costs in [−2, 1]; a cost predicted below −2 would be a reward no decision can earn.
        float[] costs = [-3.5f, -0.25f, 1.75f, 1f];
        RewardEstimates.ClampCosts(costs, new RewardConfig { Min = -1, Max = 2 });
        Assert.Equal([-2f, -0.25f, 1f, 1f], costs);
    }
}

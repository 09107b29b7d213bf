using Flywheel.Core;

namespace Flywheel.Engine.Tests.Turns;

/// <summary>Estimates and candidates for the promotion policy's tests.</summary>
internal static class JudgeFixtures
{
    /// <summary>Figures over 1,000 decisions: IPS and SNIPS at <paramref name="ips"/> ± half, DM and DR at <paramref name="dr"/> ± half.</summary>
    public static OffPolicyEstimates Estimates(double ips, double ipsHalf, double dr, double drHalf, double ess = 500, double maxWeight = 10, double share = 0) => new()
    {
        Count = 1000,
        EffectiveSampleSize = ess,
        Ips = new Estimate(ips, ips - ipsHalf, ips + ipsHalf),
        Snips = new Estimate(ips, ips - ipsHalf, ips + ipsHalf),
        Dm = new Estimate(dr, dr - drHalf, dr + drHalf),
        Dr = new Estimate(dr, dr - drHalf, dr + drHalf),
        MinReward = 0,
        MaxReward = 1,
        MaxWeight = maxWeight,
        MaxWeightShare = share,
    };

    public static ModelRecord Candidate(int version, OffPolicyEstimates estimates) => new()
    {
        Loop = "feed",
        Version = version,
        Status = ModelStatus.Candidate,
        Learner = new LearnerConfig(),
        Exploration = new ExplorationConfig(),
        Estimates = estimates,
        CreatedAt = DateTimeOffset.UnixEpoch,
        StatusChangedAt = DateTimeOffset.UnixEpoch,
        Reason = $"candidate {version}",
    };
}

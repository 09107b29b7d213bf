using System.Text.Json.Serialization;
using Flywheel.Core.Json;
namespace Flywheel.Core;

/// <summary>The estimates of ALGORITHMS §0 over n logged decisions, with 95% intervals.</summary>
[JsonConverter(typeof(EstimatesConverter))]
public sealed record OffPolicyEstimates
{
    /// <summary>n, the number of logged decisions.</summary>
    public required long Count { get; init; }

    /// <summary>Kish's effective sample size (Σw)² / Σw²; 0 when every weight is 0.</summary>
    public required double EffectiveSampleSize { get; init; }

    /// <summary>IPS with its Gaussian interval.</summary>
    public required Estimate Ips { get; init; }

    /// <summary>IPS with its Clopper–Pearson interval; null unless every reward lies in [0, 1].</summary>
    public Estimate? IpsClopperPearson { get; init; }

    /// <summary>SNIPS with its Gaussian interval; NaN when Σw = 0.</summary>
    public required Estimate Snips { get; init; }

    /// <summary>The direct method with its Gaussian interval.</summary>
    public required Estimate Dm { get; init; }

    /// <summary>Doubly robust with its Gaussian interval.</summary>
    public required Estimate Dr { get; init; }

    /// <summary>The smallest reward seen.</summary>
    public required double MinReward { get; init; }

    /// <summary>The largest reward seen.</summary>
    public required double MaxReward { get; init; }

    /// <summary>The largest importance weight w = π(a|x)/p seen.</summary>
    public required double MaxWeight { get; init; }

    /// <summary>One estimator's estimate, or null when it is not available (<c>ips-cp</c> outside [0, 1]).</summary>
    public Estimate? Get(OffPolicyEstimator estimator) => estimator switch
    {
        OffPolicyEstimator.Ips => Ips,
        OffPolicyEstimator.IpsClopperPearson => IpsClopperPearson,
        OffPolicyEstimator.Snips => Snips,
        OffPolicyEstimator.Dm => Dm,
        OffPolicyEstimator.Dr => Dr,
        _ => throw new ArgumentOutOfRangeException(nameof(estimator), estimator, null),
    };
}

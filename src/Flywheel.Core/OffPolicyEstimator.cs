namespace Flywheel.Core;

/// <summary>The estimators of docs/estimators.md, in their canonical order.</summary>
public enum OffPolicyEstimator
{
    /// <summary><c>ips</c>: (1/n)·Σ w·r with the Gaussian interval.</summary>
    Ips,
    /// <summary><c>ips-cp</c>: the IPS value with the Clopper–Pearson interval (rewards in [0, 1] only).</summary>
    IpsClopperPearson,
    /// <summary><c>snips</c>: Σ w·r / Σ w with the Gaussian interval of w·(r − V)/mean(w).</summary>
    Snips,
    /// <summary><c>dm</c>: (1/n)·Σ q̂(x, π).</summary>
    Dm,
    /// <summary><c>dr</c>: (1/n)·Σ [q̂(x, π) + w·(r − q̂(x, a))].</summary>
    Dr,
}

/// <summary>The command-line and JSON names of <see cref="OffPolicyEstimator"/>.</summary>
public static class OffPolicyEstimatorNames
{
    /// <summary>Every estimator, in the canonical order (ips, ips-cp, snips, dm, dr).</summary>
    public static IReadOnlyList<OffPolicyEstimator> All { get; } =
        [OffPolicyEstimator.Ips, OffPolicyEstimator.IpsClopperPearson, OffPolicyEstimator.Snips, OffPolicyEstimator.Dm, OffPolicyEstimator.Dr];

    /// <summary>The name: <c>ips</c>, <c>ips-cp</c>, <c>snips</c>, <c>dm</c> or <c>dr</c>.</summary>
    public static string Name(OffPolicyEstimator estimator) => estimator switch
    {
        OffPolicyEstimator.Ips => "ips",
        OffPolicyEstimator.IpsClopperPearson => "ips-cp",
        OffPolicyEstimator.Snips => "snips",
        OffPolicyEstimator.Dm => "dm",
        OffPolicyEstimator.Dr => "dr",
        _ => throw new ArgumentOutOfRangeException(nameof(estimator), estimator, null),
    };

    /// <summary>Parses a name (exact, lower case).</summary>
    public static bool TryParse(string? name, out OffPolicyEstimator estimator)
    {
        foreach (var e in All)
        {
            if (Name(e) == name)
            {
                estimator = e;
                return true;
            }
        }
        estimator = default;
        return false;
    }
}

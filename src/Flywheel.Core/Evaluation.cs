using System.Text.Json.Serialization;
using Flywheel.Core.Json;
namespace Flywheel.Core;

/// <summary>What <c>GET …/export</c> streams: rewarded decisions made in [<see cref="From"/>, <see cref="To"/>).</summary>
public sealed record ExportRequest
{
    /// <summary>Earliest decision time, inclusive (null: the start of the log).</summary>
    public DateTimeOffset? From { get; init; }

    /// <summary>Latest decision time, exclusive (null: now).</summary>
    public DateTimeOffset? To { get; init; }

    /// <summary>
    /// A policy whose probabilities and reward estimates each row carries (<c>targetProbabilities</c>,
    /// <c>rewardEstimates</c>), so that <c>flywheel evaluate</c> on the export reproduces <c>POST …/evaluate</c>:
    /// <c>champion</c> or a model version such as <c>v3</c>; null for none.
    /// </summary>
    public string? Policy { get; init; }

    /// <summary>Only the shadow mismatches (the hard examples): decisions where a shadow disagreed and the reward shows one side was clearly wrong.</summary>
    public bool MismatchesOnly { get; init; }
}

/// <summary>What <c>POST …/evaluate</c> estimates: named policies over rewarded decisions made in [<see cref="From"/>, <see cref="To"/>).</summary>
public sealed record EvaluateRequest
{
    /// <summary>The policies named by default.</summary>
    public static readonly IReadOnlyList<string> DefaultPolicies = ["champion", "logged", "uniform", "baseline"];

    /// <summary>Earliest decision time, inclusive (null: the start of the log).</summary>
    [JsonConverter(typeof(UtcTimeConverter))]
    public DateTimeOffset? From { get; init; }

    /// <summary>Latest decision time, exclusive (null: now).</summary>
    [JsonConverter(typeof(UtcTimeConverter))]
    public DateTimeOffset? To { get; init; }

    /// <summary>
    /// <c>champion</c> (the serving model), <c>v</c>N (a registered model with stored weights), <c>logged</c> (what was
    /// served), <c>uniform</c> (uniform random) or <c>baseline</c> (the product's baseline action, on the decisions that
    /// name one).
    /// </summary>
    [JsonIgnore]
    public IReadOnlyList<string> Policies { get; init; } = DefaultPolicies;

    // On the wire absent or null policies are the default ones.
    [JsonInclude, JsonPropertyName("policies")]
    internal IReadOnlyList<string>? WirePolicies { get => Policies; init => Policies = value ?? DefaultPolicies; }
}

/// <summary>One policy's estimates.</summary>
[JsonConverter(typeof(PolicyEvaluationConverter))]
public sealed record PolicyEvaluation
{
    /// <summary>The policy as named in the request.</summary>
    public required string Policy { get; init; }

    /// <summary>The model version behind it, for model policies.</summary>
    public int? Version { get; init; }

    /// <summary>The estimates (null when no decision in the range applies, e.g. <c>baseline</c> without baseline actions).</summary>
    public OffPolicyEstimates? Estimates { get; init; }

    /// <summary>
    /// For a <c>rank</c> loop, every slate estimator that applies (<c>sips</c>, <c>rips</c>, <c>snsips</c>,
    /// <c>snrips</c>, <c>cascade-dr</c>) with its bootstrap interval; null for other kinds. <see cref="Estimates"/> then
    /// holds RIPS as <c>ips</c>, SNRIPS as <c>snips</c> and cascade DR as <c>dr</c>, per ranking.
    /// </summary>
    public IReadOnlyDictionary<string, Estimate>? Rankings { get; init; }
}

/// <summary>The answer of <c>POST …/evaluate</c>.</summary>
public sealed record EvaluationReport
{
    /// <summary>The loop.</summary>
    public required string Loop { get; init; }

    /// <summary>Earliest decision time, as requested.</summary>
    [JsonConverter(typeof(UtcTimeConverter))]
    public DateTimeOffset? From { get; init; }

    /// <summary>Latest decision time, as requested.</summary>
    [JsonConverter(typeof(UtcTimeConverter))]
    public DateTimeOffset? To { get; init; }

    /// <summary>Rewarded decisions in the range.</summary>
    public required long Decisions { get; init; }

    /// <summary>
    /// Where q̂ comes from: the champion's (or the evaluated model's own) predicted rewards, scored with the weights it
    /// has now, so decisions it has learned from are in-sample.
    /// </summary>
    public required string RewardEstimates { get; init; }

    /// <summary>Each policy's estimates, in request order.</summary>
    public required IReadOnlyList<PolicyEvaluation> Policies { get; init; }
}

using System.Text.Json.Serialization;

namespace Flywheel.Core.Json;

// The wire shapes of domain types whose JSON is not their own shape, and the converters that map between them.

/// <summary>An estimate: a value or an interval end that cannot be computed (NaN, ±∞) is written as null.</summary>
internal sealed record EstimateWire(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] double? Value,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] double? Lower,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] double? Upper);

internal sealed class EstimateConverter : SurrogateConverter<Estimate, EstimateWire>
{
    protected override EstimateWire ToWire(Estimate value) => new(Finite(value.Value), Finite(value.Lower), Finite(value.Upper));

    protected override Estimate FromWire(EstimateWire wire)
        => new(wire.Value ?? double.NaN, wire.Lower ?? double.NegativeInfinity, wire.Upper ?? double.PositiveInfinity);

    internal static double? Finite(double value) => double.IsFinite(value) ? value : null;
}

/// <summary>Off-policy estimates in the shape of <c>flywheel evaluate --json</c>: <c>{ "n", "ess", "estimators": { "ips": …, "ips-cp": …, … }, … }</c>.</summary>
internal sealed record EstimatesWire(
    long N,
    [property: JsonConverter(typeof(FiniteOrNullConverter))] double Ess,
    IReadOnlyDictionary<string, Estimate> Estimators,
    [property: JsonConverter(typeof(FiniteOrNullConverter))] double MinReward,
    [property: JsonConverter(typeof(FiniteOrNullConverter))] double MaxReward,
    [property: JsonConverter(typeof(FiniteOrNullConverter))] double MaxWeight,
    [property: JsonConverter(typeof(FiniteOrNullConverter))] double MaxWeightShare = 0,
    IReadOnlyList<string>? Warnings = null);

internal class EstimatesConverter(IReadOnlyCollection<OffPolicyEstimator>? estimators = null) : SurrogateConverter<OffPolicyEstimates, EstimatesWire>
{
    public EstimatesConverter()
        : this(null)
    {
    }

    protected override EstimatesWire ToWire(OffPolicyEstimates value) => new(
        value.Count, value.EffectiveSampleSize, Estimators(value, estimators), value.MinReward, value.MaxReward, value.MaxWeight, value.MaxWeightShare, value.Warnings);

    protected override OffPolicyEstimates FromWire(EstimatesWire wire) => FromWire(wire.N, wire.Ess, wire.Estimators, wire.MinReward, wire.MaxReward, wire.MaxWeight, wire.MaxWeightShare);

    /// <summary>The estimators in canonical order, limited to <paramref name="only"/> when given; ips-cp only when available.</summary>
    internal static Dictionary<string, Estimate> Estimators(OffPolicyEstimates value, IReadOnlyCollection<OffPolicyEstimator>? only = null)
    {
        var map = new Dictionary<string, Estimate>(StringComparer.Ordinal);
        foreach (var estimator in OffPolicyEstimatorNames.All)
        {
            if ((only is null || only.Contains(estimator)) && value.Get(estimator) is { } estimate)
            {
                map[OffPolicyEstimatorNames.Name(estimator)] = estimate;
            }
        }
        return map;
    }

    /// <remarks>The warnings are not read back: they follow from the figures.</remarks>
    internal static OffPolicyEstimates FromWire(long n, double ess, IReadOnlyDictionary<string, Estimate> estimators, double minReward, double maxReward, double maxWeight, double maxWeightShare)
    {
        var nan = new Estimate(double.NaN, double.NegativeInfinity, double.PositiveInfinity);
        Estimate? Find(string name) => estimators.TryGetValue(name, out var e) ? e : null;
        return new OffPolicyEstimates
        {
            Count = n,
            EffectiveSampleSize = ess,
            Ips = Find("ips") ?? nan,
            IpsClopperPearson = Find("ips-cp"),
            Snips = Find("snips") ?? nan,
            Dm = Find("dm") ?? nan,
            Dr = Find("dr") ?? nan,
            MinReward = minReward,
            MaxReward = maxReward,
            MaxWeight = maxWeight,
            MaxWeightShare = double.IsFinite(maxWeightShare) ? maxWeightShare : 0,
        };
    }
}

/// <summary>A shadow's estimates on live traffic: only IPS, its Clopper–Pearson interval and SNIPS apply.</summary>
internal sealed class ShadowEstimatesConverter() : EstimatesConverter([OffPolicyEstimator.Ips, OffPolicyEstimator.IpsClopperPearson, OffPolicyEstimator.Snips]);

/// <summary>One policy of an evaluation report: its name and version with the estimates' members alongside.</summary>
internal sealed record PolicyEvaluationWire(
    string Policy,
    int? Version = null,
    long? N = null,
    [property: JsonConverter(typeof(FiniteOrNullConverter))] double? Ess = null,
    IReadOnlyDictionary<string, Estimate>? Estimators = null,
    [property: JsonConverter(typeof(FiniteOrNullConverter))] double? MinReward = null,
    [property: JsonConverter(typeof(FiniteOrNullConverter))] double? MaxReward = null,
    [property: JsonConverter(typeof(FiniteOrNullConverter))] double? MaxWeight = null,
    [property: JsonConverter(typeof(FiniteOrNullConverter))] double? MaxWeightShare = null,
    IReadOnlyList<string>? Warnings = null,
    IReadOnlyDictionary<string, Estimate>? Rankings = null);

internal sealed class PolicyEvaluationConverter : SurrogateConverter<PolicyEvaluation, PolicyEvaluationWire>
{
    protected override PolicyEvaluationWire ToWire(PolicyEvaluation value) => value.Estimates is { } e
        ? new(value.Policy, value.Version, e.Count, e.EffectiveSampleSize, EstimatesConverter.Estimators(e), e.MinReward, e.MaxReward, e.MaxWeight, e.MaxWeightShare, e.Warnings, value.Rankings)
        : new(value.Policy, value.Version);

    protected override PolicyEvaluation FromWire(PolicyEvaluationWire wire) => new()
    {
        Policy = wire.Policy,
        Version = wire.Version,
        Rankings = wire.Rankings,
        Estimates = wire.Estimators is { } estimators
            ? EstimatesConverter.FromWire(wire.N ?? 0, wire.Ess ?? double.NaN, estimators, wire.MinReward ?? double.NaN, wire.MaxReward ?? double.NaN, wire.MaxWeight ?? double.NaN, wire.MaxWeightShare ?? 0)
            : null,
    };
}

/// <summary>The audit view: the decision's fields, then its signals and its reward (null while its window is open).</summary>
internal sealed record DecisionAuditWire
{
    public required string DecisionId { get; init; }

    public required string Loop { get; init; }

    [JsonConverter(typeof(UtcTimeConverter))]
    public required DateTimeOffset At { get; init; }

    public string? UserId { get; init; }

    public Features Context { get; init; } = new();

    public required IReadOnlyList<ActionCandidate> Actions { get; init; }

    public string? BaselineActionId { get; init; }

    public required int ModelVersion { get; init; }

    public required string ChosenActionId { get; init; }

    public required bool Explored { get; init; }

    public required IReadOnlyList<RankedAction> Ranking { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Intervened { get; init; }

    public string? TimeZone { get; init; }

    public IReadOnlyList<ShadowChoice>? Shadows { get; init; }

    public IReadOnlyList<AuditSignal> Signals { get; init; } = [];

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public AuditReward? Reward { get; init; }

    public AuditOutput? Output { get; init; }
}

internal sealed record AuditOutput(string Text, IReadOnlyList<PromptMessage> Messages, string? Replaces,
    [property: JsonConverter(typeof(UtcTimeConverter))] DateTimeOffset RecordedAt);

internal sealed record AuditSignal(
    string SignalId,
    string Type,
    double Value,
    [property: JsonConverter(typeof(UtcTimeConverter))] DateTimeOffset At,
    [property: JsonConverter(typeof(UtcTimeConverter))] DateTimeOffset ReceivedAt,
    bool Late,
    string? ActionId = null,
    string? Text = null);

internal sealed record AuditReward(double Value, int SignalCount, [property: JsonConverter(typeof(UtcTimeConverter))] DateTimeOffset ClosedAt, WindowClose ClosedBy, long Sequence,
    IReadOnlyList<SlotReward>? Slots = null);

internal sealed class DecisionAuditConverter : SurrogateConverter<DecisionAudit, DecisionAuditWire>
{
    protected override DecisionAuditWire ToWire(DecisionAudit value)
    {
        var d = value.Decision;
        return new DecisionAuditWire
        {
            DecisionId = d.DecisionId,
            Loop = d.Loop,
            At = d.At,
            UserId = d.UserId,
            Context = d.Context,
            Actions = d.Actions,
            BaselineActionId = d.BaselineActionId,
            ModelVersion = d.ModelVersion,
            ChosenActionId = d.ChosenActionId,
            Explored = d.Explored,
            Ranking = d.Ranking,
            Intervened = d.Intervened,
            TimeZone = d.TimeZone,
            Shadows = d.Shadows.Count > 0 ? d.Shadows : null,
            Signals = [.. value.Signals.Select(s => new AuditSignal(s.SignalId, s.Type, s.Value, s.At, s.ReceivedAt, s.Late, s.ActionId, s.Text))],
            Reward = value.Reward is { } r ? new AuditReward(r.Reward, r.SignalCount, r.ClosedAt, r.ClosedBy, r.Sequence, r.Slots) : null,
            Output = value.Output is { } o ? new AuditOutput(o.Text, o.Messages, o.Replaces, o.RecordedAt) : null,
        };
    }

    protected override DecisionAudit FromWire(DecisionAuditWire wire) => new()
    {
        Decision = new DecisionRecord
        {
            Loop = wire.Loop,
            DecisionId = wire.DecisionId,
            At = wire.At,
            UserId = wire.UserId,
            Context = wire.Context,
            Actions = wire.Actions,
            BaselineActionId = wire.BaselineActionId,
            ModelVersion = wire.ModelVersion,
            ChosenActionId = wire.ChosenActionId,
            Explored = wire.Explored,
            Ranking = wire.Ranking,
            Intervened = wire.Intervened,
            TimeZone = wire.TimeZone,
            Shadows = wire.Shadows ?? [],
        },
        Signals = [.. wire.Signals.Select(s => new SignalRecord
        {
            Loop = wire.Loop,
            DecisionId = wire.DecisionId,
            SignalId = s.SignalId,
            Type = s.Type,
            Value = s.Value,
            At = s.At,
            ReceivedAt = s.ReceivedAt,
            Late = s.Late,
            ActionId = s.ActionId,
            Text = s.Text,
        })],
        Reward = wire.Reward is { } r ? new RewardRecord
        {
            Loop = wire.Loop,
            DecisionId = wire.DecisionId,
            Reward = r.Value,
            SignalCount = r.SignalCount,
            ClosedAt = r.ClosedAt,
            ClosedBy = r.ClosedBy,
            Sequence = r.Sequence,
            Slots = r.Slots,
        } : null,
        Output = wire.Output is { } o ? new OutputRecord
        {
            Loop = wire.Loop,
            DecisionId = wire.DecisionId,
            Text = o.Text,
            Messages = o.Messages,
            Replaces = o.Replaces,
            RecordedAt = o.RecordedAt,
        } : null,
    };
}

/// <summary>A loop config as written by people: every member optional, so that what is missing or null takes its default.</summary>
internal sealed record LoopConfigWire(
    string? Id,
    LoopKind? Kind,
    Dictionary<string, SignalTypeWire?>? Signals,
    RewardWire? Reward,
    ExplorationWire? Exploration,
    LearnerWire? Learner,
    TurnsWire? Turns,
    LoopMode? Mode,
    double? MinimumFeltEffect,
    RankWire? Rank = null,
    AbilityWire? Ability = null,
    GenerationWire? Generation = null);

internal sealed record SignalTypeWire(SignalKind? Kind, double? Weight, bool? ClosesWindow);

internal sealed record RewardWire(double? WindowSeconds, double? Default, RewardAggregate? Aggregate, double? Min, double? Max);

internal sealed record ExplorationWire(ExplorationAlgorithm? Algorithm, double? Epsilon, double? Lambda, double? Gamma, int? Bags);

internal sealed record LearnerWire(int? Bits, List<string?>? Interactions, double? LearningRate, double? PowerT, double? L2, Reduction? Reduction, double? Forgetting);

internal sealed record RankWire(int? Slots, PositionBias? PositionBias, double? InterventionRate);

internal sealed record AbilityWire(double? TargetSuccess, AbilityModel? Model, double? Guess, bool? Reviews, double? Retention, int? GraceDays, int? DayStartHour);

internal sealed record GenerationWire(bool? StoreText, int? MaxChars, int? MaxPromptChars);

internal sealed record TurnsWire(double? EverySeconds, int? MinDecisions, PromotionPolicy? PromoteWhen, double? Confidence, double? MismatchWeight);

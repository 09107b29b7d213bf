using System.Text.Json.Serialization;

namespace Flywheel.Core.Json;

/// <summary>
/// The wire format's contract, generated at build time. Unknown and repeated members are refused and absent ones are
/// not written; enums, features, times and the shapes that differ from their records have their own converters
/// (<see cref="WireEnumConverter{T}"/>, <see cref="FeaturesJsonConverter"/>, <see cref="UtcTimeConverter"/>,
/// <see cref="SurrogateConverter{T, TWire}"/>), attached to types and properties rather than listed here: converters
/// in the options would turn off the generated fast path for every type, the decision on the hot path included.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    AllowDuplicateProperties = false,
    MaxDepth = 32)]
[JsonSerializable(typeof(LoopConfig))]
[JsonSerializable(typeof(LoopConfigWire))]
[JsonSerializable(typeof(LoopList))]
[JsonSerializable(typeof(DecideRequest))]
[JsonSerializable(typeof(Decision))]
[JsonSerializable(typeof(SignalBatch))]
[JsonSerializable(typeof(SignalBatchResult))]
[JsonSerializable(typeof(OutputInput))]
[JsonSerializable(typeof(OutputResult))]
[JsonSerializable(typeof(OutputRecord))]
[JsonSerializable(typeof(DecisionAudit))]
[JsonSerializable(typeof(DecisionAuditWire))]
[JsonSerializable(typeof(ModelRecord))]
[JsonSerializable(typeof(ModelList))]
[JsonSerializable(typeof(TurnRecord))]
[JsonSerializable(typeof(TurnList))]
[JsonSerializable(typeof(EvaluateRequest))]
[JsonSerializable(typeof(EvaluationReport))]
[JsonSerializable(typeof(PolicyEvaluationWire))]
[JsonSerializable(typeof(ShadowReport))]
[JsonSerializable(typeof(Mismatch))]
[JsonSerializable(typeof(MismatchList))]
[JsonSerializable(typeof(ReasonRequest))]
[JsonSerializable(typeof(EmptyRequest))]
[JsonSerializable(typeof(IReadOnlyList<ShadowChoice>))]
[JsonSerializable(typeof(IReadOnlyList<PromptMessage>))]
[JsonSerializable(typeof(OffPolicyEstimates))]
[JsonSerializable(typeof(EstimatesWire))]
[JsonSerializable(typeof(Estimate))]
[JsonSerializable(typeof(EstimateWire))]
[JsonSerializable(typeof(DataWindow))]
[JsonSerializable(typeof(Features))]
[JsonSerializable(typeof(Features[]))]
[JsonSerializable(typeof(IReadOnlyList<ActionCandidate>))]
[JsonSerializable(typeof(IReadOnlyList<RankedAction>))]
[JsonSerializable(typeof(IReadOnlyList<SlotReward>))]
[JsonSerializable(typeof(LoggedDecision))]
[JsonSerializable(typeof(HealthReport))]
[JsonSerializable(typeof(PositionBiasReport))]
[JsonSerializable(typeof(LearnerReport))]
[JsonSerializable(typeof(ItemReport))]
[JsonSerializable(typeof(ReviewList))]
[JsonSerializable(typeof(ErasureResult))]
[JsonSerializable(typeof(ErasureList))]
internal sealed partial class FlywheelJsonContext : JsonSerializerContext;

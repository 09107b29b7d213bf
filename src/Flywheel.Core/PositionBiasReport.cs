using System.Text.Json.Serialization;
using Flywheel.Core.Json;

namespace Flywheel.Core;

/// <summary>
/// A <c>rank</c> loop's position bias as measured from its shuffled decisions (<c>GET /v1/loops/{loop}/position-bias</c>,
/// docs/loop-config.md "Rankings"): each slot's examination probability relative to the top slot's, with a 95% interval.
/// </summary>
/// <param name="Loop">The loop.</param>
/// <param name="PositionBias">What the loop learns with: <c>estimate</c>, <c>none</c> or the given list.</param>
/// <param name="Interventions">Shuffled decisions whose windows have closed: the evidence.</param>
/// <param name="Slots">Each slot, top first.</param>
public sealed record PositionBiasReport(string Loop, PositionBias PositionBias, long Interventions, IReadOnlyList<SlotExamination> Slots);

/// <summary>One slot's measured examination probability, relative to slot 1 (whose is 1 by definition).</summary>
/// <param name="Slot">The slot, from 1.</param>
/// <param name="Examination">The estimate; null until slot 1 has had an engaged result in a shuffled decision.</param>
/// <param name="Lower">The 95% interval's lower end (null when unknown).</param>
/// <param name="Upper">Its upper end (null when unbounded).</param>
/// <param name="Decisions">Shuffled decisions that served this slot.</param>
/// <param name="Engaged">Of them, those whose result in this slot drew a signal.</param>
/// <param name="Used">The examination probability the learner weighs this slot's rewards by now.</param>
public sealed record SlotExamination(
    int Slot,
    [property: JsonConverter(typeof(FiniteOrNullConverter))] double Examination,
    [property: JsonConverter(typeof(FiniteOrNullConverter))] double Lower,
    [property: JsonConverter(typeof(FiniteOrNullConverter))] double Upper,
    long Decisions,
    long Engaged,
    double Used);

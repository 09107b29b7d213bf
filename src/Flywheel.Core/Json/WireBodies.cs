namespace Flywheel.Core;

// Bodies of the HTTP API that are not domain records of their own.

/// <summary>The body of <c>POST /v1/loops/{loop}/signals</c>: <c>{ "signals": [ … ] }</c>.</summary>
/// <param name="Signals">The signals, at most the server's batch limit.</param>
public sealed record SignalBatch(IReadOnlyList<SignalInput> Signals);

/// <summary>The optional body of promote, rollback and retire: <c>{ "reason": "…" }</c>.</summary>
/// <param name="Reason">Why, for the ledger; at most 1,000 characters.</param>
public sealed record ReasonRequest(string? Reason = null);

/// <summary>The answer of <c>GET /v1/loops</c>.</summary>
/// <param name="Loops">Every loop's config, by id.</param>
public sealed record LoopList(IReadOnlyList<LoopConfig> Loops);

/// <summary>The answer of <c>GET /v1/loops/{loop}/models</c>.</summary>
/// <param name="Models">The registered models, oldest first.</param>
public sealed record ModelList(IReadOnlyList<ModelRecord> Models);

/// <summary>The answer of <c>GET /v1/loops/{loop}/turns</c>.</summary>
/// <param name="Turns">The turn ledger, oldest first.</param>
public sealed record TurnList(IReadOnlyList<TurnRecord> Turns);

/// <summary>The answer of <c>GET …/mismatches</c>.</summary>
/// <param name="Mismatches">The latest mismatches, oldest first.</param>
public sealed record MismatchList(IReadOnlyList<Mismatch> Mismatches);

/// <summary>The optional body of run-turn and shadow: nothing, or an empty object; they take no fields.</summary>
public sealed record EmptyRequest;

/// <summary>The body of <c>GET /v1/erasures</c>: the audit trail, oldest first.</summary>
/// <param name="Erasures">Each erasure: when, and how much it removed.</param>
public sealed record ErasureList(IReadOnlyList<ErasureRecord> Erasures);

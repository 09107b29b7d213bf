using System.Globalization;
using Flywheel.Core;

namespace Flywheel.Client;

// The model registry, the turn ledger and off-policy evaluation.
public sealed partial class FlywheelClient
{
    /// <summary>Lists a loop's registered models (<c>GET /v1/loops/{loop}/models</c>).</summary>
    /// <param name="loop">The loop's id.</param>
    /// <param name="cancellationToken">Cancels the call, retries included.</param>
    /// <returns>The models, oldest first, with their lineage, status and off-policy estimates.</returns>
    /// <exception cref="FlywheelValidationException">The loop does not exist (<see cref="ValidationKind.NotFound"/>).</exception>
    public async Task<IReadOnlyList<ModelRecord>> ListModelsAsync(string loop, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(loop);
        var response = await SendAsync(new Call(HttpMethod.Get, LoopPath(loop) + "/models"), cancellationToken).ConfigureAwait(false);
        return Read<ModelList>(response).Models;
    }

    /// <summary>Makes a registered model the champion at once (<c>POST /v1/loops/{loop}/models/{version}/promote</c>).</summary>
    /// <param name="loop">The loop's id.</param>
    /// <param name="version">The model version; it must have stored weights (the latest turn's candidates and past champions do).</param>
    /// <param name="reason">Why, for the ledger; null for none.</param>
    /// <param name="cancellationToken">Cancels the wait; a promotion the server has started still completes.</param>
    /// <returns>The ledger entry that records the promotion.</returns>
    /// <exception cref="FlywheelValidationException">
    /// No such loop or version (<see cref="ValidationKind.NotFound"/>), or the version is already the champion or has
    /// no stored weights (<see cref="ValidationKind.Conflict"/>).
    /// </exception>
    /// <remarks>Sent once: only failures that prove the server did not act (no connection, 429, 503) are retried.</remarks>
    public async Task<TurnRecord> PromoteAsync(string loop, int version, string? reason = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(loop);
        var path = $"{LoopPath(loop)}/models/{version.ToString(CultureInfo.InvariantCulture)}/promote";
        var call = new Call(HttpMethod.Post, path, ReasonBody(reason)) { Retry = Retry.NotDelivered };
        var response = await SendAsync(call, cancellationToken).ConfigureAwait(false);
        return Read<TurnRecord>(response);
    }

    /// <summary>Puts the champion's predecessor back (<c>POST /v1/loops/{loop}/rollback</c>).</summary>
    /// <param name="loop">The loop's id.</param>
    /// <param name="reason">Why, for the ledger; null for none.</param>
    /// <param name="cancellationToken">Cancels the wait; a rollback the server has started still completes.</param>
    /// <returns>The ledger entry that records the rollback.</returns>
    /// <exception cref="FlywheelValidationException">
    /// No such loop (<see cref="ValidationKind.NotFound"/>), or the champion has no predecessor with stored weights
    /// (<see cref="ValidationKind.Conflict"/>).
    /// </exception>
    /// <remarks>
    /// Sent once: only failures that prove the server did not act (no connection, 429, 503) are retried, since a
    /// second rollback would go back one more model.
    /// </remarks>
    public async Task<TurnRecord> RollbackAsync(string loop, string? reason = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(loop);
        var call = new Call(HttpMethod.Post, LoopPath(loop) + "/rollback", ReasonBody(reason)) { Retry = Retry.NotDelivered };
        var response = await SendAsync(call, cancellationToken).ConfigureAwait(false);
        return Read<TurnRecord>(response);
    }

    /// <summary>Reads a loop's turn ledger (<c>GET /v1/loops/{loop}/turns</c>).</summary>
    /// <param name="loop">The loop's id.</param>
    /// <param name="cancellationToken">Cancels the call, retries included.</param>
    /// <returns>Turns, manual promotions and rollbacks, oldest first, with their evidence.</returns>
    /// <exception cref="FlywheelValidationException">The loop does not exist (<see cref="ValidationKind.NotFound"/>).</exception>
    public async Task<IReadOnlyList<TurnRecord>> ListTurnsAsync(string loop, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(loop);
        var response = await SendAsync(new Call(HttpMethod.Get, LoopPath(loop) + "/turns"), cancellationToken).ConfigureAwait(false);
        return Read<TurnList>(response).Turns;
    }

    /// <summary>Runs a turn now (<c>POST /v1/loops/{loop}/turns</c>) and waits for its ledger entry.</summary>
    /// <param name="loop">The loop's id.</param>
    /// <param name="cancellationToken">Cancels the wait; a turn the server has started still runs to its ledger entry.</param>
    /// <returns>The ledger entry of the turn: candidates with their estimates, the verdict and why.</returns>
    /// <exception cref="FlywheelValidationException">The loop does not exist (<see cref="ValidationKind.NotFound"/>).</exception>
    /// <exception cref="TimeoutException">
    /// No answer within <see cref="FlywheelClientOptions.LongOperationTimeout"/>. The turn may still be running on the
    /// server: read <see cref="ListTurnsAsync"/> rather than calling again.
    /// </exception>
    /// <remarks>
    /// A turn is not idempotent: each request trains, judges and may promote. The client therefore never repeats a
    /// request the server may have received; it retries only when the connection could not be made or the server
    /// answered 429 or 503. After a timeout the first turn may still be running, and a second request would queue
    /// another turn behind it (the server runs a loop's turns one at a time), so the timeout is reported instead.
    /// </remarks>
    public async Task<TurnRecord> RunTurnAsync(string loop, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(loop);
        var call = new Call(HttpMethod.Post, LoopPath(loop) + "/turns") { Retry = Retry.NotDelivered, LongRunning = true };
        var response = await SendAsync(call, cancellationToken).ConfigureAwait(false);
        return Read<TurnRecord>(response);
    }

    /// <summary>Estimates named policies off-policy over a time range (<c>POST /v1/loops/{loop}/evaluate</c>).</summary>
    /// <param name="loop">The loop's id.</param>
    /// <param name="request">The range and the policies: <c>champion</c>, <c>v</c>N, <c>logged</c>, <c>uniform</c>, <c>baseline</c>.</param>
    /// <param name="cancellationToken">Cancels the call, retries included.</param>
    /// <returns>Each policy's IPS, SNIPS, DM and DR estimates with their intervals, in request order.</returns>
    /// <exception cref="FlywheelValidationException">The loop or a model version does not exist, or a policy or the range is invalid; the field is named.</exception>
    /// <remarks>A read: retried on transient failures, each attempt allowed <see cref="FlywheelClientOptions.LongOperationTimeout"/>.</remarks>
    public async Task<EvaluationReport> EvaluateAsync(string loop, EvaluateRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(loop);
        ArgumentNullException.ThrowIfNull(request);
        var body = FlywheelJson.ToUtf8(request);
        var call = new Call(HttpMethod.Post, LoopPath(loop) + "/evaluate", body) { LongRunning = true };
        var response = await SendAsync(call, cancellationToken).ConfigureAwait(false);
        return Read<EvaluationReport>(response);
    }

    private static byte[]? ReasonBody(string? reason) => reason is null ? null : FlywheelJson.ToUtf8(new ReasonRequest(reason));
}

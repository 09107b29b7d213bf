using System.Globalization;
using Flywheel.Core;

namespace Flywheel.Client;

// Shadow mode: models that score every decision without being served, their report and their mismatches.
public sealed partial class FlywheelClient
{
    /// <summary>Makes a registered model a shadow (<c>POST /v1/loops/{loop}/models/{version}/shadow</c>).</summary>
    /// <param name="loop">The loop's id.</param>
    /// <param name="version">The model version; it must have stored weights (the latest turn's candidates and past champions do).</param>
    /// <param name="cancellationToken">Cancels the wait; a change the server has started still completes.</param>
    /// <returns>The model, now with status <see cref="ModelStatus.Shadow"/>: it scores every decision from now on.</returns>
    /// <exception cref="FlywheelValidationException">
    /// No such loop or version (<see cref="ValidationKind.NotFound"/>), or the version is the champion or has no
    /// stored weights (<see cref="ValidationKind.Conflict"/>).
    /// </exception>
    /// <remarks>
    /// Retried on every transient failure, unlike <see cref="PromoteAsync"/>: the call sets a status rather than
    /// taking a step. A second attempt after a first that did act makes the same model a shadow again and answers the
    /// same record (only <see cref="ModelRecord.StatusChangedAt"/> moves), where a second promotion would be refused
    /// as "already the champion" and a second rollback would go back one more model. A retry also repairs a first
    /// attempt that failed half-way. Each attempt may take <see cref="FlywheelClientOptions.LongOperationTimeout"/>,
    /// because the server applies the change only once a running turn has finished.
    /// </remarks>
    public async Task<ModelRecord> ShadowAsync(string loop, int version, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(loop);
        var call = new Call(HttpMethod.Post, ModelPath(loop, version) + "/shadow") { Retry = Retry.Transient, LongRunning = true };
        var response = await SendAsync(call, cancellationToken).ConfigureAwait(false);
        return Read<ModelRecord>(response);
    }

    /// <summary>Retires a shadow or a candidate (<c>POST /v1/loops/{loop}/models/{version}/retire</c>); a shadow stops scoring decisions.</summary>
    /// <param name="loop">The loop's id.</param>
    /// <param name="version">The model version.</param>
    /// <param name="reason">Why, recorded with the model; null for none.</param>
    /// <param name="cancellationToken">Cancels the wait; a change the server has started still completes.</param>
    /// <returns>The model, now with status <see cref="ModelStatus.Retired"/>.</returns>
    /// <exception cref="FlywheelValidationException">
    /// No such loop or version (<see cref="ValidationKind.NotFound"/>), or the version is the champion
    /// (<see cref="ValidationKind.Conflict"/>: promote another model or roll back instead).
    /// </exception>
    /// <remarks>
    /// Retried on every transient failure, as <see cref="ShadowAsync"/> is: retiring a retired model again changes
    /// nothing but its status time, so repeating a request the server may already have carried out is safe.
    /// </remarks>
    public async Task<ModelRecord> RetireAsync(string loop, int version, string? reason = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(loop);
        var call = new Call(HttpMethod.Post, ModelPath(loop, version) + "/retire", ReasonBody(reason)) { Retry = Retry.Transient, LongRunning = true };
        var response = await SendAsync(call, cancellationToken).ConfigureAwait(false);
        return Read<ModelRecord>(response);
    }

    /// <summary>Reads how a shadow compares with what was served (<c>GET /v1/loops/{loop}/models/{version}/shadow</c>).</summary>
    /// <param name="loop">The loop's id.</param>
    /// <param name="version">The shadow's model version (a retired shadow still has its report).</param>
    /// <param name="cancellationToken">Cancels the call, retries included.</param>
    /// <returns>
    /// The rewarded decisions it scored, its agreements and agreement rate, its IPS and SNIPS on live traffic with
    /// intervals (null before it has scored a rewarded decision), the served mean and the mismatch count.
    /// </returns>
    /// <exception cref="FlywheelValidationException">No such loop or version (<see cref="ValidationKind.NotFound"/>).</exception>
    /// <remarks>A read over the loop's reward log: retried on transient failures, each attempt allowed <see cref="FlywheelClientOptions.LongOperationTimeout"/>.</remarks>
    public async Task<ShadowReport> GetShadowReportAsync(string loop, int version, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(loop);
        var call = new Call(HttpMethod.Get, ModelPath(loop, version) + "/shadow") { LongRunning = true };
        var response = await SendAsync(call, cancellationToken).ConfigureAwait(false);
        return Read<ShadowReport>(response);
    }

    /// <summary>Reads the loop's health report and verdict (<c>GET /v1/loops/{loop}/health</c>).</summary>
    /// <param name="loop">The loop's id.</param>
    /// <param name="cancellationToken">Cancels the call, retries included.</param>
    /// <returns>Every health figure with its definition, window and sample size, and the verdict.</returns>
    /// <exception cref="FlywheelValidationException">No such loop (<see cref="ValidationKind.NotFound"/>).</exception>
    /// <remarks>A read over the loop's whole log: retried on transient failures, each attempt allowed <see cref="FlywheelClientOptions.LongOperationTimeout"/>.</remarks>
    public async Task<HealthReport> GetHealthAsync(string loop, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(loop);
        var call = new Call(HttpMethod.Get, LoopPath(loop) + "/health") { LongRunning = true };
        var response = await SendAsync(call, cancellationToken).ConfigureAwait(false);
        return Read<HealthReport>(response);
    }

    /// <summary>A <c>rank</c> loop's position bias: each slot's examination probability relative to slot 1, with 95% intervals.</summary>
    /// <param name="loop">The loop.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="FlywheelValidationException">No such loop (<see cref="ValidationKind.NotFound"/>), or not a rank loop (<see cref="ValidationKind.NotSupported"/>).</exception>
    public async Task<PositionBiasReport> GetPositionBiasAsync(string loop, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(loop);
        var response = await SendAsync(new Call(HttpMethod.Get, LoopPath(loop) + "/position-bias"), cancellationToken).ConfigureAwait(false);
        return Read<PositionBiasReport>(response);
    }

    /// <summary>
    /// Lists the latest mismatches of one shadow (<c>GET /v1/loops/{loop}/models/{version}/mismatches</c>) or of
    /// every shadow (<c>GET /v1/loops/{loop}/mismatches</c>).
    /// </summary>
    /// <param name="loop">The loop's id.</param>
    /// <param name="version">The shadow's model version, or null for every shadow.</param>
    /// <param name="limit">How many of the latest to answer: 1 to 100,000 (the server refuses more).</param>
    /// <param name="cancellationToken">Cancels the call, retries included.</param>
    /// <returns>The mismatches, oldest first: decisions where a shadow disagreed and the reward shows one side was clearly wrong.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is below 1.</exception>
    /// <exception cref="FlywheelValidationException">
    /// No such loop or version (<see cref="ValidationKind.NotFound"/>), or a limit over the server's maximum
    /// (<see cref="ValidationKind.Invalid"/>, field <c>limit</c>).
    /// </exception>
    /// <remarks>A read over the loop's reward log: retried on transient failures, each attempt allowed <see cref="FlywheelClientOptions.LongOperationTimeout"/>.</remarks>
    public async Task<IReadOnlyList<Mismatch>> ListMismatchesAsync(string loop, int? version = null, int limit = 100, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(loop);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var path = (version is { } v ? ModelPath(loop, v) : LoopPath(loop)) + "/mismatches?limit=" + limit.ToString(CultureInfo.InvariantCulture);
        var call = new Call(HttpMethod.Get, path) { LongRunning = true };
        var response = await SendAsync(call, cancellationToken).ConfigureAwait(false);
        return Read<MismatchList>(response).Mismatches;
    }

    private static string ModelPath(string loop, int version) => $"{LoopPath(loop)}/models/{version.ToString(CultureInfo.InvariantCulture)}";
}

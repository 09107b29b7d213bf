using Flywheel.Core;

namespace Flywheel.Client;

public sealed partial class FlywheelClient
{
    /// <summary>
    /// Erases everything stored about a user in every loop (<c>DELETE /v1/users/{userId}</c>): their decisions with
    /// rewards and shadow choices, the signals of those decisions and every signal naming them, their open windows.
    /// </summary>
    /// <param name="userId">The user to erase.</param>
    /// <param name="cancellationToken">Cancels the call, retries included.</param>
    /// <returns>The audit entry: when, and how much was removed (zero counts when nothing was stored).</returns>
    /// <remarks>
    /// Retried on transient failures: erasing twice removes nothing more, though each attempt that reached the server
    /// leaves its own audit entry. Each attempt may take <see cref="FlywheelClientOptions.LongOperationTimeout"/>.
    /// </remarks>
    public async Task<ErasureResult> EraseUserAsync(string userId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        var call = new Call(HttpMethod.Delete, "v1/users/" + Uri.EscapeDataString(userId)) { LongRunning = true };
        var response = await SendAsync(call, cancellationToken).ConfigureAwait(false);
        return Read<ErasureResult>(response);
    }

    /// <summary>The erasure audit trail, oldest first (<c>GET /v1/erasures</c>).</summary>
    /// <param name="cancellationToken">Cancels the call, retries included.</param>
    public async Task<IReadOnlyList<ErasureRecord>> ListErasuresAsync(CancellationToken cancellationToken = default)
    {
        var response = await SendAsync(new Call(HttpMethod.Get, "v1/erasures"), cancellationToken).ConfigureAwait(false);
        return Read<ErasureList>(response).Erasures;
    }
}

using System.Globalization;
using Flywheel.Core;

namespace Flywheel.Client;

// Ability loops: their learners, reviews and items.
public sealed partial class FlywheelClient
{
    /// <summary>A learner of an <c>ability</c> loop (<c>GET /v1/loops/{loop}/learners/{userId}</c>).</summary>
    /// <param name="loop">The loop.</param>
    /// <param name="userId">The learner.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Ability with its 95% interval, answers, success rate, streak and reviews due.</returns>
    /// <exception cref="FlywheelValidationException">
    /// No such loop or learner (<see cref="ValidationKind.NotFound"/>), or not an ability loop (<see cref="ValidationKind.NotSupported"/>).
    /// </exception>
    public async Task<LearnerReport> GetLearnerAsync(string loop, string userId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(loop);
        ArgumentException.ThrowIfNullOrEmpty(userId);
        var response = await SendAsync(new Call(HttpMethod.Get, $"{LoopPath(loop)}/learners/{Uri.EscapeDataString(userId)}"), cancellationToken).ConfigureAwait(false);
        return Read<LearnerReport>(response);
    }

    /// <summary>The items a learner should review by <paramref name="due"/> (<c>GET …/learners/{userId}/reviews</c>).</summary>
    /// <param name="loop">The loop.</param>
    /// <param name="userId">The learner.</param>
    /// <param name="due">List the items due at or before this time; the server's now when null.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The items, least remembered first.</returns>
    /// <exception cref="FlywheelValidationException">No such loop (<see cref="ValidationKind.NotFound"/>), or not an ability loop (<see cref="ValidationKind.NotSupported"/>).</exception>
    public async Task<ReviewList> GetReviewsAsync(string loop, string userId, DateTimeOffset? due = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(loop);
        ArgumentException.ThrowIfNullOrEmpty(userId);
        var path = $"{LoopPath(loop)}/learners/{Uri.EscapeDataString(userId)}/reviews";
        if (due is { } at)
        {
            path += "?due=" + Uri.EscapeDataString(at.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
        }
        var response = await SendAsync(new Call(HttpMethod.Get, path), cancellationToken).ConfigureAwait(false);
        return Read<ReviewList>(response);
    }

    /// <summary>An item of an <c>ability</c> loop (<c>GET /v1/loops/{loop}/items/{actionId}</c>).</summary>
    /// <param name="loop">The loop.</param>
    /// <param name="actionId">The item.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Difficulty with its 95% interval and answers.</returns>
    /// <exception cref="FlywheelValidationException">
    /// No such loop or item (<see cref="ValidationKind.NotFound"/>), or not an ability loop (<see cref="ValidationKind.NotSupported"/>).
    /// </exception>
    public async Task<ItemReport> GetItemAsync(string loop, string actionId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(loop);
        ArgumentException.ThrowIfNullOrEmpty(actionId);
        var response = await SendAsync(new Call(HttpMethod.Get, $"{LoopPath(loop)}/items/{Uri.EscapeDataString(actionId)}"), cancellationToken).ConfigureAwait(false);
        return Read<ItemReport>(response);
    }
}

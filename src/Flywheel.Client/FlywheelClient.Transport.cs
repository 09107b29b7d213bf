namespace Flywheel.Client;

public sealed partial class FlywheelClient
{
    /// <summary>Sends one request through the client's resilience pipeline (see <see cref="FlywheelTransport"/>).</summary>
    private Task<Response> SendAsync(HttpMethod method, string path, byte[]? body, bool allowNotFound, CancellationToken cancellationToken)
        => _transport.SendAsync(new Call(method, path, body) { AllowNotFound = allowNotFound }, cancellationToken);

    /// <summary>Sends <paramref name="call"/> and reads its whole answer.</summary>
    private Task<Response> SendAsync(Call call, CancellationToken cancellationToken) => _transport.SendAsync(call, cancellationToken);

    /// <summary>Sends <paramref name="call"/> and returns the successful answer unread, which the caller disposes.</summary>
    private Task<HttpResponseMessage> SendCoreAsync(Call call, CancellationToken cancellationToken) => _transport.SendCoreAsync(call, cancellationToken);

    /// <summary>The delay after failed attempt <paramref name="attempt"/> (from 1): Retry-After, else doubling backoff with jitter.</summary>
    internal TimeSpan Backoff(int attempt, TimeSpan? retryAfter) => _transport.Backoff(attempt, retryAfter);
}

using System.Net.Sockets;

namespace Flywheel.AI.Tests;

/// <summary>
/// Sends every request to <see cref="Target"/>'s host and port: a client that follows a restarted server. With no
/// target, every connection is refused (so a stopped server's port, even if another test's server takes it, is never
/// reached).
/// </summary>
internal sealed class RedirectHandler(Uri target) : DelegatingHandler(new SocketsHttpHandler())
{
    public Uri? Target { get; set; } = target;

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (Target is null)
        {
            throw new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused", new SocketException((int)SocketError.ConnectionRefused));
        }
        request.RequestUri = new UriBuilder(request.RequestUri!) { Host = Target.Host, Port = Target.Port }.Uri;
        return base.SendAsync(request, cancellationToken);
    }
}

/// <summary>A network where the server refuses every connection, as a stopped server's port does.</summary>
internal sealed class RefusingHandler : HttpMessageHandler
{
    public int Attempts { get; private set; }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Attempts++;
        throw new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused", new SocketException((int)SocketError.ConnectionRefused));
    }
}

using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Flywheel.Server;

/// <summary>
/// Admission control (docs/operations.md, "Limits and overload"): at most
/// <see cref="FlywheelServerOptions.MaxConcurrentRequests"/> requests in progress and at most
/// <see cref="FlywheelServerOptions.MaxInFlightBodyBytes"/> of request bodies held at once. A request over either bound
/// is answered 503 with <c>Retry-After</c> at once, before its body is read: past capacity, waiting requests only add
/// latency and memory, and a client that retries later loses nothing. Liveness, readiness and metrics are never refused,
/// so an overloaded server can still be watched.
/// </summary>
internal sealed class RequestAdmission(IOptions<FlywheelServerOptions> settings)
{
    private static readonly string[] Unmetered = ["/healthz", "/readyz", "/metrics"];
    private readonly int _maxRequests = settings.Value.MaxConcurrentRequests;
    private readonly long _maxBytes = settings.Value.MaxInFlightBodyBytes;
    private readonly long _unknownLength = settings.Value.MaxRequestBodyBytes;
    private int _requests;
    private long _bytes;

    /// <summary>Requests in progress (not counting the unmetered ones).</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Body bytes reserved by the requests in progress.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    public static void Use(WebApplication app)
    {
        var admission = app.Services.GetRequiredService<RequestAdmission>();
        app.Use(admission.InvokeAsync);
    }

    public async Task InvokeAsync(HttpContext http, RequestDelegate next)
    {
        if (IsUnmetered(http.Request.Path))
        {
            await next(http);
            return;
        }
        // A body of unknown length (chunked) may grow to the largest allowed, so it reserves that much; a declared length
        // over that limit is refused with 413 when the body is read, so it never needs more.
        var bytes = Math.Min(http.Request.ContentLength ?? (HasBody(http.Request) ? _unknownLength : 0), _unknownLength);
        if (Interlocked.Increment(ref _requests) > _maxRequests)
        {
            Interlocked.Decrement(ref _requests);
            await RefuseAsync(http, $"{_maxRequests} requests are already in progress (FlywheelServerOptions.MaxConcurrentRequests, serve --max-concurrent-requests); retry after the delay in Retry-After");
            return;
        }
        try
        {
            // The budget is at least the largest body, so a request alone always fits.
            if (bytes > 0 && Interlocked.Add(ref _bytes, bytes) > _maxBytes)
            {
                Interlocked.Add(ref _bytes, -bytes);
                bytes = 0;
                await RefuseAsync(http, $"request bodies in progress would exceed {_maxBytes:N0} bytes (FlywheelServerOptions.MaxInFlightBodyBytes); retry after the delay in Retry-After");
                return;
            }
            try
            {
                await next(http);
            }
            finally
            {
                if (bytes > 0)
                {
                    Interlocked.Add(ref _bytes, -bytes);
                }
            }
        }
        finally
        {
            Interlocked.Decrement(ref _requests);
        }
    }

    private static bool IsUnmetered(PathString path)
    {
        foreach (var p in Unmetered)
        {
            if (path.Equals(p, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }

    private static bool HasBody(HttpRequest request)
        => request.Headers.TransferEncoding.Count > 0 && !HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method);

    private static Task RefuseAsync(HttpContext http, string detail)
    {
        // The body stays unread: Kestrel discards it without holding it.
        http.Response.Headers.RetryAfter = "1";
        return ProblemDetailsWriter.WriteAsync(http, 503, "Overloaded", detail, null);
    }

    /// <summary>The Retry-After value, in whole seconds, for a wait of <paramref name="delay"/>.</summary>
    public static string RetryAfter(TimeSpan delay) => Math.Max(1, (int)Math.Ceiling(delay.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
}

using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Flywheel.Server.Dashboard;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Flywheel.Server;

/// <summary>
/// What an endpoint needs (docs/security.md): the scope a key must grant, or <see cref="ApiKeyScopes.None"/> for an
/// endpoint open to everyone (<c>/healthz</c>, the OpenAPI document, the sign-in page). An endpoint without it needs an
/// <see cref="ApiKeyScopes.Admin"/> key, so a new endpoint fails closed.
/// </summary>
/// <param name="Scope">The scope the key must grant.</param>
public sealed record FlywheelAccessMetadata(ApiKeyScopes Scope);

/// <summary>Marks the dashboard's GET routes: the only ones that accept the sign-in cookie instead of a bearer header.</summary>
internal sealed record DashboardCookieMetadata;

/// <summary>Declares what the Flywheel endpoints need.</summary>
public static class FlywheelAccessExtensions
{
    /// <summary>
    /// Requires a key granting <paramref name="scope"/> once the store holds keys. A key bound to one loop may only use
    /// endpoints whose route has a <c>{loop}</c> naming that loop. <see cref="ApiKeyScopes.Admin"/> keys may do everything.
    /// </summary>
    public static TBuilder RequireFlywheelScope<TBuilder>(this TBuilder builder, ApiKeyScopes scope) where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Add(b => b.Metadata.Add(new FlywheelAccessMetadata(scope)));
        return builder;
    }

    /// <summary>Leaves the endpoint open to anyone who can reach the server, with or without keys.</summary>
    public static TBuilder AllowWithoutKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
        => builder.RequireFlywheelScope(ApiKeyScopes.None);
}

/// <summary>Whether authentication is on, and the store that holds the keys.</summary>
internal sealed class ApiKeyAccess(StoreCapture capture, IOptions<FlywheelServerOptions> options)
{
    private volatile bool _on;

    /// <summary>The key store: <see cref="FlywheelServerOptions.ApiKeyStore"/>, else the engine's store when it keeps keys.</summary>
    public IApiKeyStore? Store => options.Value.ApiKeyStore ?? capture.Store as IApiKeyStore;

    /// <summary>
    /// True once the store holds a key (revoked ones count). Once on it stays on for the life of the process; while
    /// off, every request asks the store again, so a key created with <c>flywheel keys create</c> turns it on at once.
    /// </summary>
    public async ValueTask<bool> IsOnAsync(CancellationToken cancellationToken)
    {
        if (_on)
        {
            return true;
        }
        if (Store is not { } store)
        {
            return false;
        }
        _on = await store.HasApiKeysAsync(cancellationToken);
        return _on;
    }

    /// <summary>The working key <paramref name="key"/> names, or null when it is malformed, unknown, wrong or revoked.</summary>
    public async ValueTask<ApiKeyRecord?> FindAsync(string key, CancellationToken cancellationToken)
    {
        if (ApiKeys.TryGetId(key) is not { } id || Store is not { } store)
        {
            return null;
        }
        // The id is public (it is printed by `keys list`); only the secret part is checked, in constant time.
        var record = await store.FindApiKeyAsync(id, cancellationToken);
        return record is not null && ApiKeys.Matches(record, key) ? record : null;
    }
}

/// <summary>
/// The request checks every response goes through (docs/security.md): <c>X-Content-Type-Options: nosniff</c>, the
/// <c>Host</c> filter against DNS rebinding, and the API key with its scope and loop.
/// </summary>
internal static class FlywheelSecurity
{
    /// <summary>The dashboard's cookie: the read key, HttpOnly, SameSite=Strict, Secure over https.</summary>
    public const string CookieName = "flywheel_key";

    private static readonly string[] LoopbackHosts = ["localhost", "127.0.0.1", "::1"];

    /// <summary>The host names requests may carry: the configured ones, or the loopback names plus the bound host names.</summary>
    public static HashSet<string> AllowedHosts(FlywheelServerOptions options)
    {
        var hosts = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        if (options.AllowedHosts.Count > 0)
        {
            foreach (var host in options.AllowedHosts)
            {
                hosts.Add(host.Trim().Trim('[', ']'));
            }
            return hosts;
        }
        hosts.UnionWith(LoopbackHosts);
        foreach (var host in BoundHosts(options.Urls))
        {
            if (!IsWildcard(host))
            {
                hosts.Add(host);
            }
        }
        return hosts;
    }

    /// <summary>The host part of each URL of <paramref name="urls"/> (separated by ';'), brackets removed.</summary>
    public static IEnumerable<string> BoundHosts(string urls)
    {
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var rest = url.Contains("://", StringComparison.Ordinal) ? url[(url.IndexOf("://", StringComparison.Ordinal) + 3)..] : url;
            rest = rest.Split('/')[0];
            string host;
            if (rest.StartsWith('['))
            {
                var end = rest.IndexOf(']', StringComparison.Ordinal);
                host = end > 0 ? rest[1..end] : rest;
            }
            else
            {
                var colon = rest.LastIndexOf(':');
                host = colon >= 0 ? rest[..colon] : rest;
            }
            yield return host;
        }
    }

    /// <summary>True when every URL listens on loopback only (localhost, 127.0.0.0/8, ::1).</summary>
    public static bool IsLoopbackOnly(string urls)
        => BoundHosts(urls).All(h => string.Equals(h, "localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(h, out var ip) && IPAddress.IsLoopback(ip)));

    public static bool IsWildcard(string host)
        => host is "*" or "+" or "" || (IPAddress.TryParse(host, out var ip) && (ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any)));

    /// <summary>Adds the checks to the pipeline, after routing so each endpoint's <see cref="FlywheelAccessMetadata"/> is known.</summary>
    public static void Use(WebApplication app, FlywheelServerOptions options)
    {
        var allowed = AllowedHosts(options);
        var anyHost = allowed.Contains("*");
        app.Use(async (http, next) =>
        {
            http.Response.Headers[HeaderNames.XContentTypeOptions] = "nosniff";
            if (!anyHost)
            {
                var host = http.Request.Host.Host.Trim('[', ']');
                if (host.Length == 0 || !allowed.Contains(host))
                {
                    await ProblemDetailsWriter.WriteAsync(http, 400, "Bad request",
                        $"Host '{http.Request.Host.Value}' is not served here; allowed: {string.Join(", ", allowed.Order(StringComparer.Ordinal))} (FlywheelServerOptions.AllowedHosts, serve --allowed-hosts)",
                        "Host");
                    return;
                }
            }
            await CheckKeyAsync(http, next);
        });
    }

    private static async Task CheckKeyAsync(HttpContext http, RequestDelegate next)
    {
        if (http.GetEndpoint() is not { } endpoint)
        {
            await next(http);
            return;
        }
        var scope = endpoint.Metadata.GetMetadata<FlywheelAccessMetadata>()?.Scope ?? ApiKeyScopes.Admin;
        if (scope == ApiKeyScopes.None)
        {
            await next(http);
            return;
        }
        var access = http.RequestServices.GetRequiredService<ApiKeyAccess>();
        if (!await access.IsOnAsync(http.RequestAborted))
        {
            await next(http);
            return;
        }
        var dashboard = endpoint.Metadata.GetMetadata<DashboardCookieMetadata>() is not null && (HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method));
        var (key, problem) = ReadKey(http.Request, dashboard);
        if (key is null)
        {
            await RefuseAsync(http, 401, "Unauthorized", problem!, dashboard);
            return;
        }
        if (await access.FindAsync(key, http.RequestAborted) is not { } record)
        {
            await RefuseAsync(http, 401, "Unauthorized", "the API key is not valid: unknown, revoked or mistyped", dashboard);
            return;
        }
        if (!record.Grants(scope))
        {
            await RefuseAsync(http, 403, "Forbidden",
                $"this endpoint needs a key with scope {ApiKeys.FormatScopes(scope)}; key {record.Id} has {ApiKeys.FormatScopes(record.Scopes)}", dashboard);
            return;
        }
        if (record.Loop is { } keyLoop)
        {
            var loop = http.Request.RouteValues.TryGetValue("loop", out var value) ? value as string : null;
            if (loop is null)
            {
                await RefuseAsync(http, 403, "Forbidden", $"key {record.Id} is bound to loop '{keyLoop}' and cannot use an endpoint that spans every loop", dashboard);
                return;
            }
            if (!string.Equals(loop, keyLoop, StringComparison.Ordinal))
            {
                await RefuseAsync(http, 403, "Forbidden", $"key {record.Id} is bound to loop '{keyLoop}', not '{loop}'", dashboard);
                return;
            }
        }
        await next(http);
    }

    /// <summary>The key of <c>Authorization: Bearer KEY</c>, or (dashboard GETs only) of the sign-in cookie; else why not.</summary>
    private static (string? Key, string? Problem) ReadKey(HttpRequest request, bool dashboard)
    {
        var headers = request.Headers.Authorization;
        if (headers.Count == 0 || StringValues.IsNullOrEmpty(headers))
        {
            if (dashboard && request.Cookies.TryGetValue(CookieName, out var cookie) && !string.IsNullOrEmpty(cookie))
            {
                return (cookie, null);
            }
            return (null, "an API key is required: send Authorization: Bearer KEY (create one with flywheel keys create)");
        }
        if (headers.Count > 1)
        {
            return (null, "Authorization is given more than once");
        }
        var value = headers[0]!;
        const string scheme = "Bearer ";
        if (!value.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) || value.Length == scheme.Length)
        {
            return (null, "Authorization must be 'Bearer KEY'");
        }
        var key = value[scheme.Length..].Trim();
        return ApiKeys.TryGetId(key) is null
            ? (null, "the API key is malformed: Flywheel keys look like fwk_ followed by 56 characters")
            : (key, null);
    }

    private static async Task RefuseAsync(HttpContext http, int status, string title, string detail, bool dashboard)
    {
        if (status == 401)
        {
            http.Response.Headers.WWWAuthenticate = "Bearer realm=\"flywheel\"";
        }
        var accept = http.Request.Headers.Accept.ToString();
        if (dashboard && accept.Contains("text/html", StringComparison.OrdinalIgnoreCase))
        {
            // A browser gets the sign-in form in place of the page, and comes back here once signed in.
            var returnTo = http.Request.Path + http.Request.QueryString;
            http.Response.StatusCode = status;
            http.Response.ContentType = "text/html; charset=utf-8";
            await http.Response.WriteAsync(DashboardSignIn.Form(returnTo, status == 401 ? null : detail), http.RequestAborted);
            return;
        }
        await ProblemDetailsWriter.WriteAsync(http, status, title, detail, status == 401 ? "Authorization" : null);
    }
}

using static Flywheel.Server.Dashboard.Html;

namespace Flywheel.Server.Dashboard;

/// <summary>
/// Signing in to the dashboard once the store holds keys (docs/dashboard.md): a form takes a key that grants
/// <c>read</c> and keeps it in an HttpOnly, SameSite=Strict cookie (Secure over https), which the server accepts on the
/// dashboard's GET routes only. Pages are drawn by the server without script, so a cookie is the one way a browser
/// can present a key; SameSite=Strict keeps other sites from sending it, and it opens nothing that changes state.
/// </summary>
internal static class DashboardSignIn
{
    private const string HtmlType = "text/html; charset=utf-8";

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/sign-in", (string? returnTo) => Results.Content(Form(SafeReturn(returnTo), null), HtmlType))
            .ExcludeFromDescription().AllowWithoutKey();
        endpoints.MapPost("/sign-in", SignInAsync).ExcludeFromDescription().AllowWithoutKey().DisableAntiforgery();
    }

    /// <summary>The sign-in form; <paramref name="error"/> says why the last try failed.</summary>
    public static string Form(string returnTo, string? error) => Html.Page(
        "Sign in · Flywheel",
        "<h1>Sign in</h1>"
        + "<p>This server requires an API key. Paste a key with the <code>read</code> scope "
        + "(<code>flywheel keys create --scope read</code>); it is kept in a cookie this browser sends to the dashboard only.</p>"
        + (error is null ? "" : $"<p data-sign-in-error><strong>{E(error)}</strong></p>")
        + "<form method=\"post\" action=\"/sign-in\">"
        + $"<input type=\"hidden\" name=\"returnTo\" value=\"{E(returnTo)}\">"
        + "<label>API key <input type=\"password\" name=\"key\" autocomplete=\"off\" required size=\"64\"></label> "
        + "<button type=\"submit\">Sign in</button></form>",
        0);

    private static async Task<IResult> SignInAsync(HttpContext http, ApiKeyAccess access)
    {
        // Only a form from this very page may sign in: another site posting its own key would sign the operator in as
        // someone else (login forgery). Browsers send Origin on POSTs and Sec-Fetch-Site with it.
        var origin = http.Request.Headers.Origin.ToString();
        var site = http.Request.Headers["Sec-Fetch-Site"].ToString();
        var self = $"{http.Request.Scheme}://{http.Request.Host.Value}";
        if ((origin.Length > 0 && !string.Equals(origin, self, StringComparison.OrdinalIgnoreCase)) || (site.Length > 0 && site is not ("same-origin" or "none")))
        {
            return Results.Content(Form("/", "sign-in must come from this server's own page"), HtmlType, statusCode: 403);
        }
        if (!http.Request.HasFormContentType)
        {
            return Results.Content(Form("/", "the sign-in form was not sent as a form"), HtmlType, statusCode: 415);
        }
        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        var returnTo = SafeReturn(form["returnTo"].ToString());
        var key = form["key"].ToString().Trim();
        var record = key.Length == 0 ? null : await access.FindAsync(key, http.RequestAborted);
        if (record is null)
        {
            return Results.Content(Form(returnTo, "that key is not valid: unknown, revoked or mistyped"), HtmlType, statusCode: 401);
        }
        if (!record.Grants(ApiKeyScopes.Read))
        {
            return Results.Content(Form(returnTo, $"key {record.Id} has scope {ApiKeys.FormatScopes(record.Scopes)}; the dashboard needs read"), HtmlType, statusCode: 403);
        }
        http.Response.Cookies.Append(FlywheelSecurity.CookieName, key, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = http.Request.IsHttps,
            Path = "/",
            IsEssential = true,
        });
        // A key bound to one loop cannot see the list of every loop: send it to its own loop's page.
        if (record.Loop is { } loop && returnTo == "/")
        {
            returnTo = "/loops/" + U(loop);
        }
        // 303: the browser follows with a GET, and a reload does not post the key again.
        http.Response.Headers.Location = returnTo;
        return Results.StatusCode(StatusCodes.Status303SeeOther);
    }

    /// <summary>A local path to go back to; anything else (another site, <c>//host</c>) becomes <c>/</c>.</summary>
    private static string SafeReturn(string? returnTo)
        => returnTo is { Length: > 0 } r && r[0] == '/' && (r.Length == 1 || (r[1] != '/' && r[1] != '\\')) && !r.Contains(':', StringComparison.Ordinal) ? r : "/";
}

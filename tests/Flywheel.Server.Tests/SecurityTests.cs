using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Flywheel.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;

namespace Flywheel.Server.Tests;

/// <summary>
/// Keys and scopes on every endpoint (enumerated from the server's endpoint data source, so a new endpoint without a
/// declared scope fails here), loop-bound keys, the dashboard's sign-in cookie, the Host filter and nosniff.
/// </summary>
public sealed class SecurityTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>The endpoints open to everyone; anything else must need a key.</summary>
    private static readonly string[] OpenEndpoints =
    [
        "GET /healthz",
        "GET /readyz",
        "GET /openapi/{documentName}.json",
        "GET /scalar/…", // the API reference UI and its scripts
        "GET /sign-in",
        "POST /sign-in",
    ];

    private ServerFixture _server = null!;
    private readonly Dictionary<string, string> _keys = new(StringComparer.Ordinal);

    public async Task InitializeAsync()
    {
        _server = await ServerFixture.StartAsync();
        // Before any key exists the API is open: set up the loops without one.
        (await _server.SendAsync(HttpMethod.Put, "/v1/loops/shop", ServerFixture.FeedLoop)).EnsureSuccessStatusCode();
        (await _server.SendAsync(HttpMethod.Put, "/v1/loops/other", ServerFixture.FeedLoop)).EnsureSuccessStatusCode();
        await AddKeyAsync("admin", ApiKeyScopes.Admin, null);
        await AddKeyAsync("read", ApiKeyScopes.Read, null);
        await AddKeyAsync("decide", ApiKeyScopes.Decide, null);
        await AddKeyAsync("ingest", ApiKeyScopes.Ingest, null);
        await AddKeyAsync("admin-other", ApiKeyScopes.Admin, "other");
        await AddKeyAsync("read-shop", ApiKeyScopes.Read, "shop");
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private IApiKeyStore KeyStore => _server.Services.GetRequiredService<ApiKeyAccess>().Store!;

    private async Task AddKeyAsync(string name, ApiKeyScopes scopes, string? loop)
    {
        var (key, record) = ApiKeys.Create(scopes, loop, T0);
        await KeyStore.AddApiKeyAsync(record);
        _keys[name] = key;
    }

    /// <summary>Every route the server maps, with its methods, its declared scope and a concrete path to call.</summary>
    private List<(string Method, string Route, ApiKeyScopes? Scope, string Path)> Endpoints()
    {
        var source = _server.Services.GetRequiredService<EndpointDataSource>();
        var list = new List<(string, string, ApiKeyScopes?, string)>();
        foreach (var endpoint in source.Endpoints.OfType<RouteEndpoint>())
        {
            var methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET"];
            var route = "/" + endpoint.RoutePattern.RawText!.TrimStart('/');
            var path = "/" + string.Join('/', endpoint.RoutePattern.PathSegments.Select(segment => string.Concat(segment.Parts.Select(part => part switch
            {
                RoutePatternLiteralPart literal => literal.Content,
                RoutePatternParameterPart { Name: "loop" } => "shop",
                RoutePatternParameterPart { Name: "version" } => "1",
                RoutePatternParameterPart { Name: "documentName" } => "v1",
                RoutePatternParameterPart { IsCatchAll: true } => "",
                RoutePatternParameterPart => "x",
                RoutePatternSeparatorPart separator => separator.Content,
                _ => "",
            }))));
            foreach (var method in methods)
            {
                list.Add((method, route, endpoint.Metadata.GetMetadata<FlywheelAccessMetadata>()?.Scope, path));
            }
        }
        return list;
    }

    private Task<HttpResponseMessage> SendAsync(string method, string path, string? key, string? body = "{}", string contentType = "application/json")
    {
        var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        if (method is "POST" or "PUT" && body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }
        return _server.Http.SendAsync(request);
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string label, string? detailFragment = null)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{label}: expected {(int)status}, got {(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(text);
        Assert.Equal((int)status, problem.RootElement.GetProperty("status").GetInt32());
        if (detailFragment is not null)
        {
            Assert.Contains(detailFragment, problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
        if (status == HttpStatusCode.Unauthorized)
        {
            Assert.Equal("Bearer", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
        }
    }

    [Fact]
    public void EveryEndpoint_DeclaresItsScope_AndOnlyTheKnownOnesAreOpen()
    {
        var endpoints = Endpoints();
        Assert.True(endpoints.Count >= 25, $"only {endpoints.Count} endpoints found");
        var undeclared = endpoints.Where(e => e.Scope is null).Select(e => $"{e.Method} {e.Route}").ToList();
        Assert.True(undeclared.Count == 0, "endpoints without RequireFlywheelScope/AllowWithoutKey: " + string.Join(", ", undeclared));
        var open = endpoints.Where(e => e.Scope == ApiKeyScopes.None)
            .Select(e => e.Route.StartsWith("/scalar/", StringComparison.Ordinal) ? $"{e.Method} /scalar/…" : $"{e.Method} {e.Route}")
            .Distinct().Order(StringComparer.Ordinal).ToList();
        Assert.Equal(OpenEndpoints.Order(StringComparer.Ordinal), open);
    }

    [Fact]
    public async Task EveryEndpoint_RefusesAMissingMalformedWrongAndUnderScopedKey()
    {
        var wrong = _keys["read"][..^4] + (_keys["read"].EndsWith("AAAA", StringComparison.Ordinal) ? "BBBB" : "AAAA");
        foreach (var (method, route, scope, path) in Endpoints().Where(e => e.Scope != ApiKeyScopes.None))
        {
            var label = $"{method} {route}";
            await AssertProblemAsync(await SendAsync(method, path, key: null), HttpStatusCode.Unauthorized, label + " without a key", "API key is required");
            await AssertProblemAsync(await SendAsync(method, path, "not-a-key"), HttpStatusCode.Unauthorized, label + " with a malformed key", "malformed");
            await AssertProblemAsync(await SendAsync(method, path, wrong), HttpStatusCode.Unauthorized, label + " with a wrong key", "not valid");
            var under = scope switch
            {
                ApiKeyScopes.Read => "decide",
                ApiKeyScopes.Decide => "ingest",
                ApiKeyScopes.Ingest => "read",
                _ => "read",
            };
            await AssertProblemAsync(await SendAsync(method, path, _keys[under]), HttpStatusCode.Forbidden, $"{label} with a {under} key",
                "needs a key with scope " + ApiKeys.FormatScopes(scope!.Value));
        }
    }

    [Fact]
    public async Task EveryEndpoint_LetsAnAdminKeyThrough()
    {
        foreach (var (method, route, _, path) in Endpoints().Where(e => e.Scope != ApiKeyScopes.None && e.Method != "DELETE"))
        {
            using var response = await SendAsync(method, path, _keys["admin"]);
            Assert.True(response.StatusCode is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden),
                $"{method} {route} refused the admin key: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }

    [Fact]
    public async Task LoopBoundKey_CannotTouchAnotherLoop_NorCrossLoopEndpoints()
    {
        foreach (var (method, route, _, path) in Endpoints().Where(e => e.Scope != ApiKeyScopes.None))
        {
            // The admin key bound to "other" may do anything there, nothing on "shop" and nothing that spans every loop.
            await AssertProblemAsync(await SendAsync(method, path, _keys["admin-other"]), HttpStatusCode.Forbidden, $"{method} {route} with a key of another loop", "bound to loop 'other'");
        }
        using (var own = await SendAsync("GET", "/v1/loops/other", _keys["admin-other"]))
        {
            Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        }
        using (var ownDecide = await SendAsync("POST", "/v1/loops/other/decide", _keys["admin-other"], """{"actions":[{"id":"a"},{"id":"b"}]}"""))
        {
            Assert.Equal(HttpStatusCode.OK, ownDecide.StatusCode);
        }
        using (var shopRead = await SendAsync("GET", "/v1/loops/shop/turns", _keys["read-shop"]))
        {
            Assert.Equal(HttpStatusCode.OK, shopRead.StatusCode);
        }
        await AssertProblemAsync(await SendAsync("GET", "/v1/loops/other/turns", _keys["read-shop"]), HttpStatusCode.Forbidden, "read-shop on other", "not 'other'");
    }

    [Fact]
    public async Task ScopesGrantWhatTheySay_AndAdminImpliesEveryScope()
    {
        const string decide = """{"decisionId":"d-sec","actions":[{"id":"a"},{"id":"b"}]}""";
        const string signals = """{"signals":[{"signalId":"s-sec","decisionId":"d-sec","type":"watch_complete"}]}""";
        using (var r = await SendAsync("POST", "/v1/loops/shop/decide", _keys["decide"], decide)) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using (var r = await SendAsync("POST", "/v1/loops/shop/signals", _keys["ingest"], signals)) Assert.Equal(HttpStatusCode.Accepted, r.StatusCode);
        using (var r = await SendAsync("GET", "/v1/loops/shop/decisions/d-sec", _keys["read"])) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using (var r = await SendAsync("GET", "/metrics", _keys["read"])) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using (var r = await SendAsync("POST", "/v1/loops/shop/decide", _keys["admin"], """{"actions":[{"id":"a"}]}""")) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        await AssertProblemAsync(await SendAsync("PUT", "/v1/loops/shop", _keys["read"], ServerFixture.FeedLoop), HttpStatusCode.Forbidden, "read key on PUT", "scope admin");
    }

    [Fact]
    public async Task RevokedKey_StopsWorkingOnTheNextRequest_AndAuthenticationStaysOn()
    {
        var (key, record) = ApiKeys.Create(ApiKeyScopes.Read, null, T0);
        await KeyStore.AddApiKeyAsync(record);
        using (var before = await SendAsync("GET", "/v1/loops", key)) Assert.Equal(HttpStatusCode.OK, before.StatusCode);

        Assert.True(await KeyStore.RevokeApiKeyAsync(record.Id, T0.AddHours(1)));

        await AssertProblemAsync(await SendAsync("GET", "/v1/loops", key), HttpStatusCode.Unauthorized, "revoked key", "not valid");
    }

    [Fact]
    public async Task OpenEndpoints_AnswerWithoutAKey()
    {
        using (var r = await SendAsync("GET", "/healthz", null)) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using (var r = await SendAsync("GET", "/readyz", null)) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using (var r = await SendAsync("GET", "/openapi/v1.json", null)) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using (var r = await SendAsync("GET", "/sign-in", null)) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
    }

    [Fact]
    public async Task Dashboard_InABrowserWithoutACookie_AnswersTheSignInForm()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/loops/shop");
        request.Headers.Accept.ParseAdd("text/html");
        using var response = await _server.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("action=\"/sign-in\"", html, StringComparison.Ordinal);
        Assert.Contains("value=\"/loops/shop\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignIn_SetsAStrictHttpOnlyCookie_AcceptedOnTheDashboardOnly()
    {
        using var handler = new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false };
        using var http = new HttpClient(handler) { BaseAddress = _server.Address };
        var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["key"] = _keys["read"], ["returnTo"] = "/loops/shop" });
        using var signIn = await http.PostAsync("/sign-in", form);

        Assert.Equal(HttpStatusCode.SeeOther, signIn.StatusCode);
        Assert.Equal("/loops/shop", signIn.Headers.Location?.OriginalString);
        var cookie = Assert.Single(signIn.Headers.GetValues("Set-Cookie"));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("secure", cookie.Replace("samesite", "", StringComparison.OrdinalIgnoreCase), StringComparison.OrdinalIgnoreCase); // plain http here
        var pair = cookie.Split(';')[0];

        foreach (var (path, expected) in new[] { ("/", HttpStatusCode.OK), ("/loops/shop", HttpStatusCode.OK), ("/v1/loops", HttpStatusCode.Unauthorized), ("/metrics", HttpStatusCode.Unauthorized) })
        {
            var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Add("Cookie", pair);
            using var response = await http.SendAsync(request);
            Assert.True(expected == response.StatusCode, $"{path} with the cookie: {(int)response.StatusCode}");
        }
        // Not on a state-changing request either, whatever it carries.
        var post = new HttpRequestMessage(HttpMethod.Post, "/v1/loops/shop/turns") { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        post.Headers.Add("Cookie", pair.Replace(_keys["read"], _keys["admin"], StringComparison.Ordinal));
        using (var turn = await http.SendAsync(post))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, turn.StatusCode);
        }
    }

    [Theory]
    [InlineData("http://evil.example", null)]
    [InlineData(null, "cross-site")]
    public async Task SignIn_FromAnotherSite_IsRefused(string? origin, string? fetchSite)
    {
        using var handler = new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false };
        using var http = new HttpClient(handler) { BaseAddress = _server.Address };
        var request = new HttpRequestMessage(HttpMethod.Post, "/sign-in")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["key"] = _keys["read"] }),
        };
        if (origin is not null) request.Headers.Add("Origin", origin);
        if (fetchSite is not null) request.Headers.Add("Sec-Fetch-Site", fetchSite);
        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.False(response.Headers.Contains("Set-Cookie"));
    }

    [Theory]
    [InlineData("decide")]
    [InlineData("admin")]
    public async Task SignIn_WithAKeyThatCannotRead_OrAWrongOne_IsRefused(string which)
    {
        using var handler = new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false };
        using var http = new HttpClient(handler) { BaseAddress = _server.Address };
        var key = which == "admin" ? _keys["admin"][..^1] + (_keys["admin"][^1] == 'x' ? 'y' : 'x') : _keys[which];
        using var response = await http.PostAsync("/sign-in", new FormUrlEncodedContent(new Dictionary<string, string> { ["key"] = key }));

        Assert.Equal(which == "admin" ? HttpStatusCode.Unauthorized : HttpStatusCode.Forbidden, response.StatusCode);
        Assert.False(response.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task ForeignHost_IsRefusedWith400_AndEveryAnswerSaysNosniff()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        request.Headers.Host = "rebound.evil.example";
        using var foreign = await _server.Http.SendAsync(request);
        await AssertProblemAsync(foreign, HttpStatusCode.BadRequest, "foreign Host", "rebound.evil.example");
        Assert.Equal("nosniff", foreign.Headers.GetValues("X-Content-Type-Options").Single());

        foreach (var (path, key) in new[] { ("/healthz", null), ("/v1/loops", null), ("/v1/loops", _keys["read"]), ("/nowhere", null) })
        {
            using var response = await SendAsync("GET", path, key);
            Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        }
        var localhost = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        localhost.Headers.Host = "localhost:" + _server.Address.Port;
        using (var local = await _server.Http.SendAsync(localhost))
        {
            Assert.Equal(HttpStatusCode.OK, local.StatusCode);
        }
    }

    [Fact]
    public async Task NoCorsHeaders_UnlessConfigured()
    {
        var request = new HttpRequestMessage(HttpMethod.Options, "/v1/loops/shop/decide");
        request.Headers.Add("Origin", "https://evil.example");
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "authorization,content-type");
        using var response = await _server.Http.SendAsync(request);

        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
    }
}

/// <summary>Without keys (zero-setup on loopback): the forgery checks that do not depend on a key.</summary>
public sealed class ForgeryTests : IAsyncLifetime
{
    private ServerFixture _server = null!;

    public async Task InitializeAsync()
    {
        _server = await ServerFixture.StartAsync();
        (await _server.SendAsync(HttpMethod.Put, "/v1/loops/shop", ServerFixture.FeedLoop)).EnsureSuccessStatusCode();
        (await _server.SendAsync(HttpMethod.Post, "/v1/loops/shop/decide", """{"decisionId":"d1","actions":[{"id":"a"},{"id":"b"}]}""")).EnsureSuccessStatusCode();
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public static TheoryData<string, string?, string> CrossSiteForms()
    {
        var data = new TheoryData<string, string?, string>();
        string[] paths = ["/v1/loops/shop/turns", "/v1/loops/shop/models/1/promote", "/v1/loops/shop/rollback", "/v1/loops/shop/decide", "/v1/loops/shop/signals",
            "/v1/loops/shop/models/1/shadow", "/v1/loops/shop/models/1/retire", "/v1/loops/shop/evaluate"];
        foreach (var path in paths)
        {
            data.Add(path, null, "");
            data.Add(path, "application/x-www-form-urlencoded", "");
            data.Add(path, "application/x-www-form-urlencoded", "reason=x");
            data.Add(path, "text/plain", "");
            data.Add(path, "text/plain", "{}");
            data.Add(path, "text/plain;charset=+json", "{}");
            data.Add(path, "multipart/form-data; boundary=b", "--b--");
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(CrossSiteForms))]
    public async Task CrossSiteFormPost_IsRefused(string path, string? contentType, string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path);
        request.Headers.Add("Origin", "https://evil.example");
        if (contentType is not null || body.Length > 0)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            if (contentType is not null)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            }
        }
        using var response = await _server.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode is HttpStatusCode.UnsupportedMediaType or HttpStatusCode.BadRequest, $"{path} {contentType}: {(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task TextPlainWithPlusJsonCharset_Is415NamingContentType()
    {
        using var response = await _server.SendAsync(HttpMethod.Post, "/v1/loops/shop/decide", """{"actions":[{"id":"a"}]}""", "text/plain;charset=+json");

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Contains("Content-Type", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task BodylessPost_WithJsonAndAnEmptyObject_Works()
    {
        using var response = await _server.SendAsync(HttpMethod.Post, "/v1/loops/shop/turns", "{}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("application/json", true)]
    [InlineData("application/json; charset=utf-8", true)]
    [InlineData("APPLICATION/JSON;charset=UTF-8", true)]
    [InlineData("application/problem+json", true)]
    [InlineData("application/vnd.flywheel+json", true)]
    [InlineData("application/json; charset=latin1", false)]
    [InlineData("application/+json", false)]
    [InlineData("application/jsonx", false)]
    [InlineData("application/json-seq", false)]
    [InlineData("text/plain;charset=+json", false)]
    [InlineData("text/plain; application/json", false)]
    [InlineData("text/json", false)]
    [InlineData("application/x-www-form-urlencoded", false)]
    [InlineData("multipart/form-data; boundary=x", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void JsonContentType_IsParsedAsAMediaType(string? contentType, bool json)
        => Assert.Equal(json, Requests.IsJsonContentType(contentType));

    [Theory]
    [InlineData("http://127.0.0.1:5005", false, false, true)]
    [InlineData("http://localhost:5005;http://[::1]:5005", false, false, true)]
    [InlineData("http://0.0.0.0:5005", false, false, false)]
    [InlineData("http://*:5005", false, false, false)]
    [InlineData("http://+:5005", false, false, false)]
    [InlineData("http://[::]:5005", false, false, false)]
    [InlineData("http://192.168.1.20:5005", false, false, false)]
    [InlineData("http://127.0.0.1:5005;http://10.0.0.2:5005", false, false, false)]
    [InlineData("http://0.0.0.0:5005", true, false, true)]
    [InlineData("http://0.0.0.0:5005", false, true, true)]
    public void NonLoopbackBinding_WithoutKeys_IsRefusedUnlessInsecure(string urls, bool keysOn, bool insecure, bool allowed)
    {
        var refusal = FlywheelServerApp.RefuseOpenBinding(new FlywheelServerOptions { Urls = urls, Insecure = insecure }, keysOn);

        Assert.Equal(allowed, refusal is null);
        if (refusal is not null)
        {
            Assert.Contains("--insecure", refusal, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ConfiguredAllowedHosts_ReplaceTheDefaults()
    {
        await using var server = await ServerFixture.StartAsync(o => o.AllowedHosts.Add("flywheel.internal"));
        var request = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        request.Headers.Host = "flywheel.internal";
        using (var named = await server.Http.SendAsync(request))
        {
            Assert.Equal(HttpStatusCode.OK, named.StatusCode);
        }
        using var loopback = await server.Http.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.BadRequest, loopback.StatusCode);
    }

    [Fact]
    public async Task ConfiguredCorsOrigin_GetsItsPreflightAnswered_OthersDoNot()
    {
        await using var server = await ServerFixture.StartAsync(o => o.CorsOrigins.Add("https://app.example"));
        foreach (var (origin, allowed) in new[] { ("https://app.example", true), ("https://evil.example", false) })
        {
            var request = new HttpRequestMessage(HttpMethod.Options, "/v1/loops");
            request.Headers.Add("Origin", origin);
            request.Headers.Add("Access-Control-Request-Method", "GET");
            request.Headers.Add("Access-Control-Request-Headers", "authorization");
            using var response = await server.Http.SendAsync(request);
            Assert.Equal(allowed, response.Headers.Contains("Access-Control-Allow-Origin"));
        }
    }
}

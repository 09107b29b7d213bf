using Flywheel.Core;
using Flywheel.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Flywheel.Dashboard.Tests;

/// <summary>
/// The dashboard once the store holds API keys, in Chromium: the browser gets the sign-in form, a read key signs it
/// in with an HttpOnly, SameSite=Strict cookie that no script can read, and reloads stay signed in.
/// </summary>
public sealed class DashboardSignInBrowserTests
{
    [ChromiumFact]
    public async Task SignIn_WithAReadKey_OpensThePageAskedFor_WithAnHttpOnlyStrictCookie()
    {
        await using var server = await ServerFixture.StartAsync();
        (await server.SendAsync(HttpMethod.Put, "/v1/loops/shop", ServerFixture.FeedLoop)).EnsureSuccessStatusCode();
        var (key, record) = ApiKeys.Create(ApiKeyScopes.Read, null, DateTimeOffset.UnixEpoch);
        await server.Services.GetRequiredService<ApiKeyAccess>().Store!.AddApiKeyAsync(record);

        await using var chromium = await ChromiumPage.OpenAsync();
        var page = chromium.Page;
        var first = await page.GotoAsync(server.Address.AbsoluteUri + "loops/shop", new() { WaitUntil = WaitUntilState.Load });
        Assert.Equal(401, first!.Status);
        Assert.Equal(1, await page.Locator("form[action='/sign-in']").CountAsync());

        await page.Locator("input[name='key']").FillAsync(key);
        await page.Locator("button[type='submit']").ClickAsync();
        await page.WaitForURLAsync("**/loops/shop");

        Assert.Equal("shop", await page.Locator("h1[data-loop]").GetAttributeAsync("data-loop"));
        var cookie = Assert.Single(await page.Context.CookiesAsync(), c => c.Name == "flywheel_key");
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);
        Assert.Equal("", await page.EvaluateAsync<string>("document.cookie"));
        var reload = await page.ReloadAsync();
        Assert.Equal(200, reload!.Status);
        var index = await page.GotoAsync(server.Address.AbsoluteUri);
        Assert.Equal(200, index!.Status);
        // The only console errors are the first page's 401.
        Assert.All(chromium.Errors, e => Assert.Contains("401", e, StringComparison.Ordinal));
        Assert.All(chromium.Requests, r => Assert.StartsWith(server.Address.AbsoluteUri, r, StringComparison.Ordinal));
    }

    [ChromiumFact]
    public async Task SignIn_WithAWrongKey_StaysOnTheFormSayingWhy()
    {
        await using var server = await ServerFixture.StartAsync();
        var (key, record) = ApiKeys.Create(ApiKeyScopes.Read, null, DateTimeOffset.UnixEpoch);
        await server.Services.GetRequiredService<ApiKeyAccess>().Store!.AddApiKeyAsync(record);

        await using var chromium = await ChromiumPage.OpenAsync();
        var page = chromium.Page;
        await page.GotoAsync(server.Address.AbsoluteUri + "sign-in");
        await page.Locator("input[name='key']").FillAsync(key[..^1] + (key[^1] == 'x' ? 'y' : 'x'));
        await page.Locator("button[type='submit']").ClickAsync();
        await page.Locator("[data-sign-in-error]").WaitForAsync();

        Assert.Contains("not valid", await page.Locator("[data-sign-in-error]").TextContentAsync(), StringComparison.Ordinal);
        Assert.Empty(await page.Context.CookiesAsync());
    }
}

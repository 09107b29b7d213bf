using System.Globalization;
using Flywheel.Server.Dashboard;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Flywheel.Dashboard.Tests;

/// <summary>
/// The dashboard in Debian's Chromium (headless, through Playwright): the index shows every loop's verdict, a loop's
/// page draws its charts with data and lists its turns, and nothing logs an error. Screenshots are saved under the
/// test output's <c>artifacts/</c> folder.
/// </summary>
[Collection(DashboardCollection.Name)]
public sealed class DashboardBrowserTests(DashboardRun run)
{
    /// <summary>Where the screenshots go: <c>tests/Flywheel.Dashboard.Tests/bin/&lt;configuration&gt;/net10.0/artifacts/</c>.</summary>
    public static string Artifacts => Path.Combine(AppContext.BaseDirectory, "artifacts");

    [ChromiumFact]
    public async Task Dashboard_RealSimulation_ShowsVerdictsChartsAndLedgerInChromium()
    {
        Directory.CreateDirectory(Artifacts);

        await using var chromium = await ChromiumPage.OpenAsync(warningsAreErrors: true);
        var page = chromium.Page;

        // The index: one row per product's loop, each with its verdict badge and evidence.
        var index = await page.GotoAsync(run.Server.Address.AbsoluteUri, new() { WaitUntil = WaitUntilState.Load });
        Assert.Equal(200, index!.Status);
        await page.ScreenshotAsync(new() { Path = Path.Combine(Artifacts, "dashboard-index.png"), FullPage = true });
        var rows = page.Locator("table[data-table='loops'] tbody tr");
        Assert.Equal(run.Stores.Count, await rows.CountAsync());
        var sources = run.Server.Services.GetRequiredService<DashboardSources>();
        foreach (var store in run.Stores)
        {
            var row = page.Locator($"tr[data-store='{(store == run.Stores[0] ? "" : store)}']");
            var badge = row.Locator(".badge");
            Assert.True(await badge.IsVisibleAsync(), $"store {store}: no visible verdict badge");
            var health = await sources.Find(store == run.Stores[0] ? "" : store)!.Engine.GetHealthAsync(DashboardRun.Loop);
            Assert.Equal(Html.Wire(health.Verdict.Status), (await badge.TextContentAsync())?.Trim());
            Assert.Equal(health.Verdict.Evidence, (await row.Locator(".evidence").TextContentAsync())?.Trim());
        }

        // Open the first loop from its link.
        await page.Locator($"tr[data-store=''] a").ClickAsync();
        await page.WaitForURLAsync("**/loops/home-feed");
        Assert.Equal(DashboardRun.Loop, await page.Locator("h1[data-loop]").GetAttributeAsync("data-loop"));
        await page.ScreenshotAsync(new() { Path = Path.Combine(Artifacts, "dashboard-loop.png"), FullPage = true });

        // The wheel: three nodes, three arrows, each arrow labelled with a figure.
        var wheel = page.Locator("svg[data-chart='wheel']");
        Assert.Equal(3, await wheel.Locator("circle.node").CountAsync());
        Assert.Equal(3, await wheel.Locator("path[data-arrow]").CountAsync());
        foreach (var arrow in new[] { "usage", "usage-signals", "signals-model", "model-usage" })
        {
            Assert.False(string.IsNullOrWhiteSpace(await wheel.Locator($"[data-figure='{arrow}']").TextContentAsync()), arrow);
        }

        // Line charts hold at least one series with points; bar charts hold bars; each is drawn with a real size.
        foreach (var id in new[] { "reward", "capture", "learning-curve" })
        {
            var chart = page.Locator($"svg[data-chart='{id}']");
            Assert.Equal(0, await page.Locator($"svg[data-chart='{id}'][data-empty]").CountAsync());
            var box = await chart.BoundingBoxAsync();
            Assert.NotNull(box);
            Assert.True(box.Width > 200 && box.Height > 100, $"{id}: {box.Width}×{box.Height}");
            var series = chart.Locator("path.series");
            Assert.True(await series.CountAsync() > 0, $"{id}: no series");
            var points = int.Parse(await series.First.GetAttributeAsync("data-points") ?? "0", CultureInfo.InvariantCulture);
            Assert.True(points > 1, $"{id}: {points} points");
            Assert.StartsWith("M", await series.First.GetAttributeAsync("d"), StringComparison.Ordinal);
            Assert.True(await chart.Locator("circle").CountAsync() >= points, $"{id}: point markers missing");
        }
        Assert.Equal(1, await page.Locator("svg[data-chart='learning-curve'] path.fit").CountAsync());
        foreach (var id in new[] { "by-age", "return", "streaks" })
        {
            Assert.True(await page.Locator($"svg[data-chart='{id}'] rect.bar").CountAsync() > 0, $"{id}: no bars");
        }

        // The ledger: one row per turn of the run, newest first.
        var ledger = page.Locator("table[data-table='ledger'] tbody tr");
        var turns = run.Result["a"].Turns;
        Assert.NotEmpty(turns);
        Assert.Equal(turns.Count, await ledger.CountAsync());
        Assert.Equal(turns.Max(t => t.Turn.Number).ToString(CultureInfo.InvariantCulture), await ledger.First.GetAttributeAsync("data-turn"));

        // Another store's loop, and the way back.
        await page.GotoAsync(new Uri(run.Server.Address, "/loops/home-feed?store=B").AbsoluteUri);
        Assert.True(await page.Locator("svg[data-chart='reward'] path.series").CountAsync() > 0);
        await page.Locator("a[href='/']").ClickAsync();
        Assert.Equal(run.Stores.Count, await rows.CountAsync());

        Assert.Empty(chromium.Errors);
        Assert.All(chromium.Requests, url => Assert.StartsWith(run.Server.Address.AbsoluteUri, url, StringComparison.Ordinal));
    }
}

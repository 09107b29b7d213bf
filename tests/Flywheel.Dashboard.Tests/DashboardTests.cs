using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Flywheel.Core;
using Flywheel.Server.Dashboard;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Flywheel.Dashboard.Tests;

/// <summary>The dashboard's pages over HTTP, without a browser: what they list, their 404s, escaping, and that the API around them is unchanged.</summary>
[Collection(DashboardCollection.Name)]
public sealed class DashboardTests(DashboardRun run)
{
    private static readonly string[] Statuses = ["warming-up", "spinning", "no-signal", "no-pipe", "invisible", "plateau", "stale"];

    private async Task<HealthReport> HealthAsync(string store)
    {
        var source = run.Server.Services.GetRequiredService<DashboardSources>().Find(store == run.Stores[0] ? "" : store);
        Assert.NotNull(source);
        return await source.Engine.GetHealthAsync(DashboardRun.Loop);
    }

    [Fact]
    public async Task Index_FilledStores_ListsEveryLoopWithTheHealthReportsVerdict()
    {
        using var response = await run.Server.Http.GetAsync(new Uri("/", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var html = await response.Content.ReadAsStringAsync();
        var rows = Regex.Matches(html, "<tr data-loop=\"([^\"]*)\" data-store=\"([^\"]*)\">(.*?)</tr>", RegexOptions.Singleline);
        Assert.Equal(run.Stores.Count, rows.Count);
        foreach (Match row in rows)
        {
            Assert.Equal(DashboardRun.Loop, row.Groups[1].Value);
            var store = row.Groups[2].Value.Length == 0 ? run.Stores[0] : row.Groups[2].Value;
            var health = await HealthAsync(store);
            var status = Regex.Match(row.Groups[3].Value, "data-status=\"([^\"]+)\"").Groups[1].Value;
            Assert.Contains(status, Statuses);
            Assert.Equal(Html.Wire(health.Verdict.Status), status);
            Assert.Contains(WebUtility.HtmlEncode(health.Verdict.Evidence), row.Groups[3].Value, StringComparison.Ordinal);
        }
        Assert.Contains("href=\"/loops/home-feed\"", html, StringComparison.Ordinal);
        Assert.Contains("href=\"/loops/home-feed?store=B\"", html, StringComparison.Ordinal);
        // The page needs nothing from elsewhere: no script, no external stylesheet or font.
        foreach (var external in new[] { "http://", "https://", "<script", "@import", "url(" })
        {
            Assert.DoesNotContain(external, html, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task Loop_ServedAndExtraStore_ShowsWheelChartsAndEveryTurn()
    {
        foreach (var (path, product) in new[] { ("/loops/home-feed", "a"), ("/loops/home-feed?store=B", "b") })
        {
            var html = await run.Server.Http.GetStringAsync(new Uri(path, UriKind.Relative));

            foreach (var chart in new[] { "wheel", "reward", "capture", "learning-curve", "by-age", "return", "streaks" })
            {
                Assert.Matches($"<svg data-chart=\"{chart}\"", html);
            }
            Assert.Matches("data-figure=\"usage-signals\">[0-9.]+% captured<", html);
            Assert.Equal(run.Result[product].Turns.Count, Regex.Count(html, "<tr data-turn=\""));
        }
    }

    [Fact]
    public async Task Loop_UnknownLoopOrStore_AnswersAnHtml404()
    {
        foreach (var path in new[] { "/loops/no-such-loop", "/loops/home-feed?store=Z" })
        {
            using var response = await run.Server.Http.GetAsync(new Uri(path, UriKind.Relative));

            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("data-not-found", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Loop_TextFromData_IsHtmlEscaped()
    {
        var sources = run.Server.Services.GetRequiredService<DashboardSources>();
        var source = sources.Find("")!;
        var health = await source.Engine.GetHealthAsync(DashboardRun.Loop);
        var config = (await source.Engine.GetLoopAsync(DashboardRun.Loop))!;
        const string Evil = "<script>alert(\"x\")</script> & 'y'";
        health = health with
        {
            Verdict = new HealthVerdict(health.Verdict.Status, Evil, Evil),
            Staleness = health.Staleness with { FeaturePsi = [new FeatureDrift("user.region=" + Evil, 0.3)] },
        };
        var turns = (await source.Engine.ListTurnsAsync(DashboardRun.Loop)).Select(t => t with { Reason = Evil }).ToList();
        Assert.NotEmpty(turns);

        var html = DashboardPages.Loop(source, config, health, turns, [], 0);

        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("'y'", html, StringComparison.Ordinal);
        var escaped = WebUtility.HtmlEncode(Evil);
        Assert.Equal(2 + 1 + turns.Count, Regex.Count(html, Regex.Escape(escaped)));
        Assert.DoesNotContain("http-equiv=\"refresh\"", html, StringComparison.Ordinal);
        Assert.Contains("<meta http-equiv=\"refresh\" content=\"30\">", DashboardPages.Loop(source, config, health, turns, [], 30), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Api_BesideTheDashboard_IsUnchangedAndUndocumentedRoutesStayOut()
    {
        using var health = await run.Server.Http.GetAsync(new Uri("/v1/loops/home-feed/health", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("application/json", health.Content.Headers.ContentType?.MediaType);
        using var missing = await run.Server.Http.GetAsync(new Uri("/v1/loops/no-such-loop/health", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
        using var metrics = await run.Server.Http.GetAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);

        using var openApi = JsonDocument.Parse(await run.Server.Http.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative)));
        var paths = openApi.RootElement.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains("/v1/loops/{loop}/health", paths);
        Assert.All(paths, p => Assert.True(p.StartsWith("/v1/", StringComparison.Ordinal) || p is "/healthz" or "/readyz", p));
    }

    [Fact]
    public async Task Cache_CountsOrClockMove_ReadsTheLogAgain()
    {
        var source = run.Server.Services.GetRequiredService<DashboardSources>().Find("")!;
        var time = new FakeTimeProvider(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var cache = new DashboardCache(time);

        var (first, firstSeries) = await cache.GetAsync(source, DashboardRun.Loop, withSeries: true, CancellationToken.None);
        var (second, secondSeries) = await cache.GetAsync(source, DashboardRun.Loop, withSeries: true, CancellationToken.None);
        Assert.Same(first, second);
        Assert.Same(firstSeries, secondSeries);
        Assert.NotNull(firstSeries);
        Assert.Contains(firstSeries, p => p.Decisions > 0);

        time.Advance(DashboardCache.MaxAge);
        var (third, _) = await cache.GetAsync(source, DashboardRun.Loop, withSeries: false, CancellationToken.None);
        Assert.NotSame(second, third);

        var config = (await source.Engine.GetLoopAsync(DashboardRun.Loop))!;
        await source.Engine.RecordSignalsAsync(DashboardRun.Loop, [new SignalInput { DecisionId = "no-such-decision", Type = config.Signals.Keys.First() }]);
        var (fourth, _) = await cache.GetAsync(source, DashboardRun.Loop, withSeries: false, CancellationToken.None);
        Assert.NotSame(third, fourth);
    }

    [Fact]
    public void Index_NoLoops_SaysHowToCreateOne()
    {
        var html = DashboardPages.Index([], "served", 30);

        Assert.Contains("No loops yet", html, StringComparison.Ordinal);
        Assert.Contains("<meta http-equiv=\"refresh\" content=\"30\">", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<tr data-loop", html, StringComparison.Ordinal);
    }
}

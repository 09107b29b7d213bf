using System.Text.RegularExpressions;
using Flywheel.Core;
using Flywheel.Simulation.Reporting;
using Microsoft.Playwright;

namespace Flywheel.Simulation.Tests;

public sealed class DemoReportTests(DemoReportTests.Run run) : IClassFixture<DemoReportTests.Run>
{
    private const string Summary = "A learned from every visit; B stood still while rivals cloned it.\n\nC launched late <on purpose> & still climbed.";

    private static readonly string[] Charts = ["active-users", "mean-reward", "lift-share"];

    private static readonly string[] Products = ["A", "B", "C"];

    /// <summary>One real simulation shared by the tests (C launches on day 182, so all three have data), and its temp folder.</summary>
    public sealed class Run : IAsyncLifetime
    {
        private int _reports;

        private readonly TempDirectory _root = new("flywheel-demo-report-");

        public string Root => _root.Path;

        public SimulationResult Result { get; private set; } = null!;

        public string NewDirectory() => Path.Combine(Root, "report-" + Interlocked.Increment(ref _reports));

        public async Task InitializeAsync()
            => Result = await Simulation.RunAsync(
                Scenarios.Feed(withLateLoop: true),
                new SimulationOptions { Days = 240, Users = 30, Seed = 7, DataDirectory = Path.Combine(Root, "data") });

        public Task DisposeAsync()
        {
            _root.Dispose();
            return Task.CompletedTask;
        }
    }

    [Fact]
    public void Write_SameResultTwice_WritesIdenticalSelfContainedBytes()
    {
        var first = DemoReport.Write(run.Result, run.NewDirectory(), Summary);
        var second = DemoReport.Write(run.Result, run.NewDirectory(), Summary);

        Assert.True(Path.IsPathFullyQualified(first));
        Assert.Equal("index.html", Path.GetFileName(first));
        var bytes = File.ReadAllBytes(first);
        Assert.NotEmpty(bytes);
        Assert.Equal(bytes, File.ReadAllBytes(second));

        var html = File.ReadAllText(first);
        foreach (var external in new[] { "http://", "https://", "<script", "<link", "src=", "@import", "url(" })
        {
            Assert.DoesNotContain(external, html, StringComparison.OrdinalIgnoreCase);
        }
        Assert.Contains("C launched late &lt;on purpose&gt; &amp; still climbed.", html, StringComparison.Ordinal);
        Assert.Contains("flywheel demo --seed 7 --days 240 --users 30", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_PromotionAndRollback_MarksThemOnActivityAndRewardChartsOnly()
    {
        TurnRecord Turn(long number, int day, TurnVerdict verdict, int champion, int? deployed) => new()
        {
            Loop = "a",
            Number = number,
            Trigger = TurnTrigger.Schedule,
            StartedAt = SimulationCalendar.DateOf(day),
            FinishedAt = SimulationCalendar.DateOf(day),
            ChampionVersion = champion,
            Verdict = verdict,
            DeployedVersion = deployed,
            Reason = "a <synthetic> entry",
        };
        SimulatedTurn[] turns =
        [
            new(60, Turn(1, 60, TurnVerdict.Promoted, 1, 2)),
            new(75, Turn(2, 75, TurnVerdict.Rejected, 2, null)),
            new(90, Turn(3, 90, TurnVerdict.RolledBack, 2, 1)),
        ];
        var result = run.Result with { Products = [.. run.Result.Products.Select(p => p.Spec.Key == "a" ? p with { Turns = turns } : p)] };

        var html = File.ReadAllText(DemoReport.Write(result, run.NewDirectory(), Summary));

        foreach (var id in Charts)
        {
            var svg = Regex.Match(html, $"<svg[^>]*data-chart=\"{id}\".*?</svg>", RegexOptions.Singleline).Value;
            var expected = id == "lift-share" ? 0 : 1;
            Assert.Equal(expected, Regex.Count(svg, "class=\"turn-marker promoted\" data-series=\"A\""));
            Assert.Equal(expected, Regex.Count(svg, "class=\"turn-marker rolled-back\" data-series=\"A\""));
            Assert.Equal(0, Regex.Count(svg, "class=\"turn-marker[^\"]*\" data-series=\"[BC]\""));
        }
        Assert.Contains("<title>A: turn 1 promoted v2 (day 60, 1 Mar 2027)</title>", html, StringComparison.Ordinal);
        Assert.Contains("<title>A: turn 3 rolled back v2 to v1 (day 90, 31 Mar 2027)</title>", html, StringComparison.Ordinal);
        Assert.Contains("a &lt;synthetic&gt; entry", html, StringComparison.Ordinal);
    }

    [ChromiumFact]
    public async Task Write_RealSimulation_RendersChartsTablesAndLedgerInChromium()
    {
        var path = DemoReport.Write(run.Result, run.NewDirectory(), Summary);

        await using var chromium = await ChromiumPage.OpenAsync();
        var page = chromium.Page;

        await page.GotoAsync(new Uri(path).AbsoluteUri, new() { WaitUntil = WaitUntilState.Load });
        var screenshot = Path.Combine(AppContext.BaseDirectory, "demo-report.png");
        await page.ScreenshotAsync(new() { Path = screenshot, FullPage = true });
        Assert.True(new FileInfo(screenshot).Length > 0);

        // Exactly the three charts, in order, each drawn with a real size.
        var charts = page.Locator("svg[data-chart]");
        Assert.Equal(Charts.Length, await charts.CountAsync());
        for (var i = 0; i < Charts.Length; i++)
        {
            Assert.Equal(Charts[i], await charts.Nth(i).GetAttributeAsync("data-chart"));
        }
        foreach (var id in Charts)
        {
            var chart = page.Locator($"svg[data-chart='{id}']");
            var box = await chart.BoundingBoxAsync();
            Assert.NotNull(box);
            Assert.True(box.Width > 100 && box.Height > 50, $"{id}: {box.Width}×{box.Height}");

            foreach (var name in Products)
            {
                var series = chart.Locator($"path.series[data-series='{name}']");
                Assert.Equal(1, await series.CountAsync());
                var points = int.Parse(await series.GetAttributeAsync("data-points") ?? "0", System.Globalization.CultureInfo.InvariantCulture);
                Assert.True(points > 0, $"{id}: series {name} has no points");
                var d = await series.GetAttributeAsync("d");
                Assert.False(string.IsNullOrWhiteSpace(d), $"{id}: series {name} has an empty path");
                Assert.StartsWith("M", d, StringComparison.Ordinal);
                var seriesBox = await series.BoundingBoxAsync();
                Assert.NotNull(seriesBox);
            }
            Assert.Equal(Products, await chart.Locator(".legend-item text").AllTextContentsAsync());
        }

        // Each promotion and rollback is marked on the first two charts, on its product's line.
        foreach (var product in run.Result.Products)
        {
            var marked = product.Turns.Count(t => t.Turn.Verdict is TurnVerdict.Promoted or TurnVerdict.ManuallyPromoted or TurnVerdict.Graduated or TurnVerdict.RolledBack);
            foreach (var id in Charts.Take(2))
            {
                Assert.Equal(marked, await page.Locator($"svg[data-chart='{id}'] .turn-marker[data-series='{product.Spec.Name}']").CountAsync());
            }
        }

        // The month table: one row per month, January to August; the ledger of A, one row per turn.
        var months = page.Locator("table[data-table='months'] tbody tr");
        Assert.Equal(8, await months.CountAsync());
        Assert.Equal("Jan 2027", (await months.First.Locator("th").TextContentAsync())?.Trim());
        Assert.Equal("Aug 2027", (await months.Last.Locator("th").TextContentAsync())?.Trim());
        Assert.Equal(1, await page.Locator("table[data-table='ledger']").CountAsync());
        Assert.Equal(run.Result["a"].Turns.Count, await page.Locator("table[data-table='ledger'] tbody tr").CountAsync());

        Assert.Empty(chromium.Errors);
        Assert.All(chromium.Requests, url => Assert.StartsWith("file://", url, StringComparison.Ordinal));
    }
}

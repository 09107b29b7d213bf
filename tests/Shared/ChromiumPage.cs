using Microsoft.Playwright;

namespace Flywheel.TestUtils;

/// <summary>
/// A page in headless Debian Chromium, launched the way every browser test launches it, that records the errors the
/// page reports and every URL it requests. Compiled into each test project that references Playwright (linked, not in
/// TestUtils, so the large Playwright package stays out of the projects that do not need it).
/// </summary>
public sealed class ChromiumPage : IAsyncDisposable
{
    private static readonly string[] Args =
        ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;
    private readonly List<string> _errors = [];
    private readonly List<string> _requests = [];

    private ChromiumPage(IPlaywright playwright, IBrowser browser, IPage page)
    {
        _playwright = playwright;
        _browser = browser;
        Page = page;
    }

    /// <summary>The page.</summary>
    public IPage Page { get; }

    /// <summary>Console errors (and warnings, when asked) and uncaught page errors so far.</summary>
    public IReadOnlyList<string> Errors
    {
        get
        {
            lock (_errors)
            {
                return [.. _errors];
            }
        }
    }

    /// <summary>Every URL the page requested so far.</summary>
    public IReadOnlyList<string> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>Launches Chromium (<see cref="ChromiumFactAttribute.ExecutablePath"/>) and opens a 1280×900 page.</summary>
    /// <param name="warningsAreErrors">Also record console warnings as errors.</param>
    public static async Task<ChromiumPage> OpenAsync(bool warningsAreErrors = false)
    {
        Assert.True(File.Exists(ChromiumFactAttribute.ExecutablePath),
            $"Chromium not found at {ChromiumFactAttribute.ExecutablePath}: apt-get install chromium, or set {ChromiumFactAttribute.Variable}.");
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = ChromiumFactAttribute.ExecutablePath,
            Headless = true,
            Args = Args,
        });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
        var opened = new ChromiumPage(playwright, browser, page);
        page.Console += (_, message) =>
        {
            if (message.Type == "error" || (warningsAreErrors && message.Type == "warning"))
            {
                opened.Record(opened._errors, message.Text);
            }
        };
        page.PageError += (_, error) => opened.Record(opened._errors, error);
        page.Request += (_, request) => opened.Record(opened._requests, request.Url);
        return opened;
    }

    private void Record(List<string> list, string item)
    {
        lock (list)
        {
            list.Add(item);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }
}

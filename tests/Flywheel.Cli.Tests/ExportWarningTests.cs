using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Flywheel.Cli.Tests;

/// <summary><c>export --policy</c> warns, as <c>evaluate</c> would, when one exported decision outweighs the rest.</summary>
public sealed class ExportWarningTests : IAsyncLifetime
{
    private const string Row = """{"decisionId":"ID","context":{},"actions":[{"id":"a","features":{}},{"id":"b","features":{}}],"chosenActionId":"b","probability":PROB,"reward":1,"targetProbabilities":{"a":0.5,"b":0.5}}""";
    private readonly TempDirectory _folder = new("flywheel-cli-export-");
    private WebApplication _app = null!;
    private string _body = "";

    // A stand-in for a server whose log holds what a faulty logging path wrote: the export streams the body as given.
    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.MapGet("/v1/loops/{loop}/export", () => Results.Text(_body, "application/x-ndjson"));
        await _app.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        _folder.Dispose();
    }

    private static string Rows(int n, bool rare)
        => string.Concat(Enumerable.Range(0, n).Select(i => Row.Replace("ID", $"d{i}", StringComparison.Ordinal).Replace("PROB", "0.5", StringComparison.Ordinal) + "\n"))
            + (rare ? Row.Replace("ID", "rare", StringComparison.Ordinal).Replace("PROB", "1e-9", StringComparison.Ordinal) + "\n" : "");

    [Fact]
    public async Task Export_PolicyWithATinyLoggedProbability_WarnsOnStderr()
    {
        _body = Rows(100, rare: true);
        var (code, stdout, stderr) = await Cli.RunAsync("export", "feed", "--format", "jsonl", "--policy", "champion", "--server", _app.Urls.First());
        Assert.Equal(0, code);
        Assert.Equal(_body, stdout);
        var warning = Assert.Single(Cli.Lines(stderr), l => l.Contains("warning", StringComparison.Ordinal));
        Assert.StartsWith("flywheel export: warning: extreme importance weight: one decision carries 100.0 %", warning, StringComparison.Ordinal);
        Assert.Contains("w = π/p = 5E+08", warning, StringComparison.Ordinal);

        var file = Path.Combine(_folder.Path, "feed.jsonl");
        (code, stdout, stderr) = await Cli.RunAsync("export", "feed", "--format", "jsonl", "--policy", "v2", "--out", file, "--server", _app.Urls.First());
        Assert.Equal(0, code);
        Assert.Contains("exported 101 decisions", stdout, StringComparison.Ordinal);
        Assert.Contains(Cli.Lines(stderr), l => l.StartsWith("flywheel export: warning: extreme importance weight", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(100, false, "--policy")]
    [InlineData(100, true, null)]
    [InlineData(4, false, "--policy")]
    public async Task Export_EvenWeightsOrNoPolicy_NoWarning(int rows, bool rare, string? policy)
    {
        _body = Rows(rows, rare);
        string[] args = policy is null ? ["export", "feed", "--format", "jsonl", "--server", _app.Urls.First()] : ["export", "feed", "--format", "jsonl", policy, "champion", "--server", _app.Urls.First()];
        var (code, stdout, stderr) = await Cli.RunAsync(args);
        Assert.Equal(0, code);
        Assert.Equal(_body, stdout);
        Assert.DoesNotContain("warning", stderr, StringComparison.Ordinal);
    }
}

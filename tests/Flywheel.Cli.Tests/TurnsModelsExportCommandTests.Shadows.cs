using System.Text.Json;
using Flywheel.Core;

namespace Flywheel.Cli.Tests;

// flywheel models LOOP --shadow V | --retire V [--reason TEXT] | --report V | --mismatches [V] [--limit N]
public sealed partial class TurnsModelsExportCommandTests
{
    [Fact]
    public async Task Models_ShadowReportMismatchesRetire_AgainstARealServer()
    {
        const string Loop = "shadowed";
        // ε-greedy with a large ε: the shadow's own draws often differ from the served ones, so there are mismatches to list.
        await server.CreateLoopAsync(Loop, """{ "algorithm": "epsilon-greedy", "epsilon": 0.3 }""");
        var random = new Random(12);
        await server.ServeAsync(Loop, 0, 300, random);
        var (code, stdout, stderr) = await RunAsync("turns", Loop, "--run", "--json", "--server", server.Url);
        Assert.True(code == 0, stderr);
        int version;
        using (var turn = JsonDocument.Parse(stdout))
        {
            version = turn.RootElement.GetProperty("candidates").EnumerateArray()
                .Select(c => c.TryGetProperty("version", out var v) ? v.GetInt32() : 0)
                .First(v => v > 1);
        }

        // The champion cannot be a shadow: the server refuses, exit code 2.
        (code, stdout, stderr) = await RunAsync("models", Loop, "--shadow", "v1", "--server", server.Url);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains("champion", Assert.Single(Lines(stderr)), StringComparison.Ordinal);

        (code, stdout, stderr) = await RunAsync("models", Loop, "--shadow", $"v{version}", "--server", server.Url);
        Assert.True(code == 0, stderr);
        Assert.Matches(@"^version\s+status\s+parent\s+turn\s+trained on\s+DR\s+interval\s+created\s+reason\n", stdout);
        Assert.Matches($@"\nv{version}\s+shadow\s+v1\s+1\s+300 rewards\s+.*scores every decision in shadow mode\n$", stdout);
        Assert.Equal(2, Lines(stdout).Length);

        (code, stdout, stderr) = await RunAsync("models", Loop, "--report", $"{version}", "--server", server.Url);
        Assert.True(code == 0, stderr);
        Assert.Contains("  decisions:   0 rewarded decisions scored", stdout, StringComparison.Ordinal);
        Assert.Contains("  agreements:  0 (n/a served the same action)", stdout, StringComparison.Ordinal);
        Assert.Contains("  IPS, SNIPS:  n/a (no rewarded decision scored yet)", stdout, StringComparison.Ordinal);

        (code, stdout, _) = await RunAsync("models", Loop, "--mismatches", "--server", server.Url);
        Assert.Equal(0, code);
        Assert.Equal($"loop '{Loop}' has no shadow mismatches yet\n", stdout.ReplaceLineEndings("\n"));

        await server.ServeAsync(Loop, 300, 400, random);

        (code, stdout, stderr) = await RunAsync("models", Loop, "--report", $"v{version}", "--json", "--server", server.Url);
        Assert.True(code == 0, stderr);
        var report = FlywheelJson.Read<ShadowReport>(JsonDocument.Parse(stdout).RootElement);
        Assert.Equal((Loop, version, 400L), (report.Loop, report.Version, report.Decisions));
        Assert.InRange(report.Agreements, 1, 399);

        (code, stdout, stderr) = await RunAsync("models", Loop, "--report", $"v{version}", "--server", server.Url);
        Assert.True(code == 0, stderr);
        Assert.StartsWith($"shadow v{version} of loop '{Loop}'\n", stdout, StringComparison.Ordinal);
        Assert.Contains("  decisions:   400 rewarded decisions scored\n", stdout, StringComparison.Ordinal);
        Assert.Contains($"  agreements:  {report.Agreements} ({report.AgreementRate.ToString("P1", System.Globalization.CultureInfo.InvariantCulture)} served the same action)\n", stdout, StringComparison.Ordinal);
        Assert.Matches(@"\n  served mean: \d\.\d{4}\n", stdout);
        Assert.Matches(@"\n  IPS:         \d\.\d{4} \[-?\d\.\d{4}, \d\.\d{4}\]\n", stdout);
        Assert.Matches(@"\n  IPS \(CP\):    \d\.\d{4} \[\d\.\d{4}, \d\.\d{4}\]\n", stdout);
        Assert.Matches(@"\n  SNIPS:       \d\.\d{4} \[-?\d\.\d{4}, \d\.\d{4}\]\n", stdout);
        Assert.EndsWith($"\n  mismatches:  {report.Mismatches}\n", stdout, StringComparison.Ordinal);

        (code, stdout, stderr) = await RunAsync("models", Loop, "--mismatches", $"v{version}", "--limit", "100000", "--json", "--server", server.Url);
        Assert.True(code == 0, stderr);
        List<Mismatch> mismatches;
        using (var doc = JsonDocument.Parse(stdout))
        {
            mismatches = doc.RootElement.GetProperty("mismatches").EnumerateArray().Select(FlywheelJson.Read<Mismatch>).ToList();
        }
        Assert.Equal(report.Mismatches, mismatches.Count);
        Assert.True(mismatches.Count >= 2, $"{mismatches.Count} mismatches");
        Assert.All(mismatches, m => Assert.NotEqual(m.ServedActionId, m.ShadowActionId));
        Assert.All(mismatches, m => Assert.Equal(version, m.Version));

        (code, stdout, stderr) = await RunAsync("models", Loop, "--mismatches", "--limit", "2", "--server", server.Url);
        Assert.True(code == 0, stderr);
        var lines = Lines(stdout);
        Assert.Equal(3, lines.Length);
        Assert.Matches(@"^decision\s+made\s+shadow\s+served\s+shadow chose\s+reward\s+wrong$", lines[0]);
        for (var i = 0; i < 2; i++)
        {
            var m = mismatches[^(2 - i)];
            var wrong = m.Wrong == MismatchSide.Served ? "served" : "shadow";
            Assert.Matches($@"^{m.DecisionId}\s+2026-11-24 \d\d:\d\d:\d\dZ\s+v{version}\s+{m.ServedActionId}\s+{m.ShadowActionId}\s+\d\.\d{{4}}\s+{wrong}$", lines[i + 1]);
        }

        (code, stdout, stderr) = await RunAsync("models", Loop, "--retire", $"{version}", "--reason", "seen enough", "--json", "--server", server.Url);
        Assert.True(code == 0, stderr);
        var retired = FlywheelJson.Read<ModelRecord>(JsonDocument.Parse(stdout).RootElement);
        Assert.Equal(ModelStatus.Retired, retired.Status);
        Assert.Contains("seen enough", retired.Reason, StringComparison.Ordinal);

        (code, stdout, stderr) = await RunAsync("models", Loop, "--retire", "1", "--server", server.Url);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains("champion", Assert.Single(Lines(stderr)), StringComparison.Ordinal);

        (code, stdout, stderr) = await RunAsync("models", Loop, "--report", "v1", "--server", server.Url);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains("model version 1 is the champion and never ran as a shadow", Assert.Single(Lines(stderr)), StringComparison.Ordinal);

        (code, stdout, stderr) = await RunAsync("models", Loop, "--report", "99", "--server", server.Url);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains("no model version 99", Assert.Single(Lines(stderr)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("models", "feed", "--shadow", "latest")]
    [InlineData("models", "feed", "--retire", "v0")]
    [InlineData("models", "feed", "--report", "two")]
    [InlineData("models", "feed", "--mismatches", "all")]
    [InlineData("models", "feed", "--shadow", "2", "--retire", "3")]
    [InlineData("models", "feed", "--shadow", "2", "--promote", "3")]
    [InlineData("models", "feed", "--report", "2", "--mismatches")]
    [InlineData("models", "feed", "--mismatches", "2", "--rollback")]
    [InlineData("models", "feed", "--shadow", "2", "--reason", "why not")]
    [InlineData("models", "feed", "--report", "2", "--reason", "why not")]
    [InlineData("models", "feed", "--mismatches", "--reason", "why not")]
    [InlineData("models", "feed", "--limit", "5")]
    [InlineData("models", "feed", "--report", "2", "--limit", "5")]
    [InlineData("models", "feed", "--mismatches", "--limit", "0")]
    [InlineData("models", "feed", "--mismatches", "--limit", "100001")]
    [InlineData("models", "feed", "--mismatches", "--limit", "ten")]
    [InlineData("models", "feed", "--shadow")]
    public async Task Models_BadShadowArguments_OneLineExitTwo(params string[] args)
    {
        // No server listens on the default address in the tests: these must fail before any request.
        var (code, stdout, stderr) = await RunAsync(args);

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Single(Lines(stderr));
    }

    [Theory]
    [InlineData("'nope' does not exist", "models", "nope", "--shadow", "2")]
    [InlineData("'nope' does not exist", "models", "nope", "--report", "2")]
    [InlineData("'nope' does not exist", "models", "nope", "--mismatches")]
    [InlineData("no model version 99", "models", "feed", "--mismatches", "99")]
    [InlineData("no model version 99", "models", "feed", "--retire", "v99")]
    public async Task Models_UnknownLoopOrVersion_OneLineExitTwo(string expected, params string[] args)
    {
        var (code, stdout, stderr) = await RunAsync([.. args, "--server", server.Url]);

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains(expected, Assert.Single(Lines(stderr)), StringComparison.Ordinal);
    }
}

using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Flywheel.Client;
using Flywheel.Core;
using Xunit.Abstractions;

namespace Flywheel.Server.Tests;

/// <summary>The model registry, the turn ledger, evaluation and export over HTTP, against a real server.</summary>
public sealed partial class TurnsAndExportTests(TurnsAndExportFixture fixture, ITestOutputHelper output) : IClassFixture<TurnsAndExportFixture>
{
    /// <summary>Decisions made in [From, To): seconds 30 to 119 of the seeded 150, 20 a second.</summary>
    private static readonly DateTimeOffset From = TurnsAndExportFixture.Start.AddSeconds(30);
    private static readonly DateTimeOffset To = TurnsAndExportFixture.Start.AddSeconds(120);
    private const int InRange = 90 * TurnsAndExportFixture.PerSecond;

    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static readonly string Range = $"from={Iso(From)}&to={Iso(To)}";

    private ServerFixture Server => fixture.Server;

    [Fact]
    public async Task Models_NewLoop_ListsV1AsTheChampion()
    {
        using var response = await Server.SendAsync(HttpMethod.Get, "/v1/loops/feed/models", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        var model = Assert.Single(doc.RootElement.GetProperty("models").EnumerateArray());
        Assert.Equal(1, model.GetProperty("version").GetInt32());
        Assert.Equal("champion", model.GetProperty("status").GetString());
        Assert.Equal("feed", model.GetProperty("loop").GetString());

        var models = await fixture.Client.ListModelsAsync("feed");
        Assert.Equal(ModelStatus.Champion, Assert.Single(models).Status);
    }

    [Fact]
    public async Task Evaluate_ChampionLoggedUniform_GivesEstimatesOverTheRange()
    {
        var body = $$"""{ "from": "{{Iso(From)}}", "to": "{{Iso(To)}}", "policies": ["champion", "logged", "uniform"] }""";
        using var response = await Server.SendAsync(HttpMethod.Post, "/v1/loops/feed/evaluate", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        output.WriteLine(text);
        var report = FlywheelJson.Read<EvaluationReport>(JsonDocument.Parse(text).RootElement);

        Assert.Equal("feed", report.Loop);
        Assert.Equal(InRange, report.Decisions);
        Assert.Equal(["champion", "logged", "uniform"], report.Policies.Select(p => p.Policy));
        Assert.All(report.Policies, p => Assert.Equal(InRange, p.Estimates!.Count));
        Assert.Equal(1, report.Policies[0].Version);

        // "logged" weighs every decision 1: its IPS is the mean reward of the range, which the export shows row by row.
        var rows = await ReadJsonLinesAsync($"/v1/loops/feed/export?format=jsonl&{Range}");
        Assert.Equal(InRange, rows.Count);
        Assert.Equal(rows.Average(r => r.Reward), report.Policies[1].Estimates!.Ips.Value, 12);
        // The world pays 0.7 for the country's own action and 0.2 otherwise: uniform earns about 0.325, the learned champion more.
        var champion = report.Policies[0].Estimates!.Dr;
        var uniform = report.Policies[2].Estimates!.Dr;
        Assert.InRange(uniform.Value, 0.25, 0.40);
        Assert.True(champion.Value > uniform.Upper, $"champion DR {champion.Value:F4} is not above uniform's interval {uniform.Lower:F4}..{uniform.Upper:F4}");
    }

    [Fact]
    public async Task ExportJsonlWithChampionPolicy_EvaluatedByTheCli_ReproducesPostEvaluate()
    {
        var file = Path.Combine(Server.DataDirectory, "champion.jsonl");
        using (var response = await Server.Http.GetAsync($"/v1/loops/feed/export?format=jsonl&policy=champion&{Range}", HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType?.MediaType);
            await using var target = File.Create(file);
            await response.Content.CopyToAsync(target);
        }
        var lines = await File.ReadAllLinesAsync(file);
        Assert.Equal(InRange, lines.Length);
        Assert.All(lines, l => Assert.Contains("\"targetProbabilities\"", l, StringComparison.Ordinal));

        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        // The loop's reward range, as the server's evaluation uses it.
        var code = await Flywheel.Cli.FlywheelCli.RunAsync(["evaluate", file, "--json", "--reward-min", "-1", "--reward-max", "1"], stdout, stderr);
        Assert.True(code == 0, stderr.ToString());
        using var cli = JsonDocument.Parse(stdout.ToString());

        var body = $$"""{ "from": "{{Iso(From)}}", "to": "{{Iso(To)}}", "policies": ["champion"] }""";
        using var evaluated = await Server.SendAsync(HttpMethod.Post, "/v1/loops/feed/evaluate", body);
        using var server = JsonDocument.Parse(await evaluated.Content.ReadAsStringAsync());
        var policy = server.RootElement.GetProperty("policies")[0];
        output.WriteLine($"cli: {stdout}\nserver: {policy}");

        Assert.Equal("file", cli.RootElement.GetProperty("targetPolicy").GetString());
        Assert.Equal("file", cli.RootElement.GetProperty("rewardEstimates").GetString());
        Assert.Equal(InRange, cli.RootElement.GetProperty("n").GetInt64());
        Assert.Equal(policy.GetProperty("n").GetInt64(), cli.RootElement.GetProperty("n").GetInt64());
        var serverEstimators = policy.GetProperty("estimators");
        var cliEstimators = cli.RootElement.GetProperty("estimators");
        foreach (var estimator in new[] { "ips", "ips-cp", "snips", "dm", "dr" })
        {
            foreach (var part in new[] { "value", "lower", "upper" })
            {
                var expected = serverEstimators.GetProperty(estimator).GetProperty(part).GetDouble();
                var actual = cliEstimators.GetProperty(estimator).GetProperty(part).GetDouble();
                Assert.True(Math.Abs(actual - expected) <= 1e-9 * Math.Abs(expected) + 1e-15,
                    $"{estimator}.{part}: evaluate gives {expected:R}, the CLI on the export {actual:R}");
            }
        }
    }

    [GeneratedRegex(@"^0:(?<cost>[^: ]+):(?<p>[^: ]+) \|@action (?<action>\S+)$")]
    private static partial Regex LabelledLine();

    [Fact]
    public async Task ExportVw_OneSharedLinePerDecision_AndTheChosenActionLabelledCostAndProbability()
    {
        using var response = await Server.Http.GetAsync($"/v1/loops/feed/export?format=vw&{Range}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        var rows = await ReadJsonLinesAsync($"/v1/loops/feed/export?format=jsonl&{Range}");

        var blocks = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(InRange, blocks.Length);
        Assert.Equal(InRange, text.Split('\n').Count(l => l.StartsWith("shared", StringComparison.Ordinal)));
        for (var i = 0; i < blocks.Length; i++)
        {
            var lines = blocks[i].Split('\n');
            Assert.StartsWith("shared |user country=", lines[0], StringComparison.Ordinal);
            Assert.Equal(5, lines.Length); // shared + 4 actions
            var label = Assert.Single(lines.Skip(1).Select(l => LabelledLine().Match(l)), m => m.Success);
            Assert.Equal(rows[i].ChosenActionId, label.Groups["action"].Value);
            Assert.Equal(-rows[i].Reward, double.Parse(label.Groups["cost"].Value, CultureInfo.InvariantCulture));
            Assert.Equal(rows[i].Probability, double.Parse(label.Groups["p"].Value, CultureInfo.InvariantCulture));
        }
    }

    [Fact]
    public async Task Client_ExportStreamsTheSameRowsAsTheServer_AndCopiesVwVerbatim()
    {
        var request = new ExportRequest { From = From, To = To, Policy = "v1" };
        var raw = await ReadJsonLinesAsync($"/v1/loops/feed/export?format=jsonl&policy=v1&{Range}");
        var streamed = new List<LoggedDecision>();
        await foreach (var row in fixture.Client.ExportAsync("feed", request))
        {
            streamed.Add(row);
        }
        Assert.Equal(raw.Select(LoggedDecisionJson.Serialize), streamed.Select(LoggedDecisionJson.Serialize));

        var vw = await Server.Http.GetByteArrayAsync($"/v1/loops/feed/export?format=vw&{Range}");
        using var copy = new MemoryStream();
        var bytes = await fixture.Client.ExportToAsync("feed", FlywheelExportFormat.Vw, request with { Policy = null }, copy);
        Assert.Equal(vw.Length, bytes);
        Assert.Equal(vw, copy.ToArray());
    }

    [Fact]
    public async Task ExportMismatchesOnly_WithoutShadows_IsEmpty()
    {
        using var all = await Server.Http.GetAsync($"/v1/loops/feed/export?format=jsonl&mismatches=false&{Range}");
        Assert.Equal(InRange, (await all.Content.ReadAsStringAsync()).Count(c => c == '\n'));

        using var mismatches = await Server.Http.GetAsync($"/v1/loops/feed/export?format=jsonl&mismatches=true&{Range}");
        Assert.Equal(HttpStatusCode.OK, mismatches.StatusCode);
        Assert.Equal("", await mismatches.Content.ReadAsStringAsync());
    }

    public static TheoryData<string, string, string?, int, string?> Refusals => new()
    {
        { "GET", "/v1/loops/nope/models", null, 404, "loop" },
        { "GET", "/v1/loops/nope/turns", null, 404, "loop" },
        { "POST", "/v1/loops/nope/turns", "{}", 404, "loop" },
        { "POST", "/v1/loops/nope/rollback", "{}", 404, "loop" },
        { "POST", "/v1/loops/nope/models/1/promote", "{}", 404, "loop" },
        { "POST", "/v1/loops/nope/evaluate", "{}", 404, "loop" },
        { "GET", "/v1/loops/nope/export?format=jsonl", null, 404, "loop" },
        { "GET", "/v1/loops/feed/export", null, 422, "format" },
        { "GET", "/v1/loops/feed/export?format=csv", null, 422, "format" },
        { "GET", "/v1/loops/feed/export?format=jsonl&format=vw", null, 422, "format" },
        { "GET", "/v1/loops/feed/export?format=jsonl&from=yesterday", null, 422, "from" },
        { "GET", "/v1/loops/feed/export?format=vw&to=2026-13-45", null, 422, "to" },
        { "GET", "/v1/loops/feed/export?format=jsonl&from=2026-11-25T00:00:00Z&to=2026-11-24T00:00:00Z", null, 422, "to" },
        { "GET", "/v1/loops/feed/export?format=jsonl&policy=best", null, 422, "policy" },
        { "GET", "/v1/loops/feed/export?format=jsonl&policy=v99", null, 404, "policy" },
        { "GET", "/v1/loops/feed/export?format=jsonl&limit=10", null, 422, "limit" },
        { "GET", "/v1/loops/feed/export?format=jsonl&mismatches=yes", null, 422, "mismatches" },
        { "POST", "/v1/loops/feed/models/99/promote", "{}", 404, "version" },
        { "POST", "/v1/loops/feed/models/v2/promote", "{}", 422, "version" },
        { "POST", "/v1/loops/feed/models/1/promote", "{}", 409, "version" },
        { "POST", "/v1/loops/feed/models/1/promote", """{ "reason": "again" }""", 409, "version" },
        { "POST", "/v1/loops/feed/models/1/promote", """{ "why": "again" }""", 422, "why" },
        { "POST", "/v1/loops/feed/rollback", "{}", 409, "loop" },
        { "POST", "/v1/loops/feed/rollback", """{ "reason": 5 }""", 422, "reason" },
        { "POST", "/v1/loops/feed/rollback", """["undo"]""", 422, "" },
        { "POST", "/v1/loops/feed/turns", """{ "force": true }""", 422, "force" },
        { "POST", "/v1/loops/feed/evaluate", """{ "from": "2026-11-24""", 400, null },
        { "POST", "/v1/loops/feed/evaluate", "", 400, null },
        { "POST", "/v1/loops/feed/evaluate", """{ "from": "yesterday" }""", 422, "from" },
        { "POST", "/v1/loops/feed/evaluate", """{ "to": 5 }""", 422, "to" },
        { "POST", "/v1/loops/feed/evaluate", """{ "policies": "champion" }""", 422, "policies" },
        { "POST", "/v1/loops/feed/evaluate", """{ "policies": [] }""", 422, "policies" },
        { "POST", "/v1/loops/feed/evaluate", """{ "policies": ["champion", 3] }""", 422, "policies[1]" },
        { "POST", "/v1/loops/feed/evaluate", """{ "policies": ["best"] }""", 422, "policies[0]" },
        { "POST", "/v1/loops/feed/evaluate", """{ "policies": ["v99"] }""", 404, "policies[0]" },
        { "POST", "/v1/loops/feed/evaluate", """{ "window": 3600 }""", 422, "window" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task Request_Refused_AnswersProblemNamingTheField(string method, string path, string? body, int status, string? field)
    {
        using var response = await Server.SendAsync(new HttpMethod(method), path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == (int)response.StatusCode, $"{method} {path}: {(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(text);
        Assert.Equal(status, problem.RootElement.GetProperty("status").GetInt32());
        Assert.Equal(field, problem.RootElement.TryGetProperty("field", out var f) ? f.GetString() : null);
    }

    [Fact]
    public async Task Rollback_BodyThatIsNotJson_Answers415NamingTheContentType()
    {
        using var response = await Server.SendAsync(HttpMethod.Post, "/v1/loops/feed/rollback", "undo it", "text/plain");

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Content-Type", problem.RootElement.GetProperty("field").GetString());
    }

    [Fact]
    public async Task Client_Refusals_MapToValidationKinds()
    {
        var client = fixture.Client;

        var conflict = await Assert.ThrowsAsync<FlywheelApiValidationException>(() => client.PromoteAsync("feed", 1));
        Assert.Equal((ValidationKind.Conflict, "version", 409), (conflict.Kind, conflict.Field, conflict.StatusCode));
        var noPredecessor = await Assert.ThrowsAsync<FlywheelApiValidationException>(() => client.RollbackAsync("feed", "because"));
        Assert.Equal((ValidationKind.Conflict, "loop"), (noPredecessor.Kind, noPredecessor.Field));
        var missing = await Assert.ThrowsAsync<FlywheelApiValidationException>(() => client.ListTurnsAsync("nope"));
        Assert.Equal(ValidationKind.NotFound, missing.Kind);
        var policy = await Assert.ThrowsAsync<FlywheelApiValidationException>(async () =>
        {
            await foreach (var _ in client.ExportAsync("feed", new ExportRequest { Policy = "v42" }))
            {
            }
        });
        Assert.Equal((ValidationKind.NotFound, "policy"), (policy.Kind, policy.Field));
    }

    [Fact]
    public async Task Turn_ThenPromoteThenRollback_AreRecordedInTheLedgerAndTheRegistry()
    {
        await fixture.SeedAsync("turned", 1000, seed: 7);

        using (var empty = await Server.SendAsync(HttpMethod.Get, "/v1/loops/turned/turns", null))
        {
            Assert.Equal("""{"turns":[]}""", await empty.Content.ReadAsStringAsync());
        }

        var turn = await PostTurnAsync("/v1/loops/turned/turns", "{}");
        Assert.Equal(1, turn.Number);
        Assert.Equal(TurnTrigger.Manual, turn.Trigger);
        Assert.Equal(TurnVerdict.AwaitingManualPromotion, turn.Verdict);
        Assert.Null(turn.DeployedVersion);
        Assert.Contains(turn.Candidates, c => c.Name == "champion" && c.Version == 1);
        Assert.Contains(turn.Candidates, c => c.Name == "uniform");
        var candidate = turn.Candidates.First(c => c.Version > 1);
        Assert.Equal(1000, turn.Window!.Decisions);

        var promoted = await PostTurnAsync($"/v1/loops/turned/models/{candidate.Version}/promote", """{ "reason": "looks better" }""");
        Assert.Equal(TurnVerdict.ManuallyPromoted, promoted.Verdict);
        Assert.Equal(candidate.Version, promoted.DeployedVersion);
        Assert.Contains("looks better", promoted.Reason, StringComparison.Ordinal);

        var models = await fixture.Client.ListModelsAsync("turned");
        Assert.Equal(ModelStatus.Champion, models.Single(m => m.Version == candidate.Version).Status);
        Assert.Equal(ModelStatus.Retired, models.Single(m => m.Version == 1).Status);

        var rolledBack = await PostTurnAsync("/v1/loops/turned/rollback", "{}");
        Assert.Equal(TurnVerdict.RolledBack, rolledBack.Verdict);
        Assert.Equal(1, rolledBack.DeployedVersion);

        using (var again = await Server.SendAsync(HttpMethod.Post, "/v1/loops/turned/rollback", "{}"))
        {
            Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        }
        var ledger = await fixture.Client.ListTurnsAsync("turned");
        Assert.Equal([TurnVerdict.AwaitingManualPromotion, TurnVerdict.ManuallyPromoted, TurnVerdict.RolledBack], ledger.Select(t => t.Verdict));
        Assert.Equal([1L, 2L, 3L], ledger.Select(t => t.Number));
        Assert.Equal(ModelStatus.Champion, (await fixture.Client.ListModelsAsync("turned")).Single(m => m.Version == 1).Status);
    }

    private async Task<TurnRecord> PostTurnAsync(string path, string? body)
    {
        using var response = await Server.SendAsync(HttpMethod.Post, path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {text}");
        return FlywheelJson.Read<TurnRecord>(JsonDocument.Parse(text).RootElement);
    }

    private async Task<List<LoggedDecision>> ReadJsonLinesAsync(string path)
    {
        var text = await Server.Http.GetStringAsync(path);
        Assert.EndsWith("\n", text, StringComparison.Ordinal);
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => LoggedDecisionJson.Read(JsonDocument.Parse(Encoding.UTF8.GetBytes(line)).RootElement))
            .ToList();
    }
}

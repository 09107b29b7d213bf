using System.Net;
using System.Text.Json;
using Flywheel.Client;
using Flywheel.Core;

namespace Flywheel.Server.Tests;

// Shadow mode over HTTP: shadow, report, mismatches, retire.
public sealed partial class TurnsAndExportTests
{
    /// <summary>What the audit of one decision made while a shadow ran says.</summary>
    private sealed record ShadowedDecision(string DecisionId, string Served, double ServedProbability, string ShadowAction, double ShadowServedProbability, double? Reward);

    [Fact]
    public async Task Shadow_ScoresEveryDecision_ReportAndMismatchesMatchTheAudits_RetireStopsIt()
    {
        const string Loop = "shadowed";
        var client = fixture.Client;
        await fixture.SeedAsync(Loop, 400, seed: 5);
        var turn = await PostTurnAsync($"/v1/loops/{Loop}/turns", "{}");
        var candidates = turn.Candidates.Where(c => c.Version > 1).Select(c => c.Version!.Value).ToList();
        Assert.True(candidates.Count >= 2, $"turn {turn.Number}: {turn.Verdict}, {turn.Reason}");
        var version = candidates[0];

        // Shadow it: the answer is the model record, now a shadow; the registry says so too.
        using (var shadowed = await Server.SendAsync(HttpMethod.Post, $"/v1/loops/{Loop}/models/{version}/shadow", "{}"))
        {
            var text = await shadowed.Content.ReadAsStringAsync();
            Assert.True(shadowed.StatusCode == HttpStatusCode.OK, text);
            var model = FlywheelJson.Read<ModelRecord>(JsonDocument.Parse(text).RootElement);
            Assert.Equal((Loop, version, ModelStatus.Shadow), (model.Loop, model.Version, model.Status));
        }
        // Shadowing is idempotent: the client retries it like a read.
        Assert.Equal(ModelStatus.Shadow, (await client.ShadowAsync(Loop, version)).Status);
        Assert.Equal(ModelStatus.Shadow, (await client.ListModelsAsync(Loop)).Single(m => m.Version == version).Status);

        var random = new Random(6);
        var during = await fixture.ServeAsync(Loop, 400, 600, random);

        // Every decision made while it ran carries its choice in the audit; those made before carry none.
        using (var before = JsonDocument.Parse(await Server.Http.GetStringAsync($"/v1/loops/{Loop}/decisions/{Loop}-d0")))
        {
            Assert.False(before.RootElement.TryGetProperty("shadows", out _));
        }
        var audits = new List<ShadowedDecision>();
        foreach (var id in during)
        {
            using var audit = JsonDocument.Parse(await Server.Http.GetStringAsync($"/v1/loops/{Loop}/decisions/{id}"));
            var root = audit.RootElement;
            var shadow = Assert.Single(root.GetProperty("shadows").EnumerateArray());
            Assert.Equal(version, shadow.GetProperty("version").GetInt32());
            var served = root.GetProperty("chosenActionId").GetString()!;
            var ranking = root.GetProperty("ranking").EnumerateArray().ToList();
            var shadowAction = shadow.GetProperty("actionId").GetString()!;
            Assert.Contains(ranking, r => r.GetProperty("actionId").GetString() == shadowAction);
            Assert.InRange(shadow.GetProperty("probability").GetDouble(), double.Epsilon, 1);
            audits.Add(new ShadowedDecision(
                id,
                served,
                ranking.Single(r => r.GetProperty("actionId").GetString() == served).GetProperty("probability").GetDouble(),
                shadowAction,
                shadow.GetProperty("servedProbability").GetDouble(),
                root.GetProperty("reward").ValueKind == JsonValueKind.Null ? null : root.GetProperty("reward").GetProperty("value").GetDouble()));
        }

        // The report, from the audits of the rewarded decisions.
        var rewardConfig = (await client.GetLoopAsync(Loop))!.Reward;
        var rewarded = audits.Where(a => a.Reward is not null).ToList();
        var agreements = rewarded.Count(a => a.ShadowAction == a.Served);
        var expectedMismatches = rewarded.Where(a => a.ShadowAction != a.Served && Mismatch.Judge(a.Reward!.Value, rewardConfig) is not null).ToList();
        var sumW = rewarded.Sum(a => a.ShadowServedProbability / a.ServedProbability);
        var sumWR = rewarded.Sum(a => a.ShadowServedProbability / a.ServedProbability * a.Reward!.Value);
        Assert.Equal(600, rewarded.Count);

        using var reportResponse = await Server.SendAsync(HttpMethod.Get, $"/v1/loops/{Loop}/models/{version}/shadow", null);
        var reportText = await reportResponse.Content.ReadAsStringAsync();
        Assert.True(reportResponse.StatusCode == HttpStatusCode.OK, reportText);
        output.WriteLine(reportText);
        using (var json = JsonDocument.Parse(reportText))
        {
            var root = json.RootElement;
            Assert.Equal(rewarded.Count, root.GetProperty("decisions").GetInt64());
            Assert.Equal(agreements, root.GetProperty("agreements").GetInt64());
            Assert.Equal((double)agreements / rewarded.Count, root.GetProperty("agreementRate").GetDouble(), 12);
            Assert.Equal(expectedMismatches.Count, root.GetProperty("mismatches").GetInt64());
            var estimators = root.GetProperty("estimates").GetProperty("estimators");
            Assert.Equal(["ips", "ips-cp", "snips"], estimators.EnumerateObject().Select(p => p.Name));
            Assert.Equal(sumWR / rewarded.Count, estimators.GetProperty("ips").GetProperty("value").GetDouble(), 9);
            Assert.Equal(sumWR / sumW, estimators.GetProperty("snips").GetProperty("value").GetDouble(), 9);
            Assert.Equal(rewarded.Average(a => a.Reward!.Value), root.GetProperty("servedMean").GetDouble(), 9);
        }
        var report = await client.GetShadowReportAsync(Loop, version);
        Assert.Equal(reportText, FlywheelJson.ToString(w => FlywheelJson.Write(w, report)));
        Assert.InRange(report.AgreementRate, 0.05, 0.999);

        // Mismatches: disagreements whose reward shows one side was clearly wrong, oldest first.
        Assert.NotEmpty(expectedMismatches);
        var listed = await ReadMismatchesAsync($"/v1/loops/{Loop}/models/{version}/mismatches?limit=100000");
        Assert.Equal(expectedMismatches.Select(a => a.DecisionId).Order(StringComparer.Ordinal), listed.Select(m => m.DecisionId).Order(StringComparer.Ordinal));
        Assert.All(listed, m => Assert.NotEqual(m.ServedActionId, m.ShadowActionId));
        Assert.All(listed, m => Assert.Equal(version, m.Version));
        foreach (var m in listed)
        {
            var a = audits.Single(x => x.DecisionId == m.DecisionId);
            Assert.Equal((a.Served, a.ShadowAction, a.Reward!.Value, Mismatch.Judge(a.Reward.Value, rewardConfig)), (m.ServedActionId, m.ShadowActionId, m.Reward, (MismatchSide?)m.Wrong));
        }
        Assert.True(listed.Zip(listed.Skip(1)).All(p => p.First.At <= p.Second.At), "mismatches are listed oldest first");
        var all = await ReadMismatchesAsync($"/v1/loops/{Loop}/mismatches?limit=100000");
        Assert.Equal(listed.Select(m => m.DecisionId), all.Select(m => m.DecisionId));
        var latest = await ReadMismatchesAsync($"/v1/loops/{Loop}/mismatches?limit=3");
        Assert.Equal(listed.TakeLast(3).Select(m => m.DecisionId), latest.Select(m => m.DecisionId));
        var byDefault = await ReadMismatchesAsync($"/v1/loops/{Loop}/models/{version}/mismatches");
        Assert.Equal(listed.TakeLast(100).Select(m => m.DecisionId), byDefault.Select(m => m.DecisionId));
        var typed = await client.ListMismatchesAsync(Loop, version, limit: 100_000);
        Assert.Equal(listed, typed);
        Assert.Equal(listed.TakeLast(2), await client.ListMismatchesAsync(Loop, limit: 2));

        // Retire it: later decisions carry no shadow, and the report keeps what it scored.
        using (var retired = await Server.SendAsync(HttpMethod.Post, $"/v1/loops/{Loop}/models/{version}/retire", """{ "reason": "seen enough" }"""))
        {
            var text = await retired.Content.ReadAsStringAsync();
            Assert.True(retired.StatusCode == HttpStatusCode.OK, text);
            var model = FlywheelJson.Read<ModelRecord>(JsonDocument.Parse(text).RootElement);
            Assert.Equal(ModelStatus.Retired, model.Status);
            Assert.Contains("seen enough", model.Reason, StringComparison.Ordinal);
        }
        var after = await fixture.ServeAsync(Loop, 1000, 200, random);
        foreach (var id in after)
        {
            using var audit = JsonDocument.Parse(await Server.Http.GetStringAsync($"/v1/loops/{Loop}/decisions/{id}"));
            Assert.False(audit.RootElement.TryGetProperty("shadows", out _), $"{id} was made after the shadow was retired");
        }
        var kept = await client.GetShadowReportAsync(Loop, version);
        Assert.Equal((report.Decisions, report.Agreements, report.Mismatches), (kept.Decisions, kept.Agreements, kept.Mismatches));
        Assert.Equal(listed, await client.ListMismatchesAsync(Loop, version, limit: 100_000));

        // Refusals: the champion serves already; a candidate superseded by a later turn has no weights left.
        var champion = (await client.ListModelsAsync(Loop)).Single(m => m.Status == ModelStatus.Champion).Version;
        var onChampion = await Assert.ThrowsAsync<FlywheelApiValidationException>(() => client.ShadowAsync(Loop, champion));
        Assert.Equal((ValidationKind.Conflict, "version", 409), (onChampion.Kind, onChampion.Field, onChampion.StatusCode));
        var retireChampion = await Assert.ThrowsAsync<FlywheelApiValidationException>(() => client.RetireAsync(Loop, champion, "no"));
        Assert.Equal((ValidationKind.Conflict, 409), (retireChampion.Kind, retireChampion.StatusCode));
        var second = await PostTurnAsync($"/v1/loops/{Loop}/turns", "{}");
        Assert.Equal(TurnVerdict.AwaitingManualPromotion, second.Verdict);
        using (var superseded = await Server.SendAsync(HttpMethod.Post, $"/v1/loops/{Loop}/models/{candidates[1]}/shadow", "{}"))
        {
            var text = await superseded.Content.ReadAsStringAsync();
            Assert.True(superseded.StatusCode == HttpStatusCode.Conflict, text);
            using var problem = JsonDocument.Parse(text);
            Assert.Equal("version", problem.RootElement.GetProperty("field").GetString());
            Assert.Contains("no stored weights", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
        var unknown = await Assert.ThrowsAsync<FlywheelApiValidationException>(() => client.GetShadowReportAsync(Loop, 999));
        Assert.Equal((ValidationKind.NotFound, "version"), (unknown.Kind, unknown.Field));
        var tooMany = await Assert.ThrowsAsync<FlywheelApiValidationException>(() => client.ListMismatchesAsync(Loop, limit: 100_001));
        Assert.Equal((ValidationKind.Invalid, "limit"), (tooMany.Kind, tooMany.Field));
    }

    [Fact]
    public async Task ShadowReport_OfTheChampionThatNeverShadowed_IsAConflictNamingIt()
    {
        using var response = await Server.SendAsync(HttpMethod.Get, "/v1/loops/feed/models/1/shadow", null);
        var text = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.Conflict, text);
        using var problem = JsonDocument.Parse(text);
        Assert.Equal("version", problem.RootElement.GetProperty("field").GetString());
        Assert.Contains("model version 1 is the champion and never ran as a shadow", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("""{"mismatches":[]}""", await Server.Http.GetStringAsync("/v1/loops/feed/mismatches"));
        Assert.Empty(await fixture.Client.ListMismatchesAsync("feed", 1));
    }

    public static TheoryData<string, string, string?, int, string?> ShadowRefusals => new()
    {
        { "POST", "/v1/loops/nope/models/1/shadow", "{}", 404, "loop" },
        { "POST", "/v1/loops/nope/models/1/retire", "{}", 404, "loop" },
        { "GET", "/v1/loops/nope/models/1/shadow", null, 404, "loop" },
        { "GET", "/v1/loops/nope/models/1/mismatches", null, 404, "loop" },
        { "GET", "/v1/loops/nope/mismatches", null, 404, "loop" },
        { "POST", "/v1/loops/feed/models/99/shadow", "{}", 404, "version" },
        { "POST", "/v1/loops/feed/models/99/retire", """{ "reason": "gone" }""", 404, "version" },
        { "GET", "/v1/loops/feed/models/99/shadow", null, 404, "version" },
        { "GET", "/v1/loops/feed/models/99/mismatches", null, 404, "version" },
        { "POST", "/v1/loops/feed/models/1/shadow", "{}", 409, "version" },
        { "POST", "/v1/loops/feed/models/1/retire", "{}", 409, "version" },
        { "POST", "/v1/loops/feed/models/v1/shadow", "{}", 422, "version" },
        { "POST", "/v1/loops/feed/models/0/retire", "{}", 422, "version" },
        { "GET", "/v1/loops/feed/models/latest/shadow", null, 422, "version" },
        { "GET", "/v1/loops/feed/models/-1/mismatches", null, 422, "version" },
        { "POST", "/v1/loops/feed/models/1/shadow", """{ "reason": "why not" }""", 422, "reason" },
        { "POST", "/v1/loops/feed/models/1/shadow", "[]", 422, "" },
        { "POST", "/v1/loops/feed/models/1/retire", """{ "reason": 5 }""", 422, "reason" },
        { "POST", "/v1/loops/feed/models/1/retire", """{ "reason": "a", "why": "b" }""", 422, "why" },
        { "POST", "/v1/loops/feed/models/1/retire", """{ "reason": "a""", 400, null },
        { "GET", "/v1/loops/feed/mismatches?limit=0", null, 422, "limit" },
        { "GET", "/v1/loops/feed/mismatches?limit=100001", null, 422, "limit" },
        { "GET", "/v1/loops/feed/mismatches?limit=-5", null, 422, "limit" },
        { "GET", "/v1/loops/feed/mismatches?limit=ten", null, 422, "limit" },
        { "GET", "/v1/loops/feed/mismatches?limit=1e3", null, 422, "limit" },
        { "GET", "/v1/loops/feed/mismatches?limit=5&limit=6", null, 422, "limit" },
        { "GET", "/v1/loops/feed/mismatches?version=1", null, 422, "version" },
        { "GET", "/v1/loops/feed/models/1/mismatches?limit=0", null, 422, "limit" },
        { "GET", "/v1/loops/feed/models/1/mismatches?top=5", null, 422, "top" },
    };

    [Theory]
    [MemberData(nameof(ShadowRefusals))]
    public Task ShadowRequest_Refused_AnswersProblemNamingTheField(string method, string path, string? body, int status, string? field)
        => Request_Refused_AnswersProblemNamingTheField(method, path, body, status, field);

    [Fact]
    public async Task Client_ShadowRefusals_MapToValidationKinds()
    {
        var client = fixture.Client;

        var champion = await Assert.ThrowsAsync<FlywheelApiValidationException>(() => client.ShadowAsync("feed", 1));
        Assert.Equal((ValidationKind.Conflict, "version", 409), (champion.Kind, champion.Field, champion.StatusCode));
        var missing = await Assert.ThrowsAsync<FlywheelApiValidationException>(() => client.RetireAsync("feed", 42, "gone"));
        Assert.Equal((ValidationKind.NotFound, "version", 404), (missing.Kind, missing.Field, missing.StatusCode));
        var loop = await Assert.ThrowsAsync<FlywheelApiValidationException>(() => client.ListMismatchesAsync("nope"));
        Assert.Equal((ValidationKind.NotFound, "loop"), (loop.Kind, loop.Field));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.ListMismatchesAsync("feed", limit: 0));
    }

    private async Task<List<Mismatch>> ReadMismatchesAsync(string path)
    {
        using var response = await Server.SendAsync(HttpMethod.Get, path, null);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {text}");
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.GetProperty("mismatches").EnumerateArray().Select(FlywheelJson.Read<Mismatch>).ToList();
    }
}

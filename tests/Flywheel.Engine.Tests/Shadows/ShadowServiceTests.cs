using Flywheel.Core;
using Flywheel.Learning;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace Flywheel.Engine.Tests.Shadows;

public sealed class ShadowTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Shadow_DifferentFromTheChampion_ReportsAgreementLiveValueAndMismatches()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero));
        // The one candidate drops the context pairs, so it cannot tell the time slots apart: it differs from the champion.
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time, o => o.CandidateSearch =
            config => [new CandidateSettings("−pairs", config.Learner with { Interactions = ["context*action"] }, config.Exploration)]);
        var loop = CombinationWorld.Loop("feed", ["context*action", "context*context*action"]) with
        {
            Exploration = new ExplorationConfig { Algorithm = ExplorationAlgorithm.EpsilonGreedy, Epsilon = 0.05 },
            Turns = new TurnsConfig { MinDecisions = 1000, PromoteWhen = PromotionPolicy.Manual, EverySeconds = 1e7 },
        };
        await engine.PutLoopAsync(loop);
        var world = new CombinationWorld(seed: 41);
        var runner = new WorldRunner(engine, time, world);
        // Flushing every round makes every decision see the same model on every run, so the figures are reproducible.
        await runner.RunAsync(["feed"], rounds: 3000, flushEvery: 1);
        var turn = await engine.RunTurnAsync("feed");
        var candidate = Assert.Single(await engine.ListModelsAsync("feed"), m => m.Status == ModelStatus.Candidate);
        Assert.Equal(turn.Number, candidate.Turn);

        // Freeze the champion with more exploration, so that the log supports the shadow's choices, then shadow the candidate.
        await engine.PutLoopAsync(loop with { Mode = LoopMode.Frozen, Exploration = loop.Exploration with { Epsilon = 0.3 } });
        var shadow = await engine.ShadowAsync("feed", candidate.Version);
        Assert.Equal(ModelStatus.Shadow, shadow.Status);
        var before = runner.Decisions.Count;
        await runner.RunAsync(["feed"], rounds: 4000, flushEvery: 1);
        time.Advance(TimeSpan.FromHours(1));
        await engine.FlushAsync();

        var report = await engine.GetShadowReportAsync("feed", candidate.Version);

        // What the audit trail says, decision by decision.
        long scored = 0, agreements = 0, mismatches = 0;
        foreach (var (_, id) in runner.Decisions.Skip(before))
        {
            var audit = (await engine.GetDecisionAsync("feed", id))!;
            var choice = Assert.Single(audit.Decision.Shadows);
            Assert.Equal(candidate.Version, choice.Version);
            if (audit.Reward is not { } reward)
            {
                continue;
            }
            scored++;
            if (choice.ActionId == audit.Decision.ChosenActionId)
            {
                agreements++;
            }
            else if (Mismatch.Judge(reward.Reward, loop.Reward) is not null)
            {
                mismatches++;
            }
        }
        Assert.Equal(scored, report.Decisions);
        Assert.Equal(agreements, report.Agreements);
        Assert.Equal((double)agreements / scored, report.AgreementRate, 12);
        Assert.InRange(report.AgreementRate, 0.2, 0.9);
        Assert.Equal(mismatches, report.Mismatches);
        var listed = await engine.ListMismatchesAsync("feed", candidate.Version, limit: 100_000);
        Assert.Equal(mismatches, listed.Count);
        Assert.All(listed, m => Assert.NotEqual(m.ServedActionId, m.ShadowActionId));
        Assert.Contains(listed, m => m.Wrong == MismatchSide.Served);
        Assert.Contains(listed, m => m.Wrong == MismatchSide.Shadow);
        var exported = new List<LoggedDecision>();
        await foreach (var row in engine.ExportAsync("feed", new ExportRequest { MismatchesOnly = true }))
        {
            exported.Add(row);
        }
        Assert.Equal(listed.Select(m => m.DecisionId), exported.Select(r => r.DecisionId));

        // The shadow's true value: its distribution in each of the 12 equally likely cells against the world's rewards.
        var cells = (from c in Enumerable.Range(0, CombinationWorld.Countries.Length) from s in Enumerable.Range(0, CombinationWorld.Slots.Length) select (c, s)).ToList();
        double truth = 0;
        foreach (var cell in cells)
        {
            var pmf = await engine.PolicyProbabilitiesAsync("feed", $"v{candidate.Version}", CombinationWorld.Context(cell), CombinationWorld.Actions);
            truth += Enumerable.Range(0, CombinationWorld.ActionCount).Sum(a => pmf[a] * world.ExpectedReward(cell, a)) / cells.Count;
        }
        var ips = report.Estimates!.Ips;
        output.WriteLine($"shadow v{candidate.Version}: {report.Decisions} decisions, agreement {report.AgreementRate:P1}, IPS {ips.Value:F4} [{ips.Lower:F4}, {ips.Upper:F4}], true value {truth:F4}, served mean {report.ServedMean:F4}, mismatches {report.Mismatches} (served wrong {listed.Count(m => m.Wrong == MismatchSide.Served)})");
        Assert.True(ips.Contains(truth), $"the IPS interval [{ips.Lower:F4}, {ips.Upper:F4}] should contain the true value {truth:F4}");
        Assert.True(ips.Upper - ips.Lower < 0.2, "the interval is informative");
    }

    [Fact]
    public async Task Turns_MismatchWeight_LearnsMismatchesMoreOften()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero));
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time, o => o.CandidateSearch =
            config => [new CandidateSettings("−pairs", config.Learner with { Interactions = ["context*action"] }, config.Exploration)]);
        var loop = CombinationWorld.Loop("feed", ["context*action", "context*context*action"]) with
        {
            Turns = new TurnsConfig { MinDecisions = 500, PromoteWhen = PromotionPolicy.Manual, EverySeconds = 1e7 },
        };
        await engine.PutLoopAsync(loop);
        var runner = new WorldRunner(engine, time, new CombinationWorld(seed: 43));
        await runner.RunAsync(["feed"], rounds: 1000, flushEvery: 1);
        await engine.RunTurnAsync("feed");
        await engine.ShadowAsync("feed", (await engine.ListModelsAsync("feed")).Single(m => m.Status == ModelStatus.Candidate).Version);
        await runner.RunAsync(["feed"], rounds: 1000, flushEvery: 1);
        Assert.NotEmpty(await engine.ListMismatchesAsync("feed"));

        await engine.PutLoopAsync(loop with { Turns = loop.Turns with { MismatchWeight = 5 } });
        var weighted = await engine.RunTurnAsync("feed");
        var models = await engine.ListModelsAsync("feed");
        var candidate = models.Single(m => m.Status == ModelStatus.Candidate && m.Turn == weighted.Number);
        // Learning each mismatch five times leaves more examples in the candidate than decisions in the log.
        var counts = await engine.GetCountsAsync("feed");
        var learned = await engine.CandidateExamplesAsync("feed", candidate.Version);
        output.WriteLine($"rewards {counts.Rewards}, candidate examples {learned}");
        Assert.True(learned > counts.Rewards, $"{learned} examples should exceed {counts.Rewards} rewards");
    }
}

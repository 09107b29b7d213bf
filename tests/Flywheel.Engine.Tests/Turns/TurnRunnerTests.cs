using Flywheel.Core;
using Flywheel.Learning;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace Flywheel.Engine.Tests.Turns;

public sealed class TurnTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static readonly string[] Pairs = ["context*action", "context*context*action"];

    private static FakeTimeProvider Clock() => new(new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero));

    private static LoopConfig Feed(string id, IReadOnlyList<string> interactions, double epsilon, PromotionPolicy policy = PromotionPolicy.LowerBoundBeatsChampion, double everySeconds = 1e7)
        => CombinationWorld.Loop(id, interactions) with
        {
            Exploration = new ExplorationConfig { Algorithm = ExplorationAlgorithm.EpsilonGreedy, Epsilon = epsilon },
            Turns = new TurnsConfig { MinDecisions = 1000, EverySeconds = everySeconds, PromoteWhen = policy },
        };

    private static Func<LoopConfig, IReadOnlyList<CandidateSettings>> Search(params (string Name, double Epsilon)[] candidates)
        => config => candidates.Select(c => new CandidateSettings(c.Name, config.Learner, config.Exploration with { Epsilon = c.Epsilon })).ToList();

    private void Print(TurnRecord turn)
    {
        output.WriteLine($"turn {turn.Number} ({turn.Trigger}): {turn.Verdict} — {turn.Reason}");
        foreach (var c in turn.Candidates)
        {
            var dr = c.Estimates.Dr;
            var ips = c.Estimates.Ips;
            output.WriteLine($"  {c.Name,-26} v{c.Version?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"} IPS {ips.Value:F4} [{ips.Lower:F4}, {ips.Upper:F4}] DR {dr.Value:F4} [{dr.Lower:F4}, {dr.Upper:F4}] n {c.Estimates.Count} ess {c.Estimates.EffectiveSampleSize:F0}");
        }
        if (turn.Lift is { } lift)
        {
            output.WriteLine($"  lift v{lift.Version} vs v{lift.PredecessorVersion}: {lift.Mean:F4} vs {lift.PredecessorMean:F4}, Δ {lift.Difference.Value:F4} [{lift.Difference.Lower:F4}, {lift.Difference.Upper:F4}]");
        }
    }

    [Fact]
    public async Task RunTurn_TrulyBetterCandidate_IsPromotedWithinOneTurn()
    {
        var time = Clock();
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time, o => o.CandidateSearch = Search(("epsilon 0.02", 0.02), ("epsilon 0.9", 0.9)));
        await engine.PutLoopAsync(Feed("feed", Pairs, epsilon: 0.5));
        var runner = new WorldRunner(engine, time, new CombinationWorld(seed: 7));
        await runner.RunAsync(["feed"], rounds: 3000, flushEvery: 1);

        var turn = await engine.RunTurnAsync("feed");
        Print(turn);

        Assert.Equal(TurnVerdict.Promoted, turn.Verdict);
        var models = await engine.ListModelsAsync("feed");
        var champion = Assert.Single(models, m => m.Status == ModelStatus.Champion);
        Assert.Equal(turn.DeployedVersion, champion.Version);
        Assert.Equal(0.02, champion.Exploration.EffectiveEpsilon);
        Assert.Equal(1, champion.ParentVersion);
        Assert.Equal(ModelStatus.Retired, models.Single(m => m.Version == 1).Status);
        Assert.Contains("lower bounds of IPS and DR beat the champion", turn.Reason, StringComparison.Ordinal);
        Assert.Equal(0.02, (await engine.GetLoopAsync("feed"))!.Exploration.EffectiveEpsilon);
        Assert.Contains(turn.Candidates, c => c.Name == "champion" && c.Version == 1);
        Assert.Contains(turn.Candidates, c => c.Name == "uniform");
        Assert.Equal((await engine.GetCountsAsync("feed")).Rewards, turn.Window!.Decisions);

        // The promoted model serves at once and keeps learning online.
        var d = await engine.DecideAsync("feed", new DecideRequest { Context = CombinationWorld.Context((0, 0)), Actions = CombinationWorld.Actions });
        Assert.Equal(champion.Version, d.ModelVersion);
        var before = runner.Rewards["feed"].Take(3000).Skip(2000).Average();
        await runner.RunAsync(["feed"], rounds: 1000, flushEvery: 1);
        var after = runner.Rewards["feed"].TakeLast(1000).Average();
        output.WriteLine($"mean reward: last 1000 before the turn {before:F4}, 1000 after {after:F4}");
        Assert.True(after > before + 0.1, $"{after:F4} should be well above {before:F4}");
    }

    [Fact]
    public async Task RunTurn_OnlyWorseCandidates_AreRejectedAndTheChampionStays()
    {
        var time = Clock();
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time, o => o.CandidateSearch = Search(("epsilon 0.6", 0.6), ("epsilon 0.9", 0.9)));
        await engine.PutLoopAsync(Feed("feed", Pairs, epsilon: 0.05));
        await new WorldRunner(engine, time, new CombinationWorld(seed: 8)).RunAsync(["feed"], rounds: 3000, flushEvery: 1);

        var turn = await engine.RunTurnAsync("feed");
        Print(turn);

        Assert.Equal(TurnVerdict.Rejected, turn.Verdict);
        Assert.Null(turn.DeployedVersion);
        Assert.Contains("no candidate's 95% lower bounds of IPS and DR both beat the champion", turn.Reason, StringComparison.Ordinal);
        var models = await engine.ListModelsAsync("feed");
        Assert.Equal(1, Assert.Single(models, m => m.Status == ModelStatus.Champion).Version);
        Assert.Equal(2, models.Count(m => m.Status == ModelStatus.Candidate && m.Turn == turn.Number));
        Assert.Equal(0.05, (await engine.GetLoopAsync("feed"))!.Exploration.EffectiveEpsilon);
    }

    [Fact]
    public async Task RunTurn_TooFewNewDecisions_RecordsInsufficientData()
    {
        var time = Clock();
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time);
        await engine.PutLoopAsync(Feed("feed", Pairs, epsilon: 0.05));
        await new WorldRunner(engine, time, new CombinationWorld(seed: 9)).RunAsync(["feed"], rounds: 300, flushEvery: 1);

        var turn = await engine.RunTurnAsync("feed");

        Assert.Equal(TurnVerdict.InsufficientData, turn.Verdict);
        Assert.Contains("turns.minDecisions = 1000", turn.Reason, StringComparison.Ordinal);
        Assert.Single(await engine.ListTurnsAsync("feed"));
    }

    [Fact]
    public async Task Guardrail_ManuallyPromotedBadModel_IsRolledBack()
    {
        var time = Clock();
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time, o => o.CandidateSearch = Search(("epsilon 0.9", 0.9)));
        await engine.PutLoopAsync(Feed("feed", Pairs, epsilon: 0.05, policy: PromotionPolicy.Manual));
        var runner = new WorldRunner(engine, time, new CombinationWorld(seed: 10));
        await runner.RunAsync(["feed"], rounds: 3000, flushEvery: 1);

        var turn = await engine.RunTurnAsync("feed");
        Print(turn);
        Assert.Equal(TurnVerdict.AwaitingManualPromotion, turn.Verdict);
        var bad = Assert.Single(await engine.ListModelsAsync("feed"), m => m.Status == ModelStatus.Candidate);

        var promotion = await engine.PromoteAsync("feed", bad.Version, "trying more exploration");
        Assert.Equal(TurnVerdict.ManuallyPromoted, promotion.Verdict);
        Assert.Equal(bad.Version, (await engine.DecideAsync("feed", new DecideRequest { Context = CombinationWorld.Context((1, 1)), Actions = CombinationWorld.Actions })).ModelVersion);

        await runner.RunAsync(["feed"], rounds: 1500, flushEvery: 1);
        await engine.RunScheduledTurnsAsync();

        var ledger = await engine.ListTurnsAsync("feed");
        foreach (var entry in ledger)
        {
            Print(entry);
        }
        var measured = ledger.Single(t => t.Number == promotion.Number);
        Assert.NotNull(measured.Lift);
        Assert.True(measured.Lift!.Difference.Upper < 0, "the bad model's online reward is below its predecessor's with confidence");
        var rollback = ledger[^1];
        Assert.Equal(TurnVerdict.RolledBack, rollback.Verdict);
        Assert.Equal(TurnTrigger.Guardrail, rollback.Trigger);
        Assert.Equal(1, rollback.DeployedVersion);
        Assert.Contains("guardrail: online reward", rollback.Reason, StringComparison.Ordinal);
        var models = await engine.ListModelsAsync("feed");
        Assert.Equal(1, Assert.Single(models, m => m.Status == ModelStatus.Champion).Version);
        Assert.Equal(ModelStatus.Retired, models.Single(m => m.Version == bad.Version).Status);
        Assert.Equal(0.05, (await engine.GetLoopAsync("feed"))!.Exploration.EffectiveEpsilon);
        Assert.Equal(1, (await engine.DecideAsync("feed", new DecideRequest { Context = CombinationWorld.Context((2, 1)), Actions = CombinationWorld.Actions })).ModelVersion);
    }

    [Fact]
    public async Task Turns_DefaultSearch_DiscoverTheContextPairsCrossAndCloseTheGap()
    {
        var time = Clock();
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time);
        await engine.PutLoopAsync(CombinationWorld.Loop("discover", ["context*action"]) with { Turns = new TurnsConfig { EverySeconds = 2000, MinDecisions = 1000 } });
        await engine.PutLoopAsync(CombinationWorld.Loop("pairs", Pairs) with { Turns = new TurnsConfig { EverySeconds = 1e7 } });
        var world = new CombinationWorld(seed: 20261124);
        var runner = new WorldRunner(engine, time, world);
        for (var block = 0; block < 20; block++)
        {
            await runner.RunAsync(["discover", "pairs"], rounds: 1000, flushEvery: 1);
            await engine.RunScheduledTurnsAsync();
        }

        var ledger = await engine.ListTurnsAsync("discover");
        foreach (var turn in ledger)
        {
            Print(turn);
        }
        double Last2000(string loop) => runner.Rewards[loop].TakeLast(2000).Average();
        output.WriteLine($"last 2000: discover {Last2000("discover"):F4}, pairs {Last2000("pairs"):F4}, optimal {world.OptimalReward:F4}");
        foreach (var m in await engine.ListModelsAsync("discover"))
        {
            output.WriteLine($"v{m.Version} {m.Status} [{string.Join(", ", m.Learner.Interactions)}] parent {m.ParentVersion} — {m.Reason}");
        }

        var found = ledger.First(t => t.Verdict == TurnVerdict.Promoted
            && t.Candidates.Single(c => c.Version == t.DeployedVersion).Learner!.Interactions.Contains("context*context*action"));
        Assert.Contains("lower bounds of IPS and DR beat the champion", found.Reason, StringComparison.Ordinal);
        Assert.NotNull(found.Lift);
        Assert.True(found.Lift!.Difference.Lower > 0, "the ledger shows the measured online lift of the promotion");
        Assert.Contains("context*context*action", (await engine.GetLoopAsync("discover"))!.Learner.Interactions);
        Assert.True(Last2000("discover") >= 0.9 * Last2000("pairs"), $"discover {Last2000("discover"):F4} should be within 10% of pairs {Last2000("pairs"):F4}");
        Assert.Empty(await engine.ListTurnsAsync("pairs"));
    }

    [Fact]
    public async Task Schedule_TimerOnTheFakeClock_RunsTurnsWhenDueAndEnoughDecisionsExist()
    {
        var time = Clock();
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time, o =>
        {
            o.ScheduleTurns = true;
            o.TurnCheckInterval = TimeSpan.FromSeconds(30);
        });
        await engine.PutLoopAsync(Feed("feed", Pairs, epsilon: 0.1, everySeconds: 900) with { Turns = new TurnsConfig { EverySeconds = 900, MinDecisions = 300 } });
        await new WorldRunner(engine, time, new CombinationWorld(seed: 12)).RunAsync(["feed"], rounds: 2000, flushEvery: 1);

        // Each tick of the fake clock starts the timer's check before Advance returns; awaiting it before the next tick
        // means no check is ever skipped, so the turns land at the same fake moments on any machine.
        IReadOnlyList<TurnRecord> ledger = [];
        for (var tick = 0; tick < 240 && ledger.Count < 2; tick++)
        {
            time.Advance(TimeSpan.FromSeconds(30));
            await engine.ScheduledCheckAsync();
            ledger = await engine.ListTurnsAsync("feed");
        }
        Assert.True(ledger.Count >= 2, $"expected scheduled turns, found {ledger.Count}");
        Assert.All(ledger, t => Assert.Equal(TurnTrigger.Schedule, t.Trigger));
        Assert.All(ledger, t => Assert.True(t.Window!.Decisions >= 300, "a scheduled turn waits for turns.minDecisions new decisions"));
        Assert.All(ledger.Zip(ledger.Skip(1)), pair => Assert.True(pair.Second.StartedAt - pair.First.FinishedAt >= TimeSpan.FromSeconds(900)));
    }

    [Fact]
    public async Task Registry_AndLedger_SurviveARestart()
    {
        var time = Clock();
        TurnRecord turn;
        await using (var engine = await TestEngine.OpenAsync(_dir.Path, time, o => o.CandidateSearch = Search(("epsilon 0.02", 0.02))))
        {
            await engine.PutLoopAsync(Feed("feed", Pairs, epsilon: 0.5));
            await new WorldRunner(engine, time, new CombinationWorld(seed: 11)).RunAsync(["feed"], rounds: 2000, flushEvery: 1);
            turn = await engine.RunTurnAsync("feed");
            Assert.Equal(TurnVerdict.Promoted, turn.Verdict);
        }
        await using (var engine = await TestEngine.OpenAsync(_dir.Path, time))
        {
            var ledger = await engine.ListTurnsAsync("feed");
            Assert.Equal(turn, Assert.Single(ledger), TurnRecordComparer.Instance);
            var champion = Assert.Single(await engine.ListModelsAsync("feed"), m => m.Status == ModelStatus.Champion);
            Assert.Equal(turn.DeployedVersion, champion.Version);
            Assert.Equal(champion.Version, (await engine.DecideAsync("feed", new DecideRequest { Context = CombinationWorld.Context((0, 2)), Actions = CombinationWorld.Actions })).ModelVersion);
            var rollback = await engine.RollbackAsync("feed", "checking the rollback path");
            Assert.Equal(1, rollback.DeployedVersion);
            Assert.Equal(TurnTrigger.Manual, rollback.Trigger);
        }
    }

    /// <summary>Ledger entries compare by their JSON (records hold lists, which compare by reference).</summary>
    private sealed class TurnRecordComparer : IEqualityComparer<TurnRecord>
    {
        public static readonly TurnRecordComparer Instance = new();

        public bool Equals(TurnRecord? x, TurnRecord? y)
            => x is not null && y is not null && FlywheelJson.ToString(w => FlywheelJson.Write(w, x)) == FlywheelJson.ToString(w => FlywheelJson.Write(w, y));

        public int GetHashCode(TurnRecord obj) => obj.Number.GetHashCode();
    }
}

public sealed class ApprenticeTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Apprentice_DecentBaseline_GraduatesThenBeatsTheBaselineOnline()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero));
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time);
        var loop = CombinationWorld.Loop("tutor", ["context*action", "context*context*action"], LoopMode.Apprentice)
            with { Turns = new TurnsConfig { MinDecisions = 1000, EverySeconds = 2000 } };
        await engine.PutLoopAsync(loop);
        var world = new CombinationWorld(seed: 31);
        // The product's rule: the best video for the user's country on average over the day, blind to the time slot.
        var bestByCountry = Enumerable.Range(0, CombinationWorld.Countries.Length)
            .Select(c => Enumerable.Range(0, CombinationWorld.ActionCount)
                .MaxBy(a => Enumerable.Range(0, CombinationWorld.Slots.Length).Average(s => world.ExpectedReward((c, s), a))))
            .ToArray();
        string Baseline((int Country, int Slot) ctx) => CombinationWorld.Actions[bestByCountry[ctx.Country]].Id;
        var cells = (from c in Enumerable.Range(0, CombinationWorld.Countries.Length) from s in Enumerable.Range(0, CombinationWorld.Slots.Length) select (c, s)).ToList();
        var baselineValue = cells.Average(cell => world.ExpectedReward(cell, bestByCountry[cell.c]));
        output.WriteLine($"baseline value {baselineValue:F4}, optimal {world.OptimalReward:F4}, uniform {world.UniformReward:F4}");
        Assert.True(baselineValue > world.UniformReward + 0.1 && baselineValue < world.OptimalReward - 0.1, "the baseline is decent but sub-optimal");

        var missing = await Assert.ThrowsAsync<FlywheelValidationException>(async () =>
            await engine.DecideAsync("tutor", new DecideRequest { Context = CombinationWorld.Context((0, 0)), Actions = CombinationWorld.Actions }));
        Assert.Equal("baselineActionId", missing.Field);

        var runner = new WorldRunner(engine, time, world) { Baseline = Baseline };
        TurnRecord? graduation = null;
        var rounds = 0;
        while (graduation is null && rounds < 12_000)
        {
            await runner.RunAsync(["tutor"], rounds: 1000, flushEvery: 1);
            rounds += 1000;
            await engine.RunScheduledTurnsAsync();
            graduation = (await engine.ListTurnsAsync("tutor")).FirstOrDefault(t => t.Verdict == TurnVerdict.Graduated);
        }
        foreach (var turn in await engine.ListTurnsAsync("tutor"))
        {
            output.WriteLine($"turn {turn.Number} ({turn.Trigger}): {turn.Verdict} — {turn.Reason}");
        }
        Assert.NotNull(graduation);
        Assert.Contains("graduated to online", graduation.Reason, StringComparison.Ordinal);
        Assert.Contains(graduation.Candidates, c => c.Name == "baseline");
        Assert.Equal(LoopMode.Online, (await engine.GetLoopAsync("tutor"))!.Mode);
        var apprenticeMean = runner.Rewards["tutor"].Average();

        await runner.RunAsync(["tutor"], rounds: 3000, flushEvery: 1);
        await engine.RunScheduledTurnsAsync();
        var online = runner.Rewards["tutor"].TakeLast(2000).Average();
        output.WriteLine($"graduated after {rounds} rounds; mean expected reward while apprentice {apprenticeMean:F4}, last 2000 online {online:F4}, baseline {baselineValue:F4}");
        Assert.True(online > baselineValue + 0.05, $"online {online:F4} should beat the baseline's {baselineValue:F4}");
        var measured = (await engine.ListTurnsAsync("tutor")).Single(t => t.Number == graduation.Number);
        Assert.NotNull(measured.Lift);
        output.WriteLine($"ledger lift: {measured.Lift!.Mean:F4} vs {measured.Lift.PredecessorMean:F4}, Δ {measured.Lift.Difference.Value:F4} [{measured.Lift.Difference.Lower:F4}, {measured.Lift.Difference.Upper:F4}]");
        Assert.True(measured.Lift.Difference.Lower > 0, "the ledger shows the online lift over the baseline");
    }
}

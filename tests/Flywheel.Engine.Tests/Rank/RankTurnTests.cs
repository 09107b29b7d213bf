using Flywheel.Core;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace Flywheel.Engine.Tests.Rank;

/// <summary>Turns of a rank loop: candidates trained on per-slot rewards and judged by the slate estimators.</summary>
public sealed class RankTurnTests(ITestOutputHelper output) : IDisposable
{
    private const string Loop = "search";
    private static readonly double[] Examination = [1.0, 0.6, 0.35];
    // One query; document i is clicked, when looked at, with probability Attraction[i].
    private static readonly double[] Attraction = [0.05, 0.1, 0.9, 0.2, 0.6, 0.05, 0.3, 0.1];
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static LoopConfig SearchLoop() => new()
    {
        Id = Loop,
        Kind = LoopKind.Rank,
        Rank = new RankConfig { Slots = 3, PositionBias = PositionBias.Estimate, InterventionRate = 0.2 },
        Signals = new Dictionary<string, SignalTypeConfig> { ["click"] = new() { Kind = SignalKind.Implicit, Weight = 1 } },
        Reward = new RewardConfig { WindowSeconds = 30, Min = 0, Max = 1 },
        Exploration = new ExplorationConfig { Algorithm = ExplorationAlgorithm.EpsilonGreedy, Epsilon = 0.2 },
        Turns = new TurnsConfig { MinDecisions = 500 },
    };

    private static DecideRequest Query(int i) => new()
    {
        DecisionId = $"q{i}",
        Context = new Features { ["query"] = { ["text"] = "running shoes" } },
        Actions = [.. Attraction.Select((_, d) => new ActionCandidate($"doc{d}"))],
    };

    private const int Queries = 3000;

    /// <summary>Serves <see cref="Queries"/> queries to a position-based click model; returns the clicks.</summary>
    private static async Task<double> RunAsync(FlywheelEngine engine, FakeTimeProvider time)
    {
        await engine.PutLoopAsync(SearchLoop());
        var random = new Random(20261207);
        double clicks = 0;
        for (var i = 0; i < Queries; i++)
        {
            var decision = await engine.DecideAsync(Loop, Query(i));
            var signals = new List<SignalInput>();
            foreach (var served in decision.Ranking)
            {
                var doc = int.Parse(served.ActionId.AsSpan(3), System.Globalization.CultureInfo.InvariantCulture);
                if (random.NextDouble() < Examination[served.Slot!.Value - 1] * Attraction[doc])
                {
                    signals.Add(new SignalInput { DecisionId = decision.DecisionId, ActionId = served.ActionId, Type = "click" });
                }
            }
            clicks += signals.Count;
            if (signals.Count > 0)
            {
                await engine.RecordSignalsAsync(Loop, signals);
            }
            time.Advance(TimeSpan.FromSeconds(1));
            if (i % 100 == 99)
            {
                await engine.FlushAsync();
            }
        }
        time.Advance(TimeSpan.FromMinutes(5));
        await engine.FlushAsync();
        return clicks;
    }

    [Fact]
    public async Task Turn_RankLoop_JudgesRankersByTheSlateEstimatorsWithTheServedValueAsLogged()
    {
        var time = new FakeTimeProvider(TestEngine.Start);
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time);
        var clicks = await RunAsync(engine, time);

        var turn = await engine.RunTurnAsync(Loop);

        output.WriteLine($"{turn.Verdict}: {turn.Reason}");
        foreach (var c in turn.Candidates)
        {
            output.WriteLine($"{c.Name}: RIPS {c.Estimates.Ips.Value:F4} [{c.Estimates.Ips.Lower:F4}, {c.Estimates.Ips.Upper:F4}], DR {c.Estimates.Dr.Value:F4}, ESS {c.Estimates.EffectiveSampleSize:F0}");
        }
        Assert.NotEqual(TurnVerdict.InsufficientData, turn.Verdict);
        var champion = turn.Candidates.Single(c => c.Name == "champion").Estimates;
        var uniform = turn.Candidates.Single(c => c.Name == "uniform").Estimates;
        // The served rankings' value is what they earned: clicks per query, the same whichever estimator.
        var judged = turn.Window!.Decisions;
        Assert.Equal(judged, champion.Count);
        Assert.Equal(champion.Ips.Value, champion.Dr.Value, 9);
        Assert.InRange(champion.Ips.Value, 0.5 * clicks / Queries, 2 * clicks / Queries);
        // A uniformly random ranker earns clearly less than the learned one: best three 0.9, 0.6, 0.3 against a mean of 0.29.
        Assert.True(uniform.Dr.Upper < champion.Dr.Lower, $"uniform {uniform.Dr} should be below the champion {champion.Dr}");
        var replayed = turn.Candidates.Single(c => c.Name == "champion (replayed)").Estimates;
        Assert.True(replayed.EffectiveSampleSize > 100, $"the replayed champion's ESS is {replayed.EffectiveSampleSize}");
        Assert.InRange(replayed.Dr.Value, champion.Dr.Lower - 0.1, champion.Dr.Upper + 0.1);
    }

    [Fact]
    public async Task EvaluateAndExport_RankLoop_TheExportEvaluatesToTheSameFigures()
    {
        var time = new FakeTimeProvider(TestEngine.Start);
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time);
        var clicks = await RunAsync(engine, time);

        var report = await engine.EvaluateAsync(Loop, new EvaluateRequest { Policies = ["champion", "logged", "uniform", "baseline"] });
        var exported = new List<LoggedDecision>();
        await foreach (var row in engine.ExportAsync(Loop, new ExportRequest { Policy = "champion" }))
        {
            exported.Add(row);
        }
        var fromFile = Flywheel.Evaluation.OffPolicyEvaluator.Evaluate(exported.Select(r => LoggedDecisionJson.Read(System.Text.Encoding.UTF8.GetBytes(LoggedDecisionJson.Serialize(r)))));

        Assert.Equal(Queries, report.Decisions);
        var champion = report.Policies[0];
        var logged = report.Policies[1].Estimates!;
        Assert.Equal(clicks / Queries, logged.Ips.Value, 9);
        Assert.Null(report.Policies[3].Estimates);
        Assert.Equal(["sips", "rips", "snsips", "snrips", "cascade-dr"], champion.Rankings!.Keys);
        Assert.Equal(champion.Estimates!.Ips.Value, champion.Rankings["rips"].Value, 12);
        Assert.Equal(champion.Estimates.Dr.Value, champion.Rankings["cascade-dr"].Value, 12);
        Assert.True(report.Policies[2].Estimates!.Dr.Upper < champion.Estimates.Dr.Lower);
        // The export carries the champion's slot probabilities and reward model: evaluating it gives the same figures.
        Assert.Equal(Queries, exported.Count);
        Assert.All(exported, r => Assert.Equal(3, r.Ranking!.Count));
        Assert.Equal(champion.Estimates.Ips.Value, fromFile.Estimates.Ips.Value, 9);
        Assert.Equal(champion.Estimates.Snips.Value, fromFile.Estimates.Snips.Value, 9);
        Assert.Equal(champion.Estimates.Dr.Value, fromFile.Estimates.Dr.Value, 9);
        Assert.Equal(champion.Rankings["sips"].Value, fromFile.Rankings!["sips"].Value, 9);
        var json = FlywheelJson.Serialize(report);
        Assert.Contains("\"rankings\":{\"sips\":", json, StringComparison.Ordinal);
    }
}

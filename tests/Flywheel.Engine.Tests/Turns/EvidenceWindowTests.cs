using System.Globalization;
using System.Reflection;
using Flywheel.Core;
using Flywheel.Learning;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace Flywheel.Engine.Tests.Turns;

/// <summary>
/// Turns judge all the evidence since what serves last changed, so thin evidence per turn delays a decision instead of
/// preventing it; and a decision whose weight no evidence would dilute stops a promotion, with the reason in the ledger.
/// </summary>
public sealed class EvidenceWindowTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static readonly string[] Pairs = ["context*action", "context*context*action"];

    private static FakeTimeProvider Clock() => new(new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero));

    private static ExplorationConfig Greedy(double epsilon) => new() { Algorithm = ExplorationAlgorithm.EpsilonGreedy, Epsilon = epsilon };

    private void Print(TurnRecord turn)
    {
        output.WriteLine($"turn {turn.Number} ({turn.Trigger}): {turn.Verdict}, window {turn.Window?.Decisions} (rewards {turn.Window?.AfterSequence}..{turn.Window?.ThroughSequence}), new {turn.NewDecisions}, since {turn.EvidenceSince} — {turn.Reason}");
        foreach (var c in turn.Candidates)
        {
            var e = c.Estimates;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {c.Name,-26} v{c.Version?.ToString(CultureInfo.InvariantCulture) ?? "-"} IPS {e.Ips.Value:F4} [{e.Ips.Lower:F4}, {e.Ips.Upper:F4}] DR {e.Dr.Value:F4} [{e.Dr.Lower:F4}, {e.Dr.Upper:F4}] n {e.Count} ess {e.EffectiveSampleSize:F0} share {e.MaxWeightShare:P1}"));
        }
    }

    /// <summary>Turns, each after <paramref name="block"/> rounds, until one has <paramref name="verdict"/> or <paramref name="turns"/> ran.</summary>
    private static async Task<(IReadOnlyList<TurnRecord> Ledger, TurnRecord? Found)> TurnUntilAsync(FlywheelEngine engine, WorldRunner runner, string loop, TurnVerdict verdict, int block, int turns)
    {
        for (var i = 0; i < turns; i++)
        {
            await runner.RunAsync([loop], rounds: block, flushEvery: 1);
            await engine.RunScheduledTurnsAsync();
            var ledger = await engine.ListTurnsAsync(loop);
            if (ledger.FirstOrDefault(t => t.Verdict == verdict) is { } found)
            {
                return (ledger, found);
            }
        }
        return (await engine.ListTurnsAsync(loop), null);
    }

    [Fact]
    public async Task Apprentice_FivePercentExploration_GraduatesOnEvidenceThatAccumulatesAcrossTurns()
    {
        var time = Clock();
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time);
        // 5% exploration over 10 actions: the learner's own pick is logged with p = 0.005, a few times per thousand
        // decisions, so no single window of 1,000 rewards holds the 30 effective samples the judge asks for.
        var loop = CombinationWorld.Loop("tutor", Pairs, LoopMode.Apprentice) with
        {
            Exploration = Greedy(0.05),
            Turns = new TurnsConfig { MinDecisions = 1000, EverySeconds = 1000 },
        };
        await engine.PutLoopAsync(loop);
        var world = new CombinationWorld(seed: 41);
        // The product's rule: one video for everyone, the one that is worst on average.
        var cells = (from c in Enumerable.Range(0, CombinationWorld.Countries.Length) from s in Enumerable.Range(0, CombinationWorld.Slots.Length) select (c, s)).ToList();
        var rule = Enumerable.Range(0, CombinationWorld.ActionCount).MinBy(a => cells.Average(cell => world.ExpectedReward(cell, a)));
        var baselineValue = cells.Average(cell => world.ExpectedReward(cell, rule));
        output.WriteLine($"baseline value {baselineValue:F4}, uniform {world.UniformReward:F4}, optimal {world.OptimalReward:F4}");
        var runner = new WorldRunner(engine, time, world) { Baseline = _ => CombinationWorld.Actions[rule].Id };

        // A turn is due every 1,000 s with 1,000 new rewards: about every 2,000 decisions. Up to 16,000 decisions.
        const int Bound = 8;
        var (ledger, graduation) = await TurnUntilAsync(engine, runner, "tutor", TurnVerdict.Graduated, block: 1000, turns: 16);
        foreach (var turn in ledger)
        {
            Print(turn);
        }

        Assert.NotNull(graduation);
        Assert.True(graduation.Number <= Bound, $"graduated at turn {graduation.Number}, bound {Bound}");
        Assert.Equal(LoopMode.Online, (await engine.GetLoopAsync("tutor"))!.Mode);
        // Every judged turn before it was refused on thin evidence, and each judged a longer window: all rewards since
        // apprentice mode began, not the 1,000 new ones.
        var judged = ledger.Where(t => t.Window is not null && t.Verdict != TurnVerdict.InsufficientData).ToList();
        Assert.True(judged.Count >= 2, "the first window alone is too thin to decide");
        for (var i = 0; i < judged.Count; i++)
        {
            var w = judged[i].Window!;
            Assert.Equal(0, w.AfterSequence);
            Assert.Equal("apprentice mode began", judged[i].EvidenceSince);
            Assert.Equal(LoopMode.Apprentice, judged[i].Mode);
            Assert.True(judged[i].NewDecisions < w.Decisions || i == 0, $"turn {judged[i].Number} judges more than its new rewards");
            if (i > 0)
            {
                Assert.True(w.Decisions > judged[i - 1].Window!.Decisions + 900, "the judged window grows from turn to turn");
            }
        }
        var first = judged[0].Candidates.Single(c => c.Name == "learner").Estimates;
        var last = graduation.Candidates.Single(c => c.Name == "learner").Estimates;
        output.WriteLine($"learner ESS {first.EffectiveSampleSize:F1} on the first window, {last.EffectiveSampleSize:F1} at graduation");
        Assert.True(first.EffectiveSampleSize < 30, "one window of 1,000 rewards is too thin for the ESS gate");
        Assert.True(last.EffectiveSampleSize >= 30);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"judged on {graduation.Window!.Decisions:N0} rewarded decisions since apprentice mode began (reward 0), ESS {last.EffectiveSampleSize:F0}"), graduation.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Online_LowExploration_CandidateWithAClearButThinAdvantage_IsPromotedOnAccumulatedEvidence()
    {
        var time = Clock();
        // The champion ignores the context (one video for everyone); the candidate learns the combination of country and
        // time slot. With 5% exploration the log rarely shows the candidate's picks where the two disagree (p = 0.005),
        // so each window's ESS is small.
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time, o => o.CandidateSearch = config =>
            [new CandidateSettings("+context*context*action", config.Learner with { Interactions = Pairs }, config.Exploration)]);
        await engine.PutLoopAsync(CombinationWorld.Loop("feed", []) with
        {
            Exploration = Greedy(0.05),
            Turns = new TurnsConfig { MinDecisions = 1000, EverySeconds = 1000 },
        });
        var runner = new WorldRunner(engine, time, new CombinationWorld(seed: 43));

        const int Bound = 8;
        var (ledger, promotion) = await TurnUntilAsync(engine, runner, "feed", TurnVerdict.Promoted, block: 1000, turns: 16);
        foreach (var turn in ledger)
        {
            Print(turn);
        }

        Assert.NotNull(promotion);
        Assert.True(promotion.Number <= Bound, $"promoted at turn {promotion.Number}, bound {Bound}");
        var judged = ledger.Where(t => t.Window is not null && t.Verdict != TurnVerdict.InsufficientData).ToList();
        Assert.True(judged.Count >= 2, "the first window alone is too thin to decide");
        Assert.True(judged[0].Candidates.Single(c => c.Name == "+context*context*action").Estimates.EffectiveSampleSize < 30, "one window is too thin for the ESS gate");
        for (var i = 0; i < judged.Count; i++)
        {
            Assert.Equal(0, judged[i].Window!.AfterSequence);
            Assert.Equal("v1 began serving", judged[i].EvidenceSince);
            Assert.True(i == 0 || judged[i].Window!.Decisions > judged[i - 1].Window!.Decisions + 900, "the judged window grows from turn to turn");
        }
        var winner = promotion.Candidates.Single(c => c.Version == promotion.DeployedVersion);
        Assert.Contains("+context*context*action", winner.Name, StringComparison.Ordinal);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"judged on {promotion.Window!.Decisions:N0} rewarded decisions since v1 began serving (reward 0), ESS {winner.Estimates.EffectiveSampleSize:F0}"), promotion.Reason, StringComparison.Ordinal);
        Assert.Contains("context*context*action", (await engine.GetLoopAsync("feed"))!.Learner.Interactions);

        // The next turn's evidence starts afresh where the new champion began serving.
        await runner.RunAsync(["feed"], rounds: 1500, flushEvery: 1);
        var next = await engine.RunTurnAsync("feed");
        Print(next);
        Assert.Equal($"v{promotion.DeployedVersion} became champion", next.EvidenceSince);
        Assert.True(next.Window!.AfterSequence >= promotion.Window.ThroughSequence);
        Assert.True(next.Window.Decisions <= next.NewDecisions, "only what the new champion served is judged");
    }

    [Fact]
    public async Task Turn_DecisionLoggedWithProbability1e9_IsRefusedWithTheReasonInTheLedger_AndTheNextTurnLeavesItBehind()
    {
        var time = Clock();
        // A client that logs its own probabilities could send this; the engine's decide cannot (its exploration keeps
        // every probability far above), so the store the engine writes through rewrites one stored decision, as a faulty
        // logging path would leave it: the action served was logged with p = 1e-9.
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time, o =>
        {
            o.CandidateSearch = config => [new CandidateSettings("epsilon 0.02", config.Learner, config.Exploration with { Epsilon = 0.02 })];
            var sqlite = o.StoreFactory!;
            o.UseStore(services => TinyProbabilityStore.Wrap(sqlite(services), "d1200"));
        });
        await engine.PutLoopAsync(CombinationWorld.Loop("feed", Pairs) with
        {
            Exploration = Greedy(0.5),
            Turns = new TurnsConfig { MinDecisions = 1000, EverySeconds = 1e7 },
        });
        var runner = new WorldRunner(engine, time, new CombinationWorld(seed: 7));
        await runner.RunAsync(["feed"], rounds: 3000, flushEvery: 1);
        var audit = await engine.GetDecisionAsync("feed", "d1200");
        Assert.Equal(1e-9, audit!.Decision.ChosenProbability);

        var refused = await engine.RunTurnAsync("feed");
        Print(refused);

        // The candidate (less exploration: clearly better here) has the ESS of one decision, and the reason names why.
        Assert.Equal(TurnVerdict.Rejected, refused.Verdict);
        Assert.Null(refused.DeployedVersion);
        var candidate = refused.Candidates.Single(c => c.Name == "epsilon 0.02");
        Assert.True(candidate.Estimates.HasExtremeWeights);
        Assert.True(candidate.Estimates.MaxWeightShare > 0.99, $"{candidate.Estimates.MaxWeightShare:P1}");
        Assert.Contains($"v{candidate.Version} not judged: extreme importance weight: one decision carries", refused.Reason, StringComparison.Ordinal);
        Assert.Equal(1, Assert.Single(await engine.ListModelsAsync("feed"), m => m.Status == ModelStatus.Champion).Version);

        // The next turn judges the evidence after that window only, and promotes on it.
        await runner.RunAsync(["feed"], rounds: 3000, flushEvery: 1);
        var next = await engine.RunTurnAsync("feed");
        Print(next);
        Assert.Equal(refused.Window!.ThroughSequence, next.Window!.AfterSequence);
        Assert.Equal($"turn {refused.Number}, whose window held an extreme importance weight", next.EvidenceSince);
        Assert.False(next.Candidates.Single(c => c.Name == "epsilon 0.02").Estimates.HasExtremeWeights);
        Assert.Equal(TurnVerdict.Promoted, next.Verdict);
    }

    /// <summary>
    /// A store that stores one decision as if its served action had been logged with probability 1e-9 (the rest of the
    /// mass spread over the other actions); everything else passes through.
    /// </summary>
    public class TinyProbabilityStore : DispatchProxy
    {
        private IFlywheelStore _inner = null!;
        private string _decisionId = "";

        public static IFlywheelStore Wrap(IFlywheelStore inner, string decisionId)
        {
            var proxy = Create<IFlywheelStore, TinyProbabilityStore>();
            var self = (TinyProbabilityStore)(object)proxy;
            self._inner = inner;
            self._decisionId = decisionId;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod!.Name == nameof(IFlywheelStore.CommitAsync) && args![0] is StoreBatch batch)
            {
                for (var i = 0; i < batch.Decisions.Count; i++)
                {
                    var d = batch.Decisions[i];
                    if (d.DecisionId == _decisionId)
                    {
                        var others = d.Ranking.Count - 1;
                        batch.Decisions[i] = d with
                        {
                            Ranking = d.Ranking.Select(r => r with { Probability = r.ActionId == d.ChosenActionId ? 1e-9 : (1 - 1e-9) / others }).ToList(),
                        };
                    }
                }
            }
            try
            {
                return targetMethod.Invoke(_inner, args);
            }
            catch (TargetInvocationException ex) when (ex.InnerException is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.InnerException).Throw();
                throw;
            }
        }
    }
}

using System.Globalization;
using Flywheel.Core;
using Flywheel.Engine;
using Flywheel.Simulation.Tutor;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace Flywheel.Simulation.Tests;

/// <summary>
/// The tutor world (docs/tutor-simulation.md): its answer, growth and memory model against its parameters, the reminder
/// recipe on a fake clock, and a small run's determinism.
/// </summary>
public sealed class TutorWorldTests(ITestOutputHelper output)
{
    [Fact]
    public void TutorWorld_Items_SpreadPastEveryLearnerAndLevelsFollowDifficulty()
    {
        var world = new TutorWorld(new TutorWorldSettings(), 200, 1);
        Assert.Equal(200, world.Items.Count);
        var abilities = world.Learners.Select(l => l.Ability).ToArray();
        var (weakest, strongest) = (abilities.Min(), abilities.Max());
        // Items far too easy even for the weakest learner, and far too hard even for the strongest.
        var tooEasy = world.Items.Count(i => world.Success(weakest, i.Index) > 0.9);
        var tooHard = world.Items.Count(i => world.Success(strongest, i.Index) < 0.1);
        var rho = TutorStatistics.Spearman([.. world.Items.Select(i => (double)i.Level)], [.. world.Items.Select(i => i.Difficulty)]);
        output.WriteLine($"abilities {weakest:F2} to {strongest:F2}; items too easy for all {tooEasy}, too hard for all {tooHard}; Spearman(level, difficulty) {rho:F3}");
        Assert.True(tooEasy >= 5 && tooHard >= 5);
        Assert.InRange(rho, 0.9, 0.99); // informative, not exact: the level is noisy
        Assert.Equal(world.Curriculum.Count, world.Curriculum.Distinct().Count());
        Assert.True(world.Curriculum.Select(i => world.Items[i].Level).Zip(world.Curriculum.Skip(1).Select(i => world.Items[i].Level)).All(p => p.First <= p.Second));
        for (var t = 0; t < 5; t++)
        {
            Assert.Equal(40, world.Topic(t).Count);
            Assert.All(world.Topic(t), i => Assert.Equal(t, world.Items[i].Topic));
        }
        // The same seed gives the same world.
        var again = new TutorWorld(new TutorWorldSettings(), 200, 1);
        Assert.Equal(world.Items, again.Items);
        Assert.Equal(world.Learners, again.Learners);
    }

    [Fact]
    public void TutorWorld_AnswerGrowthAndMemory_FollowTheirFormulas()
    {
        var world = new TutorWorld(new TutorWorldSettings { Guess = 0.25 }, 1, 2);
        var item = world.Items[0];
        Assert.Equal(0.25 + 0.75 / (1 + Math.Exp(-(1.2 - item.Difficulty))), world.Success(1.2, 0), 12);
        Assert.Equal(0.25 + 0.75 / (1 + Math.Exp(-(1.2 - item.Difficulty + 0.5))), world.Success(1.2, 0, 0.5), 12);
        // Growth peaks at 0.7 and is nearly nothing far from it.
        Assert.Equal(0.003, world.Growth(0.7), 12);
        Assert.Equal(0.003 * Math.Exp(-1), world.Growth(0.9), 12);
        Assert.True(world.Growth(0.2) < 0.01 * 0.003 && world.Growth(0.999) < 0.15 * 0.003);
        // Memory halves over a day after one practice, over two days after two.
        Assert.Equal(0, world.Memory(0, 0));
        Assert.Equal(1, world.Memory(1, 0), 12);
        Assert.Equal(0.5, world.Memory(1, 1), 12);
        Assert.Equal(0.5, world.Memory(2, 2), 12);
        // Habit fades while away; a reminder at the learner's own time works best, none does nothing.
        Assert.Equal(0.8 * 0.7 * 0.7, world.PracticeChance(0.8, 2), 12);
        Assert.Equal(0.5, world.ReturnChance(PracticeTime.Evening, PracticeTime.Evening));
        Assert.Equal(0.05, world.ReturnChance(PracticeTime.Evening, PracticeTime.Morning));
        Assert.Equal(0, world.ReturnChance(PracticeTime.Morning, null));
    }

    [Fact]
    public void Spearman_TiesShareTheirMeanRank()
    {
        Assert.Equal(1, TutorStatistics.Spearman([1, 2, 3, 4], [10, 20, 30, 40]), 12);
        Assert.Equal(-1, TutorStatistics.Spearman([1, 2, 3, 4], [4, 3, 2, 1]), 12);
        // Ranks (1, 2.5, 2.5, 4) against (1, 2, 3, 4): 4.5 / √(4.5 · 5).
        Assert.Equal(4.5 / Math.Sqrt(4.5 * 5), TutorStatistics.Spearman([1, 2, 2, 3], [1, 2, 3, 4]), 12);
        Assert.True(double.IsNaN(TutorStatistics.Spearman([1, 1, 1], [1, 2, 3])));
    }

    [Fact]
    public void TutorOptions_Validate_NamesTheBadSetting()
    {
        Assert.Equal("Learners", Assert.Throws<ArgumentOutOfRangeException>(() => new TutorOptions { DataDirectory = "x", Learners = 0 }.Validate()).ParamName);
        Assert.Equal("Days", Assert.Throws<ArgumentOutOfRangeException>(() => new TutorOptions { DataDirectory = "x", Days = 366 }.Validate()).ParamName);
        Assert.Equal("TargetSuccess", Assert.Throws<ArgumentOutOfRangeException>(() => new TutorOptions { DataDirectory = "x", TargetSuccess = 0.2, World = new() { Guess = 0.25 } }.Validate()).ParamName);
        Assert.Equal("SessionLength", Assert.Throws<ArgumentOutOfRangeException>(() => new TutorOptions { DataDirectory = "x", World = new() { ItemsPerTopic = 10 } }.Validate()).ParamName);
        Assert.Equal("Policies", Assert.Throws<ArgumentException>(() => new TutorOptions { DataDirectory = "x", Policies = [TutorPolicy.Loop, TutorPolicy.Loop] }.Validate()).ParamName);
        new TutorOptions { DataDirectory = "x" }.Validate();
        // The loops the scenario declares are loops the engine accepts.
        TutorSimulation.TutorLoop(new TutorOptions { DataDirectory = "x" }).Validate();
        TutorSimulation.ReminderLoop().Validate();
    }

    [Fact]
    public void Docs_LoopConfigs_AreTheLoopsTheSimulatorDeclares()
    {
        // The JSON blocks of docs/tutor-simulation.md, parsed strictly, against the loops the runs use.
        var doc = File.ReadAllText(Repository.Path("docs", "tutor-simulation.md"));
        var blocks = doc.Split("```json\n").Skip(1).Select(b => b[..b.IndexOf("```", StringComparison.Ordinal)]).ToArray();
        var loops = blocks.Select(b => LoopConfigJson.Parse(b)).ToDictionary(l => l.Id);
        Assert.Equal(LoopConfigJson.Serialize(TutorSimulation.TutorLoop(new TutorOptions { DataDirectory = "x" })), LoopConfigJson.Serialize(loops[TutorSimulation.TutorLoopId]));
        Assert.Equal(LoopConfigJson.Serialize(TutorSimulation.ReminderLoop()), LoopConfigJson.Serialize(loops[TutorSimulation.ReminderLoopId]));
    }

    /// <summary>
    /// The reminder recipe on a fake clock: a <c>returned</c> signal inside the 24-hour window closes it with reward 1;
    /// a learner who has not come back by then gets the default 0 when the window runs out, and a return after that is
    /// late and changes nothing.
    /// </summary>
    [Fact]
    public async Task ReminderRecipe_ReturnWithinTheWindow_IsTheRewardAndALateReturnIsNot()
    {
        using var folder = new TempDirectory("flywheel-reminders-");
        var t0 = new DateTimeOffset(2027, 3, 1, 6, 0, 0, TimeSpan.Zero);
        var time = new FakeTimeProvider(t0);
        await using var engine = await FlywheelEngine.OpenAsync(new FlywheelOptions { ScheduleTurns = false }.UseSqlite(folder.Path), time);
        await engine.PutLoopAsync(TutorSimulation.ReminderLoop());

        var early = await engine.DecideAsync(TutorSimulation.ReminderLoopId, TutorSimulation.ReminderRequest("r-early", "u1", PracticeTime.Evening));
        var late = await engine.DecideAsync(TutorSimulation.ReminderLoopId, TutorSimulation.ReminderRequest("r-late", "u2", PracticeTime.Morning));
        Assert.Contains(early.ChosenActionId, TutorSimulation.ReminderActions);

        // u1 starts a session 23 hours later: inside the window.
        time.SetUtcNow(t0.AddHours(23));
        var back = await engine.RecordSignalsAsync(TutorSimulation.ReminderLoopId, [new SignalInput { SignalId = "ret-r-early", DecisionId = "r-early", Type = TutorSimulation.ReturnedSignal }]);
        Assert.Equal(new SignalBatchResult(1, 0, 0, 0), back);

        // u2 comes back after 25 hours: the window closed at 24 hours with the default reward.
        time.SetUtcNow(t0.AddHours(25));
        await engine.FlushAsync();
        var tooLate = await engine.RecordSignalsAsync(TutorSimulation.ReminderLoopId, [new SignalInput { SignalId = "ret-r-late", DecisionId = "r-late", Type = TutorSimulation.ReturnedSignal }]);
        Assert.Equal(new SignalBatchResult(1, 0, 0, 1), tooLate);
        await engine.FlushAsync();

        var rewarded = (await engine.GetDecisionAsync(TutorSimulation.ReminderLoopId, "r-early"))!.Reward!;
        Assert.Equal((1.0, WindowClose.Signal, t0.AddHours(23)), (rewarded.Reward, rewarded.ClosedBy, rewarded.ClosedAt));
        var missed = (await engine.GetDecisionAsync(TutorSimulation.ReminderLoopId, "r-late"))!.Reward!;
        Assert.Equal((0.0, WindowClose.Timeout, t0.AddHours(24)), (missed.Reward, missed.ClosedBy, missed.ClosedAt));
        Assert.Equal(late.ChosenActionId, (await engine.GetDecisionAsync(TutorSimulation.ReminderLoopId, "r-late"))!.Decision.ChosenActionId);
        var counts = await engine.GetCountsAsync(TutorSimulation.ReminderLoopId);
        Assert.Equal((2L, 2L, 1L), (counts.Rewards, counts.Signals, counts.LateSignals));
    }

    [Fact]
    public async Task RunAsync_SameSeedTwice_SameFigures()
    {
        using var root = new TempDirectory("flywheel-tutor-");
        var options = new TutorOptions { Learners = 16, Days = 5, Seed = 9, DataDirectory = Path.Combine(root.Path, "a") };
        var first = await TutorSimulation.RunAsync(options);
        var second = await TutorSimulation.RunAsync(options with { DataDirectory = Path.Combine(root.Path, "b") });
        Assert.Equal(Json(first), Json(second));
        Assert.Equal(first[TutorPolicy.Loop].Learners, second[TutorPolicy.Loop].Learners);
        // Policies meet the same people: the same starting abilities and habits, the same first day's attendance.
        Assert.Equal(first[TutorPolicy.Loop].Learners.Select(l => (l.StartAbility, l.Habit)), first[TutorPolicy.Curriculum].Learners.Select(l => (l.StartAbility, l.Habit)));
        Assert.Equal(first[TutorPolicy.Loop].Days[0].Practised, first[TutorPolicy.Random].Days[0].Practised);
        Assert.True(first[TutorPolicy.Loop].Decisions > 16 * 10);
        Assert.Equal(first[TutorPolicy.Loop].Days.Sum(d => d.Answers), first[TutorPolicy.Loop].Decisions);
        Assert.Equal(0, first[TutorPolicy.Random].Decisions);
        Assert.NotEqual(Json(first), Json(await TutorSimulation.RunAsync(options with { Seed = 10, DataDirectory = Path.Combine(root.Path, "c") })));
    }

    private static string Json(TutorResult result)
    {
        using var buffer = new MemoryStream();
        TutorReport.WriteJson(buffer, result);
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}

/// <summary>
/// The tutor world's criteria on the real engine and store on a fake clock: three seeds of 60 learners over 30 days, each
/// with the ability loop, random exercises and the fixed curriculum over the same learners (docs/tutor-simulation.md).
/// </summary>
public sealed class TutorDoneWhenTests(TutorDoneWhenTests.Runs runs, ITestOutputHelper output) : IClassFixture<TutorDoneWhenTests.Runs>
{
    /// <summary>The seeds the criteria are checked on: the first three, not chosen.</summary>
    private static readonly ulong[] Seeds = [1, 2, 3];

    /// <summary>Two-sided 95% quantiles of Student's t for 1 to 5 degrees of freedom.</summary>
    private static readonly double[] T95 = [12.706204736, 4.302652730, 3.182446305, 2.776445105, 2.570581836];

    /// <summary>
    /// Each seed's run, shared by the tests: 60 learners rather than the command's 100, which keeps the three runs to
    /// about 25 s on 2 cores while every seed still has 50 or more learners past 200 answers.
    /// </summary>
    public sealed class Runs : IAsyncLifetime
    {
        private readonly TempDirectory _root = new("flywheel-tutor-");

        public IReadOnlyList<TutorResult> Results { get; private set; } = [];

        public async Task InitializeAsync()
        {
            var results = new List<TutorResult>();
            foreach (var seed in Seeds)
            {
                results.Add(await TutorSimulation.RunAsync(new TutorOptions { Learners = 60, Days = 30, Seed = seed, DataDirectory = Path.Combine(_root.Path, seed.ToString(CultureInfo.InvariantCulture)) }));
            }
            Results = results;
        }

        public Task DisposeAsync()
        {
            _root.Dispose();
            return Task.CompletedTask;
        }
    }

    [Fact]
    public void RunAsync_Loop_SuccessAfterWarmUpWithin005OfTheTargetOnEverySeed()
    {
        foreach (var result in runs.Results)
        {
            var success = result.Summary(TutorPolicy.Loop).SuccessAfterWarmUp;
            output.WriteLine($"seed {result.Options.Seed}: loop success after warm-up {success.Value:F4} [{success.Lower:F4}, {success.Upper:F4}]; random {result.Summary(TutorPolicy.Random).SuccessAfterWarmUp.Value:F4}, curriculum {result.Summary(TutorPolicy.Curriculum).SuccessAfterWarmUp.Value:F4}");
            Assert.InRange(success.Value, result.Options.TargetSuccess - 0.05, result.Options.TargetSuccess + 0.05);
            // Served through the engine: one decision per answer, every one answered.
            var loop = result[TutorPolicy.Loop];
            Assert.Equal(loop.Learners.Sum(l => (long)l.Answers), loop.Decisions);
        }
    }

    [Fact]
    public void RunAsync_Loop_EstimatesRankLearnersByTrueAbilityAfter200Answers()
    {
        foreach (var result in runs.Results)
        {
            var s = result.Summary(TutorPolicy.Loop);
            output.WriteLine($"seed {result.Options.Seed}: Spearman {s.Spearman!.Value:F4} [{s.Spearman.Lower:F4}, {s.Spearman.Upper:F4}] over {s.SpearmanLearners} learners; mean estimate - truth {s.EstimateBias:+0.000;-0.000}, 95% intervals covering the truth {s.IntervalCoverage:F2}");
            Assert.True(s.SpearmanLearners >= 40, $"seed {result.Options.Seed}: only {s.SpearmanLearners} learners reached 200 answers");
            Assert.True(s.Spearman.Value >= 0.9, $"seed {result.Options.Seed}: Spearman {s.Spearman.Value:F4}");
            Assert.All(result[TutorPolicy.Loop].Learners.Where(l => l.Answers >= 200), l => Assert.True(double.IsFinite(l.Estimate)));
        }
    }

    /// <summary>
    /// Learners served by the loop gain more ability and quit less than under random exercises or the curriculum: on every
    /// seed the paired (by learner) 95% bootstrap interval of the difference excludes 0, and over the three seeds the
    /// mean difference has a 95% Student-t interval that excludes 0 (the noise there being the spread from seed to seed).
    /// </summary>
    [Fact]
    public void RunAsync_Loop_GainsMoreAndQuitsLessThanRandomAndCurriculum()
    {
        foreach (var baseline in new[] { TutorPolicy.Random, TutorPolicy.Curriculum })
        {
            var gains = new List<double>();
            var quits = new List<double>();
            foreach (var result in runs.Results)
            {
                var c = result.Compare(TutorPolicy.Loop, baseline);
                output.WriteLine($"seed {result.Options.Seed}, loop - {baseline}: gain {c.Gain.Value:+0.000;-0.000} [{c.Gain.Lower:+0.000;-0.000}, {c.Gain.Upper:+0.000;-0.000}], "
                    + $"quit share {c.QuitShare.Value:+0.000;-0.000} [{c.QuitShare.Lower:+0.000;-0.000}, {c.QuitShare.Upper:+0.000;-0.000}]; "
                    + $"loop gain {result.Summary(TutorPolicy.Loop).Gain.Value:F3} quit {result.Summary(TutorPolicy.Loop).QuitShare.Value:F3}, {baseline} gain {result.Summary(baseline).Gain.Value:F3} quit {result.Summary(baseline).QuitShare.Value:F3}");
                Assert.True(c.Gain.AboveZero, $"seed {result.Options.Seed}: loop - {baseline} gain {c.Gain}");
                Assert.True(c.QuitShare.BelowZero, $"seed {result.Options.Seed}: loop - {baseline} quit share {c.QuitShare}");
                gains.Add(c.Gain.Value);
                quits.Add(c.QuitShare.Value);
            }
            var (gain, gainHalf) = MeanAndHalfWidth(gains);
            var (quit, quitHalf) = MeanAndHalfWidth(quits);
            output.WriteLine($"loop - {baseline} over {gains.Count} seeds: gain {gain:+0.000;-0.000} ± {gainHalf:F3}, quit share {quit:+0.000;-0.000} ± {quitHalf:F3} (95%, t)");
            Assert.True(gain - gainHalf > 0, $"loop - {baseline}: gain {gain:F4} ± {gainHalf:F4}");
            Assert.True(quit + quitHalf < 0, $"loop - {baseline}: quit share {quit:F4} ± {quitHalf:F4}");
        }
    }

    /// <summary>
    /// The reminder loop, under the ability loop's run, learns to remind each lapsed learner at their own practice time,
    /// which brings them back most often: over the last ten days, the probability its decisions gave that reminder
    /// averages at least 0.8 for morning and for evening learners alike (so it is the favoured action: the other two
    /// share the rest), and more than over the first ten days. What it serves at the very end is printed, not asserted:
    /// a few lucky returns without a reminder can tip a rarely chosen action's estimate in the last days (seed 2's
    /// morning learners, docs/tutor-simulation.md).
    /// </summary>
    [Fact]
    public void RunAsync_ReminderLoop_LearnsToRemindEachLearnerAtTheirOwnTime()
    {
        foreach (var result in runs.Results)
        {
            var arm = result[TutorPolicy.Loop];
            var blocks = new TutorResult { Options = result.Options with { BlockDays = 10 }, World = result.World, Arms = [arm] }.Blocks();
            var (early, late) = (blocks[0].Arms[0], blocks[^1].Arms[0]);
            output.WriteLine($"seed {result.Options.Seed}: P(reminder at the learner's own time) days 1-10 morning {early.MatchedPolicyOf(PracticeTime.Morning):F3} evening {early.MatchedPolicyOf(PracticeTime.Evening):F3}; "
                + $"days 21-30 morning {late.MatchedPolicyOf(PracticeTime.Morning):F3} evening {late.MatchedPolicyOf(PracticeTime.Evening):F3} ({late.Sent} decisions, {late.MatchedShare:F3} served at the own time); at the end "
                + string.Join("; ", arm.ReminderPolicy.Select(p => $"{p.Time} {string.Join(" / ", p.Probabilities.Select(x => x.ToString("F3", CultureInfo.InvariantCulture)))}")));
            foreach (var time in new[] { PracticeTime.Morning, PracticeTime.Evening })
            {
                Assert.True(late.MatchedPolicyOf(time) >= 0.8, $"seed {result.Options.Seed}, {time}: {late.MatchedPolicyOf(time):F3}");
            }
            Assert.True(late.MatchedPolicy > early.MatchedPolicy, $"seed {result.Options.Seed}: {early.MatchedPolicy:F3} then {late.MatchedPolicy:F3}");
            Assert.True(late.Sent >= 100);
            Assert.Equal(2, arm.ReminderPolicy.Count);
        }
    }

    private static (double Mean, double HalfWidth) MeanAndHalfWidth(IReadOnlyList<double> values)
    {
        var n = values.Count;
        var mean = values.Average();
        var sd = Math.Sqrt(values.Sum(d => (d - mean) * (d - mean)) / (n - 1));
        return (mean, T95[n - 2] * sd / Math.Sqrt(n));
    }
}

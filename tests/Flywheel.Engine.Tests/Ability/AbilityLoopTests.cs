using Flywheel.Core;
using Microsoft.Extensions.Time.Testing;

namespace Flywheel.Engine.Tests.Ability;

public sealed class AbilityLoopTests : IDisposable
{
    private const string Loop = "tutor";
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    internal static LoopConfig TutorLoop(AbilityConfig? ability = null) => new()
    {
        Id = Loop,
        Kind = LoopKind.Ability,
        Ability = ability,
        Signals = new Dictionary<string, SignalTypeConfig>
        {
            ["correct"] = new() { Kind = SignalKind.Explicit, Weight = 1, ClosesWindow = true },
            ["hint"] = new() { Kind = SignalKind.Implicit, Weight = 0 },
        },
        Reward = new RewardConfig { WindowSeconds = 600 },
        Exploration = new ExplorationConfig { Algorithm = ExplorationAlgorithm.EpsilonGreedy, Epsilon = 0.1 },
    };

    internal static DecideRequest Exercise(string id, string user = "ada", string? timeZone = null) => new()
    {
        DecisionId = id,
        UserId = user,
        TimeZone = timeZone,
        Actions =
        [
            new ActionCandidate("add-1", new Features { ["item"] = { ["level"] = 1, ["topic"] = "addition" } }),
            new ActionCandidate("mul-3", new Features { ["item"] = { ["level"] = 3, ["topic"] = "multiplication" } }),
            new ActionCandidate("div-5", new Features { ["item"] = { ["level"] = 5, ["topic"] = "division" } }),
        ],
    };

    private static SignalInput Answer(string decision, bool correct) => new() { DecisionId = decision, Type = "correct", Value = correct ? 1 : 0 };

    [Fact]
    public async Task PutLoop_AbilityKind_WritesTheDefaultsBackAndRefusesWhatCannotWork()
    {
        var time = new FakeTimeProvider(TestEngine.Start);
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time);

        var stored = await engine.PutLoopAsync(TutorLoop());
        var noAnswer = await Assert.ThrowsAsync<FlywheelValidationException>(() => engine.PutLoopAsync(TutorLoop() with
        {
            Signals = new Dictionary<string, SignalTypeConfig> { ["done"] = new() { Weight = 1, ClosesWindow = true } },
        }).AsTask());
        var weighted = await Assert.ThrowsAsync<FlywheelValidationException>(() => engine.PutLoopAsync(TutorLoop() with
        {
            Signals = new Dictionary<string, SignalTypeConfig>(TutorLoop().Signals) { ["hint"] = new() { Weight = -0.2 } },
        }).AsTask());
        var target = await Assert.ThrowsAsync<FlywheelValidationException>(() => engine.PutLoopAsync(TutorLoop(new AbilityConfig { TargetSuccess = 0.99 })).AsTask());
        var onChoose = await Assert.ThrowsAsync<FlywheelValidationException>(() => engine.PutLoopAsync(TestEngine.FeedLoop() with { Ability = new AbilityConfig() }).AsTask());
        var kindChange = await Assert.ThrowsAsync<FlywheelValidationException>(() => engine.PutLoopAsync(TestEngine.FeedLoop(Loop)).AsTask());

        Assert.Equal(0.7, stored.AbilitySettings.TargetSuccess);
        Assert.Equal("signals.correct", noAnswer.Field);
        Assert.Equal("signals.hint.weight", weighted.Field);
        Assert.Equal("ability.targetSuccess", target.Field);
        Assert.Equal("ability", onChoose.Field);
        Assert.Equal(ValidationKind.Conflict, kindChange.Kind);
    }

    [Fact]
    public async Task Decide_AbilityLoop_NeedsALearnerAndAKnownTimeZone()
    {
        var time = new FakeTimeProvider(TestEngine.Start);
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time);
        await engine.PutLoopAsync(TutorLoop());

        var anonymous = await Assert.ThrowsAsync<FlywheelValidationException>(() => engine.DecideAsync(Loop, Exercise("d1") with { UserId = null }).AsTask());
        var zone = await Assert.ThrowsAsync<FlywheelValidationException>(() => engine.DecideAsync(Loop, Exercise("d1", timeZone: "Mars/Olympus")).AsTask());
        var decision = await engine.DecideAsync(Loop, Exercise("d1", timeZone: "Asia/Tokyo"));

        Assert.Equal("userId", anonymous.Field);
        Assert.Equal("timeZone", zone.Field);
        // A new learner and new items: every exercise is predicted at 0.5, equally far from 0.7, so ε-greedy ties them all.
        Assert.All(decision.Ranking, r => Assert.Equal(1 / 3.0, r.Probability, 12));
        Assert.Equal("Asia/Tokyo", (await engine.GetDecisionAsync(Loop, "d1"))!.Decision.TimeZone);
    }

    [Fact]
    public async Task Answers_LearnAbilityAndDifficulty_AndTheReportsShowThem()
    {
        var time = new FakeTimeProvider(TestEngine.Start);
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time);
        await engine.PutLoopAsync(TutorLoop());
        var first = await engine.DecideAsync(Loop, Exercise("d1", timeZone: "Europe/Paris"));

        await engine.RecordSignalsAsync(Loop, [Answer("d1", correct: true)]);
        await engine.FlushAsync();
        var learner = await engine.GetLearnerAsync(Loop, "ada");
        var item = await engine.GetItemAsync(Loop, first.ChosenActionId);

        // The first answer of a new learner to a new item: P = 0.5, K = 0.8 (docs/ability.md).
        Assert.Equal(0.4, learner.Ability.Value, 9);
        Assert.True(learner.Ability.Lower < 0.4 && learner.Ability.Upper > 0.4);
        Assert.Equal(1, learner.Answers);
        Assert.Equal(1.0, learner.SuccessRate);
        Assert.Equal(1, learner.ItemsSeen);
        Assert.Equal("Europe/Paris", learner.Streak.TimeZone);
        Assert.Equal(-0.4, item.Difficulty.Value, 9);
        Assert.Equal(1, item.Answers);
        var health = (await engine.GetHealthAsync(Loop)).Learners!;
        Assert.Equal((1L, 1L, 1.0, 0.7), (health.Learners, health.Answers, health.SuccessRate, health.TargetSuccess));
        Assert.Equal(1, health.ActiveLast7Days);
        var unseen = await Assert.ThrowsAsync<FlywheelValidationException>(() => engine.GetLearnerAsync(Loop, "grace").AsTask());
        Assert.Equal(ValidationKind.NotFound, unseen.Kind);
        var onFeed = await Assert.ThrowsAsync<FlywheelValidationException>(async () =>
        {
            await engine.PutLoopAsync(TestEngine.FeedLoop());
            await engine.GetLearnerAsync("home-feed", "ada");
        });
        Assert.Equal(ValidationKind.NotSupported, onFeed.Kind);
    }

    [Fact]
    public async Task Answers_OtherThanRightOrWrongOrWithoutADecision_AreRefusedWhole()
    {
        var time = new FakeTimeProvider(TestEngine.Start);
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time);
        await engine.PutLoopAsync(TutorLoop());
        await engine.DecideAsync(Loop, Exercise("d1"));

        var half = await Assert.ThrowsAsync<FlywheelValidationException>(() => engine.RecordSignalsAsync(Loop, [Answer("d1", true), new SignalInput { DecisionId = "d1", Type = "correct", Value = 0.5 }]).AsTask());
        var seven = await Assert.ThrowsAsync<FlywheelValidationException>(() => engine.RecordSignalsAsync(Loop, [new SignalInput { DecisionId = "d1", Type = "correct", Value = 7 }]).AsTask());
        var userLevel = await Assert.ThrowsAsync<FlywheelValidationException>(() => engine.RecordSignalsAsync(Loop, [new SignalInput { UserId = "ada", Type = "correct", Value = 1 }]).AsTask());
        var hint = await engine.RecordSignalsAsync(Loop, [new SignalInput { DecisionId = "d1", Type = "hint", Value = 3 }]);
        var implied = await engine.RecordSignalsAsync(Loop, [new SignalInput { DecisionId = "d1", Type = "correct" }]);
        await engine.FlushAsync();

        Assert.Equal("signals[1].value", half.Field);
        Assert.Contains("1 (right) or 0 (wrong)", seven.Message, StringComparison.Ordinal);
        Assert.Equal("signals[0].decisionId", userLevel.Field);
        Assert.Equal((1, 1), (hint.Accepted, implied.Accepted));
        // Without a value an answer is right, as any signal's value defaults to 1.
        Assert.Equal(1.0, (await engine.GetLearnerAsync(Loop, "ada")).SuccessRate);
    }

    [Fact]
    public async Task Window_ClosedWithoutAnAnswer_TeachesNothing()
    {
        var time = new FakeTimeProvider(TestEngine.Start);
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time);
        await engine.PutLoopAsync(TutorLoop());
        await engine.DecideAsync(Loop, Exercise("d1"));
        await engine.DecideAsync(Loop, Exercise("d2"));

        await engine.RecordSignalsAsync(Loop, [Answer("d2", correct: false)]);
        time.Advance(TimeSpan.FromSeconds(601));
        await engine.FlushAsync();
        var learner = await engine.GetLearnerAsync(Loop, "ada");

        Assert.Equal(2, (await engine.GetCountsAsync(Loop)).Rewards);
        Assert.Equal(1, learner.Answers);
        Assert.Equal(-0.4, learner.Ability.Value, 9);
    }

    [Fact]
    public async Task Learner_SurvivesARestart_AndIsForgottenWhenErased()
    {
        var time = new FakeTimeProvider(TestEngine.Start);
        LearnerReport before;
        await using (var engine = await TestEngine.OpenAsync(_dir.Path, time))
        {
            await engine.PutLoopAsync(TutorLoop(new AbilityConfig { Reviews = true }));
            for (var i = 0; i < 20; i++)
            {
                await engine.DecideAsync(Loop, Exercise($"d{i}", timeZone: "America/New_York"));
                await engine.RecordSignalsAsync(Loop, [Answer($"d{i}", correct: i % 3 != 0)]);
                time.Advance(TimeSpan.FromHours(7));
            }
            await engine.FlushAsync();
            before = await engine.GetLearnerAsync(Loop, "ada");
        }

        await using var reopened = await TestEngine.OpenAsync(_dir.Path, time);
        var after = await reopened.GetLearnerAsync(Loop, "ada");
        // Exports carry the answered decisions like any loop's; a new setting keeps the learners.
        var exported = 0;
        await foreach (var row in reopened.ExportAsync(Loop, new ExportRequest()))
        {
            exported++;
        }
        await reopened.PutLoopAsync(TutorLoop(new AbilityConfig { Reviews = true, Guess = 0.25, TargetSuccess = 0.8 }));
        var retuned = await reopened.GetLearnerAsync(Loop, "ada");
        await reopened.EraseUserAsync("ada");
        var erased = await Assert.ThrowsAsync<FlywheelValidationException>(() => reopened.GetLearnerAsync(Loop, "ada").AsTask());

        Assert.Equal(before, after);
        Assert.Equal(20, after.Answers);
        Assert.Equal(20, exported);
        Assert.Equal(before.Ability, retuned.Ability);
        Assert.Equal(ValidationKind.NotFound, erased.Kind);
    }

    [Fact]
    public async Task TurnsShadowsAndEvaluation_AreRefusedForAbilityLoops_NamingWhy()
    {
        var time = new FakeTimeProvider(TestEngine.Start);
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time);
        await engine.PutLoopAsync(TutorLoop());
        await engine.DecideAsync(Loop, Exercise("d1"));
        await engine.RecordSignalsAsync(Loop, [Answer("d1", correct: true)]);
        await engine.FlushAsync();

        var turn = await Assert.ThrowsAsync<FlywheelValidationException>(() => engine.RunTurnAsync(Loop).AsTask());
        var rollback = await Assert.ThrowsAsync<FlywheelValidationException>(() => engine.RollbackAsync(Loop).AsTask());
        var evaluate = await Assert.ThrowsAsync<FlywheelValidationException>(() => engine.EvaluateAsync(Loop, new EvaluateRequest()).AsTask());

        Assert.All([turn, rollback, evaluate], e => Assert.Equal(ValidationKind.NotSupported, e.Kind));
        Assert.Contains("kind 'ability'", turn.Message, StringComparison.Ordinal);
        // Scheduled turns pass the loop by without an error and without a ledger entry.
        await engine.RunScheduledTurnsAsync();
        Assert.Empty(await engine.ListTurnsAsync(Loop));
    }

    [Theory]
    [InlineData(0, 0, false)]
    [InlineData(1, 3, true)]
    public async Task Streak_CountsLocalDaysOnTheEngineClock(int graceDays, int expectedAfterGap, bool atRisk)
    {
        // 14:30 UTC is 23:30 in Tokyo: three answers at that hour on three days are three Tokyo days.
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 24, 14, 30, 0, TimeSpan.Zero));
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time);
        await engine.PutLoopAsync(TutorLoop(new AbilityConfig { GraceDays = graceDays }));
        for (var day = 0; day < 3; day++)
        {
            await engine.DecideAsync(Loop, Exercise($"d{day}", timeZone: "Asia/Tokyo"));
            await engine.RecordSignalsAsync(Loop, [Answer($"d{day}", correct: true)]);
            time.Advance(TimeSpan.FromDays(1));
        }
        await engine.FlushAsync();

        // Now 14:30 UTC on the fourth day: the learner has not answered yet today (Tokyo), at risk but alive.
        var today = (await engine.GetLearnerAsync(Loop, "ada")).Streak;
        time.Advance(TimeSpan.FromDays(1)); // a whole Tokyo day without an answer
        var afterGap = (await engine.GetLearnerAsync(Loop, "ada")).Streak;

        Assert.Equal((3, 3, true, "Asia/Tokyo"), (today.Current, today.ActiveDays, today.AtRisk, today.TimeZone));
        Assert.Equal(new DateOnly(2026, 11, 26), today.LastActiveDay);
        Assert.Equal((expectedAfterGap, atRisk, 3), (afterGap.Current, afterGap.AtRisk, afterGap.Best));
        Assert.Equal(expectedAfterGap > 0 ? 1 : 0, (await engine.GetHealthAsync(Loop)).Learners!.Streaking);
    }
}

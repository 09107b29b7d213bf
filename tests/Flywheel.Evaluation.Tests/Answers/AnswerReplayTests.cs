using System.Text;
using Flywheel.Core;
using Flywheel.Evaluation.Answers;
using Xunit.Abstractions;

namespace Flywheel.Evaluation.Tests.Answers;

public sealed class AnswerReplayTests(ITestOutputHelper output)
{
    private void Print(string what, AnswerReplayResult r)
        => output.WriteLine(
            $"{what}: {r.Answers:N0} answers ({r.TrainAnswers:N0} train, {r.HeldOutAnswers:N0} held out), {r.Users:N0} users, {r.Items} items, {r.Order}; " +
            $"online vs Rasch Pearson {r.Pearson:F4}, Spearman {r.Spearman:F4}; held-out log loss online {r.OnlineLogLoss:F4}, Rasch {r.RaschLogLoss:F4}, " +
            $"item base rate {r.ItemBaseRateLogLoss:F4}, global {r.GlobalBaseRateLogLoss:F4}; progressive {r.ProgressiveLogLoss:F4}; {r.Seconds:F3} s");

    [Fact]
    public void Run_SimulatedAnswersWithoutTimes_OnlineTracksTheBatchFitAndBeatsTheBaseRates()
    {
        var world = RaschWorld.Simulate(people: 2000, items: 25, seed: 21, spread: 1.3, share: 0.6);
        var r = AnswerReplay.Run(AnswerData.FromAnswers(world.Untimed()));
        Print("simulated, shuffled", r);

        Assert.Equal(AnswerOrder.Shuffled, r.Order);
        Assert.Equal(world.Answers.Count, r.Answers);
        Assert.Equal(r.Answers, r.TrainAnswers + r.HeldOutAnswers);
        Assert.InRange(r.HeldOutAnswers / (double)r.Answers, 0.18, 0.22);
        Assert.Equal(25, r.Items);
        Assert.Equal(25, r.ItemsCompared);
        Assert.True(r.Pearson >= 0.95, $"Pearson {r.Pearson}");
        Assert.True(r.Spearman >= 0.9, $"Spearman {r.Spearman}");
        Assert.True(r.OnlineLogLoss < r.ItemBaseRateLogLoss, "online beats the per-item base rate");
        Assert.True(r.ItemBaseRateLogLoss < r.GlobalBaseRateLogLoss, "per-item beats global");
        Assert.True(r.RaschLogLoss < r.ItemBaseRateLogLoss, "the batch fit beats the per-item base rate");
        Assert.True(r.RaschConverged);
        Assert.InRange(r.ProgressiveLogLoss, 0.3, 0.75);
        // The online difficulties against the truth, too.
        var online = r.ItemResults.OrderBy(i => int.Parse(i.ItemId[1..], System.Globalization.CultureInfo.InvariantCulture)).Select(i => i.Online).ToArray();
        Assert.True(AnswerReplay.Pearson(online, world.Difficulties) >= 0.95);
    }

    [Fact]
    public void Run_AnswersWithTimes_ReplaysInTimeOrderWhateverTheFileOrder()
    {
        var world = RaschWorld.Simulate(people: 300, items: 10, seed: 4, share: 0.8);
        var inOrder = AnswerReplay.Run(AnswerData.FromAnswers(world.Answers));
        var reversed = AnswerReplay.Run(AnswerData.FromAnswers(Enumerable.Reverse(world.Answers)));
        Print("simulated, timed", inOrder);
        Assert.Equal(AnswerOrder.Time, inOrder.Order);
        Assert.Equal(inOrder.ProgressiveLogLoss, reversed.ProgressiveLogLoss);
        Assert.Equal(inOrder.OnlineLogLoss, reversed.OnlineLogLoss, 12); // the held-out answers are summed in file order
        Assert.Equal(inOrder.ItemResults.Select(i => i.Online).Order(), reversed.ItemResults.Select(i => i.Online).Order());
    }

    [Fact]
    public void Run_IsReproducible_AndTheSeedChangesTheSplitAndOrder()
    {
        var data = AnswerData.FromAnswers(RaschWorld.Simulate(people: 300, items: 10, seed: 9, share: 0.8).Untimed());
        var a = AnswerReplay.Run(data);
        var b = AnswerReplay.Run(data);
        var c = AnswerReplay.Run(data, new AnswerReplayOptions { Seed = 2 });
        Assert.Equal(a.HeldOutAnswers, b.HeldOutAnswers);
        Assert.Equal(a.OnlineLogLoss, b.OnlineLogLoss);
        Assert.Equal(a.Pearson, b.Pearson);
        Assert.Equal(a.ItemResults, b.ItemResults);
        Assert.NotEqual(a.ProgressiveLogLoss, c.ProgressiveLogLoss);
    }

    [Fact]
    public void Run_NothingHeldOut_LearnsFromEverything()
    {
        var data = AnswerData.FromAnswers(RaschWorld.Simulate(people: 100, items: 5, seed: 1).Untimed());
        var r = AnswerReplay.Run(data, new AnswerReplayOptions { Holdout = 0 });
        Assert.Equal(0, r.HeldOutAnswers);
        Assert.Equal(500, r.TrainAnswers);
        Assert.True(double.IsNaN(r.OnlineLogLoss));
        Assert.True(double.IsNaN(r.ItemBaseRateLogLoss));
        Assert.False(double.IsNaN(r.Pearson));
    }

    [Fact]
    public void Run_Guessing_PredictsNoLowerThanTheGuess()
    {
        var world = RaschWorld.Simulate(people: 1000, items: 12, seed: 8, share: 0.7, guess: 0.25);
        var data = AnswerData.FromAnswers(world.Untimed());
        var plain = AnswerReplay.Run(data);
        var guessing = AnswerReplay.Run(data, new AnswerReplayOptions { Guess = 0.25 });
        Print("simulated, guess 0.25, model without guessing", plain);
        Print("simulated, guess 0.25, model with guessing", guessing);
        Assert.True(guessing.OnlineLogLoss < guessing.ItemBaseRateLogLoss);
        Assert.True(guessing.Pearson >= 0.95, $"Pearson {guessing.Pearson}");
    }

    [Fact]
    public void Run_IrtWithItemFeatures_UsesThem()
    {
        // A long file whose extra column is the item's true difficulty: irt learns the feature's weight.
        var world = RaschWorld.Simulate(people: 800, items: 20, seed: 12, share: 0.5);
        var csv = new StringBuilder("user,item,correct,level\n");
        foreach (var a in world.Answers)
        {
            var level = world.Difficulties[int.Parse(a.ItemId[1..], System.Globalization.CultureInfo.InvariantCulture)];
            csv.Append(System.Globalization.CultureInfo.InvariantCulture, $"{a.UserId},{a.ItemId},{(a.Correct ? 1 : 0)},{level:R}\n");
        }
        var data = AnswerData.Read(new MemoryStream(Encoding.UTF8.GetBytes(csv.ToString())));
        Assert.Equal(20, data.ItemFeatures.Count);
        var elo = AnswerReplay.Run(data);
        var irt = AnswerReplay.Run(data, new AnswerReplayOptions { Model = AbilityModel.Irt });
        Print("simulated, elo", elo);
        Print("simulated, irt with the difficulty as a feature", irt);
        Assert.NotEqual(elo.ItemResults.Select(i => i.Online), irt.ItemResults.Select(i => i.Online));
        Assert.True(irt.Pearson >= 0.95, $"Pearson {irt.Pearson}");
        Assert.True(irt.OnlineLogLoss < irt.ItemBaseRateLogLoss);
    }

    [Fact]
    public void Run_BadOptionsOrNoAnswers_Throw()
    {
        var data = AnswerData.FromAnswers([new("u", "i", true)]);
        Assert.Throws<ArgumentException>(() => AnswerReplay.Run(data, new AnswerReplayOptions { Holdout = 1 }));
        Assert.Throws<ArgumentException>(() => AnswerReplay.Run(data, new AnswerReplayOptions { Holdout = -0.1 }));
        Assert.Throws<ArgumentException>(() => AnswerReplay.Run(data, new AnswerReplayOptions { Guess = 0.6 }));
        Assert.Throws<ArgumentException>(() => AnswerReplay.Run(AnswerData.FromAnswers([])));
    }

    [Fact]
    public void Correlations_ByHand()
    {
        Assert.Equal([3.5, 1, 3.5, 2], AnswerReplay.Ranks([3, 1, 3, 2]));
        Assert.Equal(1, AnswerReplay.Pearson([1, 2, 3], [2, 4, 6]), 12);
        Assert.Equal(-1, AnswerReplay.Pearson([1, 2, 3], [3, 2, 1]), 12);
        // x = (−1, 0, 1), y = (1, −1, 0): Σxy = −1, Σx² = Σy² = 2, r = −1/2.
        Assert.Equal(-0.5, AnswerReplay.Pearson([-1, 0, 1], [1, -1, 0]), 12);
        Assert.True(double.IsNaN(AnswerReplay.Pearson([1, 1], [1, 2])));
        Assert.True(double.IsNaN(AnswerReplay.Pearson([1], [1])));
    }
}

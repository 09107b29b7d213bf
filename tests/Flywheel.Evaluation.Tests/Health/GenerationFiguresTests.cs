using Flywheel.Core;
using Flywheel.Evaluation.Health;

namespace Flywheel.Evaluation.Tests.Health;

public class GenerationFiguresTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static GenerationRecord Generation(int i, int version, params (string Type, double Value)[] signals) => new()
    {
        DecisionId = $"d{i}",
        At = Start.AddMinutes(i),
        ModelVersion = version,
        ChosenActionId = "v",
        Output = new OutputRecord { Loop = "s", DecisionId = $"d{i}", Text = "", Messages = [], RecordedAt = Start.AddMinutes(i) },
        Signals = [.. signals.Select((s, k) => new SignalRecord
        {
            Loop = "s",
            SignalId = $"s{i}-{k}",
            DecisionId = $"d{i}",
            Type = s.Type,
            Value = s.Value,
            At = Start.AddMinutes(i),
            ReceivedAt = Start.AddMinutes(i),
        })],
    };

    [Fact]
    public void Compute_CountsKeptAsZeroRegeneratedAsOneAndEditsAsTheLastDistance()
    {
        var figures = new GenerationFigures();
        figures.Add(Generation(0, 1, ("kept", 1)));
        figures.Add(Generation(1, 1, ("edited", 0.2), ("edited", 0.4), ("kept", 1)));
        figures.Add(Generation(2, 1, ("regenerated", 1)));
        figures.Add(Generation(3, 1, ("copied", 1)));
        figures.Add(Generation(4, 1)); // an output nobody judged
        figures.Add(Generation(5, 1, ("edited", 0))); // an edit that changed nothing keeps nothing either: not judged

        var g = figures.Compute([]);

        Assert.Equal(6, g.Outputs);
        Assert.Equal(4, g.Judged);
        Assert.Equal((0 + 0.4 + 1 + 0) / 4, g.EditDistance.Value, 12);
        Assert.Equal(0.5, g.KeptUnedited.Value, 12);
        Assert.Equal(0.25, g.Regenerated.Value, 12);
    }

    [Fact]
    public void Compute_PerVersion_NamesTheTurnAndMeasuresTheChangeWithWelch()
    {
        var figures = new GenerationFigures();
        var rng = new Random(7);
        for (var i = 0; i < 400; i++)
        {
            var version = i < 200 ? 1 : 2;
            // Version 2 is better: fewer and smaller edits.
            var edit = rng.NextDouble() < (version == 1 ? 0.8 : 0.3);
            figures.Add(edit ? Generation(i, version, ("edited", 0.2 + 0.3 * rng.NextDouble())) : Generation(i, version, ("kept", 1)));
        }
        var turn = new TurnRecord
        {
            Loop = "s",
            Number = 3,
            Trigger = TurnTrigger.Manual,
            StartedAt = Start,
            FinishedAt = Start,
            ChampionVersion = 1,
            Verdict = TurnVerdict.Promoted,
            Reason = "test",
            DeployedVersion = 2,
        };

        var g = figures.Compute([turn]);

        Assert.Equal(2, g.Turns.Count);
        Assert.Null(g.Turns[0].Turn);
        Assert.Null(g.Turns[0].EditDistanceChange);
        Assert.Equal(3, g.Turns[1].Turn);
        Assert.Equal(200, g.Turns[1].Window.Decisions);
        var change = g.Turns[1].EditDistanceChange!.Value;
        Assert.True(change.Upper < 0, $"version 2 rewrites less: {change}");
        Assert.Equal(g.Turns[1].EditDistance.Value - g.Turns[0].EditDistance.Value, change.Value, 12);
        Assert.True(g.Turns[1].KeptUneditedChange!.Value.Lower > 0);
        // Eight stretches of 50, the first ones under version 1 and the last under version 2.
        Assert.Equal(GenerationFigures.MaxPeriods, g.Periods.Count);
        Assert.All(g.Periods, p => Assert.Equal(50, p.Window.Decisions));
        Assert.True(g.Periods[^1].EditDistance.Value < g.Periods[0].EditDistance.Value);
    }

    [Fact]
    public void Compute_FewJudged_GivesNoPeriodsAndOpenIntervals()
    {
        var figures = new GenerationFigures();
        figures.Add(Generation(0, 1, ("kept", 1)));

        var g = figures.Compute([]);

        Assert.Empty(g.Periods);
        Assert.Equal(1, g.Judged);
        Assert.False(g.EditDistance.IsBounded);
    }
}

using Flywheel.Core;
using Microsoft.Extensions.Time.Testing;

namespace Flywheel.Engine.Tests.Health;

/// <summary>The generation figures of the health report, fed by the engine from outputs and what users did with them.</summary>
public sealed class GenerationHealthTests : IDisposable
{
    private const string Loop = "summarize";

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static LoopConfig Summariser() => TestEngine.FeedLoop(Loop) with
    {
        Generation = new GenerationConfig(),
        Signals = new Dictionary<string, SignalTypeConfig>
        {
            ["kept"] = new() { Weight = 1, ClosesWindow = true },
            ["copied"] = new() { Weight = 0.5 },
            ["edited"] = new() { Kind = SignalKind.Explicit, Weight = -1, ClosesWindow = true },
            ["regenerated"] = new() { Weight = -1, ClosesWindow = true },
        },
    };

    [Fact]
    public async Task GetHealthAsync_GenerationLoop_ReportsEditDistanceAndKeptShareFromOutputsAndEdits()
    {
        var time = new FakeTimeProvider(TestEngine.Start);
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time);
        await engine.PutLoopAsync(Summariser());
        string[] ids = ["d1", "d2", "d3", "d4"];
        foreach (var id in ids)
        {
            await engine.DecideAsync(Loop, TestEngine.Request(id));
            await engine.RecordOutputAsync(Loop, id, new OutputInput
            {
                Text = "The cat sat on the mat.",
                Messages = [new PromptMessage("system", "Summarise briefly."), new PromptMessage("user", "A long story about a cat.")],
            });
        }
        await engine.RecordSignalsAsync(Loop,
        [
            new SignalInput { DecisionId = "d1", Type = "kept" },
            // "The cat sat on the mat." → "The dog sat on the mat.": 3 of 23 characters changed.
            new SignalInput { DecisionId = "d2", Type = "edited", Text = "The dog sat on the mat." },
            new SignalInput { DecisionId = "d3", Type = "regenerated" },
        ]);
        time.Advance(TimeSpan.FromMinutes(11));
        await engine.FlushAsync();

        var report = await engine.GetHealthAsync(Loop);
        var audit = await engine.GetDecisionAsync(Loop, "d2");

        var edit = Assert.Single(audit!.Signals);
        Assert.Equal(3.0 / 23, edit.Value, 12);
        Assert.Equal(-3.0 / 23, audit.Reward!.Reward, 12);
        Assert.Equal("The cat sat on the mat.", audit.Output!.Text);
        var g = report.Generation!;
        Assert.Equal((4L, 3L), (g.Outputs, g.Judged));
        Assert.Equal((0 + 3.0 / 23 + 1) / 3, g.EditDistance.Value, 12);
        Assert.Equal(1.0 / 3, g.KeptUnedited.Value, 12);
        Assert.Equal(1.0 / 3, g.Regenerated.Value, 12);
        var version = Assert.Single(g.Turns);
        Assert.Equal(3, version.Window.Decisions);
    }

    [Fact]
    public async Task GetHealthAsync_ChooseLoopWithoutGeneration_HasNoGenerationFigures()
    {
        var time = new FakeTimeProvider(TestEngine.Start);
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time);
        await engine.PutLoopAsync(TestEngine.FeedLoop(Loop));
        await engine.DecideAsync(Loop, TestEngine.Request("d1"));

        var report = await engine.GetHealthAsync(Loop);

        Assert.Null(report.Generation);
    }
}

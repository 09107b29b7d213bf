using System.Text;
using Flywheel.Core;

namespace Flywheel.Engine.Tests;

/// <summary>Training exports end to end on a small scripted log: what each format holds, and the filters.</summary>
public sealed class TrainingExportTests
{
    private static readonly DateTimeOffset T0 = TestEngine.Start;

    /// <summary>
    /// d1 terse kept (reward 1); d2 terse edited (reward −distance); d3 detailed regenerated (−1); d4 detailed replaces d3,
    /// kept (1); d5 terse, output, no verdict (0); d6 terse kept without an output. One minute apart.
    /// </summary>
    private static async Task<GenerationRig> ScriptAsync()
    {
        var rig = await GenerationRig.StartAsync();
        async Task Step(string id, string variant, Func<Task> then)
        {
            await rig.DecideAsync(id, variant);
            await then();
            rig.Time.Advance(TimeSpan.FromMinutes(1));
        }
        await Step("d1", "terse", async () => { await rig.OutputAsync("d1", "o1"); await rig.SignalAsync("d1", "kept"); });
        await Step("d2", "terse", async () => { await rig.OutputAsync("d2", "o2 draft"); await rig.SignalAsync("d2", "edited", text: "o2 fixed"); });
        await Step("d3", "detailed", async () => { await rig.OutputAsync("d3", "o3"); await rig.SignalAsync("d3", "regenerated"); });
        await Step("d4", "detailed", async () => { await rig.OutputAsync("d4", "o4", replaces: "d3"); await rig.SignalAsync("d4", "kept"); });
        await Step("d5", "terse", () => rig.OutputAsync("d5", "o5"));
        await Step("d6", "terse", () => rig.SignalAsync("d6", "kept"));
        await rig.CloseWindowsAsync();
        return rig;
    }

    [Fact]
    public async Task ExportTrainingAsync_Sft_KeptOutputsAndEditedTexts()
    {
        await using var rig = await ScriptAsync();

        var sft = await rig.ExportAsync(new TrainingExportRequest { Format = TrainingFormat.Sft });

        Assert.Equal([("d1", "o1"), ("d2", "o2 fixed"), ("d4", "o4")], sft.Select(e => (e.DecisionId, e.Completion!)));
        Assert.All(sft, e => Assert.Equal(GenerationRig.Prompt, e.Prompt));
        Assert.Equal([TrainingEvidence.Kept, TrainingEvidence.Edited, TrainingEvidence.Kept], sft.Select(e => e.Evidence));
    }

    [Fact]
    public async Task ExportTrainingAsync_Dpo_EditPairAndRegenerationPair()
    {
        await using var rig = await ScriptAsync();

        var dpo = await rig.ExportAsync(new TrainingExportRequest { Format = TrainingFormat.Dpo, Style = TrainingStyle.Trl });

        Assert.Equal([("d2", "o2 fixed", "o2 draft"), ("d4", "o4", "o3")], dpo.Select(e => (e.DecisionId, e.Chosen!, e.Rejected!)));
    }

    [Fact]
    public async Task ExportTrainingAsync_Kto_OneJudgementPerAnswer()
    {
        await using var rig = await ScriptAsync();

        var kto = await rig.ExportAsync(new TrainingExportRequest { Format = TrainingFormat.Kto });

        Assert.Equal(
            [("d1", "o1", true), ("d2", "o2 draft", false), ("d2", "o2 fixed", true), ("d3", "o3", false), ("d4", "o4", true)],
            kto.Select(e => (e.DecisionId, e.Completion!, e.Label!.Value)));
    }

    [Fact]
    public async Task ExportTrainingAsync_VariantFilter_OnlyThoseVariants()
    {
        await using var rig = await ScriptAsync();

        var kto = await rig.ExportAsync(new TrainingExportRequest { Format = TrainingFormat.Kto, Variants = ["detailed"] });
        Assert.Equal([("d3", false), ("d4", true)], kto.Select(e => (e.DecisionId, e.Label!.Value)));
        Assert.All(kto, e => Assert.Equal("detailed", e.Variant));

        var both = await rig.ExportAsync(new TrainingExportRequest { Format = TrainingFormat.Sft, Variants = ["detailed", "terse"] });
        Assert.Equal(3, both.Count);
        Assert.Empty(await rig.ExportAsync(new TrainingExportRequest { Format = TrainingFormat.Sft, Variants = ["none"] }));
    }

    [Fact]
    public async Task ExportTrainingAsync_RewardFilters_ByTheClosedReward()
    {
        await using var rig = await ScriptAsync();

        var good = await rig.ExportAsync(new TrainingExportRequest { Format = TrainingFormat.Sft, MinReward = 0.5 });
        Assert.Equal(["d1", "d4"], good.Select(e => e.DecisionId));

        // d2's reward is minus its edit distance, d3's −1; d5 has a reward of 0 and no verdict.
        var bad = await rig.ExportAsync(new TrainingExportRequest { Format = TrainingFormat.Kto, MaxReward = 0 });
        Assert.Equal(["d2", "d2", "d3"], bad.Select(e => e.DecisionId));

        var d2 = EditDistance.Normalized("o2 draft", "o2 fixed");
        var exact = await rig.ExportAsync(new TrainingExportRequest { Format = TrainingFormat.Sft, MinReward = -d2, MaxReward = -d2 });
        Assert.Equal(["d2"], exact.Select(e => e.DecisionId));
    }

    [Fact]
    public async Task ExportTrainingAsync_RewardFilterWhileWindowsAreOpen_LeavesOpenDecisionsOut()
    {
        await using var rig = await GenerationRig.StartAsync();
        await rig.DecideAsync("open");
        await rig.OutputAsync("open", "text");
        await rig.SignalAsync("open", "copied"); // does not close the window
        rig.Time.Advance(TimeSpan.FromSeconds(1)); // the range ends at now, exclusive

        Assert.Single(await rig.ExportAsync(new TrainingExportRequest { Format = TrainingFormat.Sft }));
        Assert.Empty(await rig.ExportAsync(new TrainingExportRequest { Format = TrainingFormat.Sft, MinReward = -1 }));
    }

    [Fact]
    public async Task ExportTrainingAsync_TimeRange_FromInclusiveToExclusive()
    {
        await using var rig = await ScriptAsync();

        var late = await rig.ExportAsync(new TrainingExportRequest { Format = TrainingFormat.Sft, From = T0.AddMinutes(2) });
        Assert.Equal(["d4"], late.Select(e => e.DecisionId));

        var early = await rig.ExportAsync(new TrainingExportRequest { Format = TrainingFormat.Sft, To = T0.AddMinutes(1) });
        Assert.Equal(["d1"], early.Select(e => e.DecisionId));

        var d2 = await rig.ExportAsync(new TrainingExportRequest { Format = TrainingFormat.Sft, From = T0.AddMinutes(1), To = T0.AddMinutes(2) });
        Assert.Equal(["d2"], d2.Select(e => e.DecisionId));
    }

    [Fact]
    public async Task ExportTrainingAsync_ToolMessages_LeftOutOfOpenAiKeptInTrl()
    {
        await using var rig = await GenerationRig.StartAsync();
        await rig.DecideAsync("d1");
        await rig.OutputAsync("d1", "12 degrees", prompt: [new("user", "Weather?"), new("assistant", "checking"), new("tool", "12C")]);
        await rig.SignalAsync("d1", "kept");
        rig.Time.Advance(TimeSpan.FromSeconds(1));

        Assert.Empty(await rig.ExportAsync(new TrainingExportRequest { Format = TrainingFormat.Sft, Style = TrainingStyle.OpenAi }));
        var trl = Assert.Single(await rig.ExportAsync(new TrainingExportRequest { Format = TrainingFormat.Sft, Style = TrainingStyle.Trl }));
        Assert.Equal("tool", trl.Prompt[^1].Role);
    }

    [Fact]
    public async Task ExportTrainingAsync_Refusals_NameTheField()
    {
        await using var rig = await GenerationRig.StartAsync();
        await rig.Engine.PutLoopAsync(TestEngine.FeedLoop("feed"));

        var notGeneration = await Assert.ThrowsAsync<FlywheelValidationException>(() => rig.ExportAsync(new TrainingExportRequest { Format = TrainingFormat.Sft }, loop: "feed"));
        Assert.Equal((ValidationKind.NotSupported, "format"), (notGeneration.Kind, notGeneration.Field));

        var ktoOpenAi = await Assert.ThrowsAsync<FlywheelValidationException>(() => rig.ExportAsync(new TrainingExportRequest { Format = TrainingFormat.Kto, Style = TrainingStyle.OpenAi }));
        Assert.Equal((ValidationKind.NotSupported, "style"), (ktoOpenAi.Kind, ktoOpenAi.Field));

        var backwards = await Assert.ThrowsAsync<FlywheelValidationException>(() => rig.ExportAsync(new TrainingExportRequest { Format = TrainingFormat.Sft, From = T0, To = T0.AddMinutes(-1) }));
        Assert.Equal("to", backwards.Field);
    }

    [Fact]
    public async Task EraseUserAsync_OutputsAndEditedTexts_LeaveTheExportsAndTheFile()
    {
        const string erased = "erase-me-4b1e";
        await using var rig = await GenerationRig.StartAsync();
        await rig.DecideAsync("gone", user: erased);
        await rig.OutputAsync("gone", "secret-output-7c2a");
        await rig.SignalAsync("gone", "edited", text: "secret-edit-91fd");
        await rig.DecideAsync("stays", user: "keep-u1");
        await rig.OutputAsync("stays", "public-output-55aa");
        await rig.SignalAsync("stays", "kept");
        await rig.CloseWindowsAsync();
        Assert.Equal(2, (await rig.ExportAsync(new TrainingExportRequest { Format = TrainingFormat.Sft })).Count);

        await rig.Engine.EraseUserAsync(erased);

        Assert.Null(await rig.Engine.GetDecisionAsync(GenerationRig.Loop, "gone"));
        Assert.Equal(["stays"], (await rig.ExportAsync(new TrainingExportRequest { Format = TrainingFormat.Kto })).Select(e => e.DecisionId));
        // The decision id is free again: a new output under it finds no decision.
        var refused = await Assert.ThrowsAsync<FlywheelValidationException>(() => rig.OutputAsync("gone", "again"));
        Assert.Equal(ValidationKind.NotFound, refused.Kind);

        await rig.Engine.DisposeAsync();
        foreach (var secret in new[] { "secret-output-7c2a", "secret-edit-91fd", erased })
        {
            var needle = Encoding.UTF8.GetBytes(secret);
            foreach (var file in Directory.EnumerateFiles(rig.Directory))
            {
                Assert.True(File.ReadAllBytes(file).AsSpan().IndexOf(needle) < 0, $"{Path.GetFileName(file)} still holds '{secret}'");
            }
        }
        Assert.True(File.ReadAllBytes(Path.Combine(rig.Directory, "flywheel.db")).AsSpan().IndexOf(Encoding.UTF8.GetBytes("public-output-55aa")) >= 0);
    }
}

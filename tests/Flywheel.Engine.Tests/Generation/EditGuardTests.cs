using Flywheel.Core;

namespace Flywheel.Engine.Tests;

/// <summary>What an edit may carry and cost: text only on edits, no text kept that erasure could not reach, a work budget per batch.</summary>
public sealed class EditGuardTests
{
    [Fact]
    public async Task RecordSignalsAsync_TextOnAnotherType_IsRefusedNamingTheText()
    {
        await using var rig = await GenerationRig.StartAsync();
        await rig.DecideAsync("d1");
        await rig.OutputAsync("d1", "text");

        var refused = await Assert.ThrowsAsync<FlywheelValidationException>(() => rig.SignalAsync("d1", "thumbs_up", text: "too long"));

        Assert.Equal("signals[0].text", refused.Field);
        Assert.Empty((await rig.Engine.GetDecisionAsync(GenerationRig.Loop, "d1"))!.Signals);
    }

    [Fact]
    public async Task RecordSignalsAsync_EditOfAnUnknownDecision_IsKeptWithoutItsText()
    {
        await using var rig = await GenerationRig.StartAsync();

        var result = await rig.Engine.RecordSignalsAsync(GenerationRig.Loop,
            [new SignalInput { SignalId = "s1", DecisionId = "never-made", Type = "edited", Value = 0.4, Text = "the user's secret rewrite" }]);
        // A retry of it is a duplicate, not a conflict, though its text was not kept.
        var retry = await rig.Engine.RecordSignalsAsync(GenerationRig.Loop,
            [new SignalInput { SignalId = "s1", DecisionId = "never-made", Type = "edited", Value = 0.4, Text = "the user's secret rewrite" }]);
        await rig.Engine.FlushAsync();

        Assert.Equal((1, 1), (result.Accepted, result.Orphaned));
        Assert.Equal(1, retry.Duplicates);
        await rig.Engine.DisposeAsync();
        foreach (var file in Directory.GetFiles(rig.Directory, "*", SearchOption.AllDirectories))
        {
            Assert.DoesNotContain("secret rewrite", File.ReadAllText(file), StringComparison.Ordinal);
        }
        rig.Engine = await TestEngine.OpenAsync(rig.Directory, rig.Time);
    }

    [Fact]
    public async Task RecordSignalsAsync_EditsOverTheWorkBudget_AreRefusedBeforeAnyIsMeasured()
    {
        // 1,000-character texts cost 16 × 1,000 word operations each: two fit in 40,000, three do not.
        await using var rig = await GenerationRig.StartAsync(configure: o => o.Limits.MaxEditWorkPerBatch = 40_000);
        var output = new string('a', 1_000);
        foreach (var id in new[] { "d1", "d2", "d3" })
        {
            await rig.DecideAsync(id);
            await rig.OutputAsync(id, output);
        }
        SignalInput Edit(string id) => new() { DecisionId = id, Type = "edited", Text = new string('b', 1_000) };

        var refused = await Assert.ThrowsAsync<FlywheelValidationException>(() => rig.Engine.RecordSignalsAsync(GenerationRig.Loop, [Edit("d1"), Edit("d2"), Edit("d3")]).AsTask());
        var accepted = await rig.Engine.RecordSignalsAsync(GenerationRig.Loop, [Edit("d1"), Edit("d2"), Edit("d3") with { Value = 1 }]);

        Assert.Equal((ValidationKind.TooLarge, "signals"), (refused.Kind, refused.Field));
        Assert.Contains("signals[2]", refused.Message, StringComparison.Ordinal);
        Assert.Equal(3, accepted.Accepted);
    }
}

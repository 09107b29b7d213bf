using Flywheel.Core;

namespace Flywheel.Engine.Tests;

/// <summary>Outputs stored with their decisions, and edits measured against them, in the engine over SQLite.</summary>
public sealed class OutputTests
{
    [Fact]
    public async Task RecordOutputAsync_NewOutput_StoredAndShownInTheAudit()
    {
        await using var rig = await GenerationRig.StartAsync();
        await rig.DecideAsync("d1");

        var result = await rig.OutputAsync("d1", "Rivers carry water to the sea.", prompt: [new("developer", "Be brief."), new("user", "Rivers?")]);

        Assert.Equal(new OutputResult("d1", Duplicate: false), result);
        var audit = await rig.Engine.GetDecisionAsync(GenerationRig.Loop, "d1");
        Assert.NotNull(audit!.Output);
        Assert.Equal("Rivers carry water to the sea.", audit.Output.Text);
        Assert.Equal([new PromptMessage("developer", "Be brief."), new PromptMessage("user", "Rivers?")], audit.Output.Messages);
        Assert.Null(audit.Output.Replaces);
        Assert.Equal(TestEngine.Start, audit.Output.RecordedAt);
    }

    [Fact]
    public async Task RecordOutputAsync_SameBodyAgain_IsADuplicate()
    {
        await using var rig = await GenerationRig.StartAsync();
        await rig.DecideAsync("d1");
        await rig.OutputAsync("d1", "text");

        Assert.Equal(new OutputResult("d1", Duplicate: true), await rig.OutputAsync("d1", "text"));
    }

    [Fact]
    public async Task RecordOutputAsync_DifferentBody_IsAConflict()
    {
        await using var rig = await GenerationRig.StartAsync();
        await rig.DecideAsync("d1");
        await rig.DecideAsync("d0");
        await rig.OutputAsync("d1", "text");

        var text = await Assert.ThrowsAsync<FlywheelValidationException>(() => rig.OutputAsync("d1", "other text"));
        Assert.Equal((ValidationKind.Conflict, "decisionId"), (text.Kind, text.Field));
        var replaces = await Assert.ThrowsAsync<FlywheelValidationException>(() => rig.OutputAsync("d1", "text", replaces: "d0"));
        Assert.Equal(ValidationKind.Conflict, replaces.Kind);
        Assert.Equal("text", (await rig.Engine.GetDecisionAsync(GenerationRig.Loop, "d1"))!.Output!.Text);
    }

    [Fact]
    public async Task RecordOutputAsync_UnknownDecision_IsNotFound()
    {
        await using var rig = await GenerationRig.StartAsync();

        var refused = await Assert.ThrowsAsync<FlywheelValidationException>(() => rig.OutputAsync("nope", "text"));
        Assert.Equal((ValidationKind.NotFound, "decisionId"), (refused.Kind, refused.Field));
    }

    [Fact]
    public async Task RecordOutputAsync_TextOverMaxChars_IsTooLarge()
    {
        await using var rig = await GenerationRig.StartAsync(GenerationRig.SummarizeLoop(maxChars: 10));
        await rig.DecideAsync("d1");

        Assert.Equal(new OutputResult("d1", false), await rig.OutputAsync("d1", new string('a', 10)));
        await rig.DecideAsync("d2");
        var refused = await Assert.ThrowsAsync<FlywheelValidationException>(() => rig.OutputAsync("d2", new string('a', 11)));
        Assert.Equal((ValidationKind.TooLarge, "text"), (refused.Kind, refused.Field));
        Assert.Null((await rig.Engine.GetDecisionAsync(GenerationRig.Loop, "d2"))!.Output);
    }

    [Fact]
    public async Task RecordOutputAsync_LoopWithoutGeneration_IsNotSupported()
    {
        await using var rig = await GenerationRig.StartAsync(TestEngine.FeedLoop("feed"));
        await rig.Engine.DecideAsync("feed", TestEngine.Request("d1"));

        var refused = await Assert.ThrowsAsync<FlywheelValidationException>(() => rig.OutputAsync("d1", "text", loop: "feed"));
        Assert.Equal((ValidationKind.NotSupported, "output"), (refused.Kind, refused.Field));
    }

    [Fact]
    public async Task RecordOutputAsync_StoreTextFalse_IsNotSupported()
    {
        await using var rig = await GenerationRig.StartAsync(GenerationRig.SummarizeLoop(storeText: false));
        await rig.DecideAsync("d1");

        var refused = await Assert.ThrowsAsync<FlywheelValidationException>(() => rig.OutputAsync("d1", "text"));
        Assert.Equal((ValidationKind.NotSupported, "text"), (refused.Kind, refused.Field));
    }

    [Fact]
    public async Task RecordSignalsAsync_EditWithoutValue_ValueIsTheDistanceAndTheRewardFollows()
    {
        await using var rig = await GenerationRig.StartAsync();
        await rig.DecideAsync("d1");
        await rig.OutputAsync("d1", "kitten");

        await rig.SignalAsync("d1", "edited", text: "sitting");
        await rig.CloseWindowsAsync();

        var audit = (await rig.Engine.GetDecisionAsync(GenerationRig.Loop, "d1"))!;
        var edit = Assert.Single(audit.Signals);
        Assert.Equal(3.0 / 7, edit.Value, 12);
        Assert.Equal("sitting", edit.Text);
        // Weight −1: the reward is minus the distance.
        Assert.Equal(-3.0 / 7, audit.Reward!.Reward, 12);
    }

    [Fact]
    public async Task RecordSignalsAsync_EditWithValue_KeepsIt()
    {
        await using var rig = await GenerationRig.StartAsync();
        await rig.DecideAsync("d1");
        await rig.OutputAsync("d1", "kitten");

        await rig.SignalAsync("d1", "edited", text: "sitting", value: 0.25);
        await rig.CloseWindowsAsync();

        var audit = (await rig.Engine.GetDecisionAsync(GenerationRig.Loop, "d1"))!;
        Assert.Equal(0.25, Assert.Single(audit.Signals).Value);
        Assert.Equal(-0.25, audit.Reward!.Reward, 12);
    }

    [Fact]
    public async Task RecordSignalsAsync_EditWithoutValueOrStoredOutput_RefusesNamingTheValue()
    {
        await using var rig = await GenerationRig.StartAsync();
        await rig.DecideAsync("d1");

        var refused = await Assert.ThrowsAsync<FlywheelValidationException>(() => rig.SignalAsync("d1", "edited", text: "sitting"));
        Assert.Equal("signals[0].value", refused.Field);
    }

    [Fact]
    public async Task RecordSignalsAsync_StoreTextFalse_EditWithValueKeptWithoutItsText()
    {
        await using var rig = await GenerationRig.StartAsync(GenerationRig.SummarizeLoop(storeText: false));
        await rig.DecideAsync("d1");

        await rig.SignalAsync("d1", "edited", text: "the user's private text", value: 0.5);

        var edit = Assert.Single((await rig.Engine.GetDecisionAsync(GenerationRig.Loop, "d1"))!.Signals);
        Assert.Equal(0.5, edit.Value);
        Assert.Null(edit.Text);
    }

    [Fact]
    public async Task RecordSignalsAsync_TextOnALoopWithoutGeneration_IsNotSupported()
    {
        await using var rig = await GenerationRig.StartAsync(TestEngine.FeedLoop("feed"));
        await rig.Engine.DecideAsync("feed", TestEngine.Request("d1"));

        var refused = await Assert.ThrowsAsync<FlywheelValidationException>(
            () => rig.Engine.RecordSignalsAsync("feed", [new SignalInput { DecisionId = "d1", Type = "thumbs_up", Text = "hello" }]).AsTask());
        Assert.Equal((ValidationKind.NotSupported, "signals[0].text"), (refused.Kind, refused.Field));
    }
}

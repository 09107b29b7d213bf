namespace Flywheel.Core.Tests;

/// <summary>The rules that turn a generation and what its user did with it into sft, dpo and kto examples.</summary>
public sealed class TrainingExamplesTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static readonly PromptMessage[] Prompt =
    [
        new("system", "Summarise in one sentence."),
        new("user", "A long article about rivers."),
    ];

    [Fact]
    public void Verdict_NoSignals_IsNull()
    {
        Assert.Null(TrainingExamples.Verdict(Generation("out")));
    }

    [Theory]
    [InlineData("kept")]
    [InlineData("copied")]
    public void Verdict_KeptOrCopied_IsKeptWithTheOutput(string type)
    {
        Assert.Equal((TrainingEvidence.Kept, "out"), TrainingExamples.Verdict(Generation("out", Signal(type))));
    }

    [Fact]
    public void Verdict_EditedThenKept_TheEditWins()
    {
        var verdict = TrainingExamples.Verdict(Generation("out", Signal("kept"), Edit("out, fixed")));
        Assert.Equal((TrainingEvidence.Edited, "out, fixed"), verdict);
    }

    [Fact]
    public void Verdict_SeveralEdits_TheLastTextIsTheFinal()
    {
        var verdict = TrainingExamples.Verdict(Generation("out", Edit("first try"), Edit("second try")));
        Assert.Equal((TrainingEvidence.Edited, "second try"), verdict);
    }

    [Fact]
    public void Verdict_LastEditWithoutText_IsAnEditWithNoFinalText()
    {
        // An earlier edit's text is not the user's last version: nothing is left to learn the answer from.
        var generation = Generation("out", Edit("first try"), Edit(null, value: 0.5));

        Assert.Equal((TrainingEvidence.Edited, (string?)null), TrainingExamples.Verdict(generation));
        Assert.Empty(TrainingExamples.From(generation, TrainingFormat.Sft));
    }

    [Fact]
    public void Verdict_EditThatChangedNothing_IsNotAnEdit()
    {
        // The engine sets an unchanged edit's value to distance 0: it says the user kept the text.
        Assert.Null(TrainingExamples.Verdict(Generation("out", Edit("out", value: 0))));
        Assert.Equal((TrainingEvidence.Kept, "out"), TrainingExamples.Verdict(Generation("out", Edit("out", value: 0), Signal("kept"))));
    }

    [Fact]
    public void Verdict_EditWithoutText_IsEditedWithNoFinalText()
    {
        Assert.Equal((TrainingEvidence.Edited, (string?)null), TrainingExamples.Verdict(Generation("out", Edit(null, value: 0.4))));
    }

    [Fact]
    public void Verdict_RegeneratedOnly_IsRegenerated()
    {
        Assert.Equal((TrainingEvidence.Regenerated, (string?)null), TrainingExamples.Verdict(Generation("out", Signal("regenerated"))));
    }

    [Fact]
    public void Verdict_OtherSignalTypes_SayNothing()
    {
        Assert.Null(TrainingExamples.Verdict(Generation("out", Signal("thumbs_up"))));
    }

    [Fact]
    public void From_Kept_SftWithTheOutputKtoTrueNoDpo()
    {
        var generation = Generation("the summary", Signal("kept"));

        var sft = Assert.Single(TrainingExamples.From(generation, TrainingFormat.Sft));
        Assert.Equal("the summary", sft.Completion);
        Assert.Equal(Prompt, sft.Prompt);
        Assert.Equal(TrainingEvidence.Kept, sft.Evidence);
        Assert.Equal("d1", sft.DecisionId);
        Assert.Equal("terse", sft.Variant);
        Assert.Null(sft.Label);
        Assert.Null(sft.Chosen);

        var kto = Assert.Single(TrainingExamples.From(generation, TrainingFormat.Kto));
        Assert.Equal(("the summary", true), (kto.Completion, kto.Label));

        Assert.Empty(TrainingExamples.From(generation, TrainingFormat.Dpo));
    }

    [Fact]
    public void From_Edited_SftWithTheFinalTextDpoFinalOverOutputKtoFalseThenTrue()
    {
        var generation = Generation("the sumary", Edit("the summary"));

        var sft = Assert.Single(TrainingExamples.From(generation, TrainingFormat.Sft));
        Assert.Equal(("the summary", TrainingEvidence.Edited), (sft.Completion, sft.Evidence));

        var dpo = Assert.Single(TrainingExamples.From(generation, TrainingFormat.Dpo));
        Assert.Equal(("the summary", "the sumary"), (dpo.Chosen, dpo.Rejected));
        Assert.Equal(TrainingEvidence.Edited, dpo.Evidence);

        var kto = TrainingExamples.From(generation, TrainingFormat.Kto).ToList();
        Assert.Equal(2, kto.Count);
        Assert.Equal(("the sumary", (bool?)false), (kto[0].Completion, kto[0].Label));
        Assert.Equal(("the summary", (bool?)true), (kto[1].Completion, kto[1].Label));
    }

    [Fact]
    public void From_EditedWithoutStoredText_OnlyKtoFalse()
    {
        var generation = Generation("out", Edit(null, value: 0.5));

        Assert.Empty(TrainingExamples.From(generation, TrainingFormat.Sft));
        Assert.Empty(TrainingExamples.From(generation, TrainingFormat.Dpo));
        var kto = Assert.Single(TrainingExamples.From(generation, TrainingFormat.Kto));
        Assert.Equal(("out", (bool?)false), (kto.Completion, kto.Label));
    }

    [Fact]
    public void From_Regenerated_OnlyKtoFalse()
    {
        var generation = Generation("bad summary", Signal("regenerated"));

        Assert.Empty(TrainingExamples.From(generation, TrainingFormat.Sft));
        Assert.Empty(TrainingExamples.From(generation, TrainingFormat.Dpo));
        var kto = Assert.Single(TrainingExamples.From(generation, TrainingFormat.Kto));
        Assert.Equal(("bad summary", (bool?)false, TrainingEvidence.Regenerated), (kto.Completion, kto.Label, kto.Evidence));
    }

    [Fact]
    public void From_KeptRegeneration_DpoPrefersItOverTheReplacedOutput()
    {
        var generation = Generation("good summary", replaces: "d0", Signal("kept"));
        var replaced = Output("d0", "bad summary");

        var dpo = Assert.Single(TrainingExamples.From(generation, TrainingFormat.Dpo, replaced));
        Assert.Equal(("good summary", "bad summary", TrainingEvidence.Regenerated), (dpo.Chosen, dpo.Rejected, dpo.Evidence));
        Assert.Equal("d1", dpo.DecisionId);
        Assert.Equal(Prompt, dpo.Prompt);
    }

    [Fact]
    public void From_EditedRegeneration_TwoPairsBothPreferringTheFinalText()
    {
        var generation = Generation("better", replaces: "d0", Edit("best"));
        var replaced = Output("d0", "bad");

        var dpo = TrainingExamples.From(generation, TrainingFormat.Dpo, replaced).ToList();
        Assert.Equal(2, dpo.Count);
        Assert.Equal(("best", "better", TrainingEvidence.Edited), (dpo[0].Chosen, dpo[0].Rejected, dpo[0].Evidence));
        Assert.Equal(("best", "bad", TrainingEvidence.Regenerated), (dpo[1].Chosen, dpo[1].Rejected, dpo[1].Evidence));
    }

    [Fact]
    public void From_RegenerationThatWasAlsoThrownAway_NoPair()
    {
        // Both outputs were thrown away: nothing says which is better.
        var generation = Generation("second", replaces: "d0", Signal("regenerated"));
        Assert.Empty(TrainingExamples.From(generation, TrainingFormat.Dpo, Output("d0", "first")));
    }

    [Fact]
    public void From_RegenerationWithTheSameText_NoPair()
    {
        var generation = Generation("same", replaces: "d0", Signal("kept"));
        Assert.Empty(TrainingExamples.From(generation, TrainingFormat.Dpo, Output("d0", "same")));
    }

    [Fact]
    public void From_NoVerdictOrNoOutput_Nothing()
    {
        foreach (var format in Enum.GetValues<TrainingFormat>())
        {
            Assert.Empty(TrainingExamples.From(Generation("out"), format));
            Assert.Empty(TrainingExamples.From(Generation("out", Signal("thumbs_up")), format));
            var noOutput = Generation("out", Signal("kept")) with { Output = null };
            Assert.Empty(TrainingExamples.From(noOutput, format));
        }
    }

    private static GenerationRecord Generation(string output, params SignalRecord[] signals) => Generation(output, null, signals);

    private static GenerationRecord Generation(string output, string? replaces, params SignalRecord[] signals) => new()
    {
        DecisionId = "d1",
        At = T0,
        ModelVersion = 1,
        ChosenActionId = "terse",
        Output = Output("d1", output) with { Replaces = replaces },
        Reward = null,
        Signals = signals,
    };

    private static OutputRecord Output(string decisionId, string text) => new()
    {
        Loop = "summarize",
        DecisionId = decisionId,
        Text = text,
        Messages = Prompt,
        RecordedAt = T0,
    };

    private static int _signals;

    private static SignalRecord Signal(string type, double value = 1, string? text = null) => new()
    {
        Loop = "summarize",
        SignalId = "s" + Interlocked.Increment(ref _signals),
        DecisionId = "d1",
        Type = type,
        Value = value,
        At = T0,
        ReceivedAt = T0,
        Text = text,
    };

    /// <summary>An edit; its value stands for the distance the engine sets, above 0 unless told.</summary>
    private static SignalRecord Edit(string? text, double value = 0.3) => Signal("edited", value, text);
}

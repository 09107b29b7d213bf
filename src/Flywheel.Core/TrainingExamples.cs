namespace Flywheel.Core;

/// <summary>
/// What a generation teaches the model itself (docs/generation.md, "Exports"): the rules that turn one decision's output
/// and what its user did with it into supervised, preference and unpaired examples.
/// </summary>
public static class TrainingExamples
{
    /// <summary>
    /// The user's verdict on a generation: the last edit's text when one changed the output; kept when it was kept or
    /// copied as it was; thrown away when it was regenerated and neither kept nor edited; null when nothing says.
    /// </summary>
    public static (TrainingEvidence Evidence, string? FinalText)? Verdict(GenerationRecord generation)
    {
        ArgumentNullException.ThrowIfNull(generation);
        string? final = null;
        bool kept = false, regenerated = false, edited = false;
        foreach (var s in generation.Signals)
        {
            switch (s.Type)
            {
                case GenerationConfig.KeptSignal or GenerationConfig.CopiedSignal:
                    kept = true;
                    break;
                case GenerationConfig.RegeneratedSignal:
                    regenerated = true;
                    break;
                case GenerationConfig.EditedSignal:
                    // The user's last version is the one they meant, judged by its distance (as the health report reads
                    // it, without text); an edit that came without text leaves no final text to learn from.
                    edited = s.Value > 0;
                    final = s.Text;
                    break;
            }
        }
        if (edited)
        {
            return (TrainingEvidence.Edited, final);
        }
        if (kept)
        {
            return (TrainingEvidence.Kept, generation.Output?.Text);
        }
        return regenerated ? (TrainingEvidence.Regenerated, null) : null;
    }

    /// <summary>
    /// The examples of <paramref name="generation"/> for <paramref name="format"/>. <paramref name="replaced"/> is the
    /// output this generation replaced (its <see cref="OutputRecord.Replaces"/>), when stored: the rejected side of a
    /// regeneration pair.
    /// </summary>
    public static IEnumerable<TrainingExample> From(GenerationRecord generation, TrainingFormat format, OutputRecord? replaced = null)
    {
        ArgumentNullException.ThrowIfNull(generation);
        if (generation.Output is not { } output || Verdict(generation) is not var (evidence, final))
        {
            yield break;
        }
        var prompt = output.Messages;
        TrainingExample Example(TrainingEvidence why) => new()
        {
            Prompt = prompt,
            DecisionId = generation.DecisionId,
            Variant = generation.ChosenActionId,
            Evidence = why,
        };
        // What the user ended up with: the output kept, or their own text; nothing when they threw it away (or an edit's
        // text was not stored).
        var wanted = evidence switch
        {
            TrainingEvidence.Kept => output.Text,
            TrainingEvidence.Edited => final,
            _ => null,
        };
        switch (format)
        {
            case TrainingFormat.Sft:
                if (wanted is not null)
                {
                    yield return Example(evidence) with { Completion = wanted };
                }
                break;
            case TrainingFormat.Dpo:
                if (evidence == TrainingEvidence.Edited && wanted is not null && wanted != output.Text)
                {
                    yield return Example(evidence) with { Chosen = wanted, Rejected = output.Text };
                }
                if (wanted is not null && replaced is not null && replaced.Text != wanted)
                {
                    yield return Example(TrainingEvidence.Regenerated) with { Chosen = wanted, Rejected = replaced.Text };
                }
                break;
            case TrainingFormat.Kto:
                if (evidence == TrainingEvidence.Kept)
                {
                    yield return Example(evidence) with { Completion = output.Text, Label = true };
                }
                else
                {
                    yield return Example(evidence) with { Completion = output.Text, Label = false };
                    if (wanted is not null && wanted != output.Text)
                    {
                        yield return Example(evidence) with { Completion = wanted, Label = true };
                    }
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown training format.");
        }
    }
}

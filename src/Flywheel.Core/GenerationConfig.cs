namespace Flywheel.Core;

/// <summary>
/// Marks a <c>choose</c> loop as a generation loop (docs/generation.md): its actions are the variants that produce a text
/// (prompt, model, settings), each decision's output can be stored with it, and what users do with the output (kept,
/// copied, edited, regenerated) becomes signals, training data for the model itself and the language figures of health.
/// </summary>
public sealed record GenerationConfig
{
    /// <summary>The signal type of an edit: its <c>text</c> is the user's final text, its value the normalised edit distance.</summary>
    public const string EditedSignal = "edited";

    /// <summary>The signal type of an output kept as it was.</summary>
    public const string KeptSignal = "kept";

    /// <summary>The signal type of an output copied out (kept, as far as the product can tell).</summary>
    public const string CopiedSignal = "copied";

    /// <summary>The signal type of an output thrown away for a new generation.</summary>
    public const string RegeneratedSignal = "regenerated";

    /// <summary>The upper bound of <see cref="MaxChars"/>.</summary>
    public const int MaxCharsLimit = 1 << 20;

    /// <summary>
    /// Whether outputs, prompts and edited texts are stored. With false the engine keeps none of them: an edit must then
    /// carry its distance as its value, and the fine-tuning exports are empty. <value>Default true.</value>
    /// </summary>
    public bool StoreText { get; init; } = true;

    /// <summary>The longest output or edited text stored, in characters (1–1,048,576). <value>Default 65,536.</value></summary>
    public int MaxChars { get; init; } = 65_536;

    /// <summary>The longest prompt stored with an output, all messages together, in characters (1–4,194,304). <value>Default 262,144.</value></summary>
    public int MaxPromptChars { get; init; } = 262_144;

    internal void Validate()
    {
        if (MaxChars is < 1 or > MaxCharsLimit)
        {
            throw new FlywheelValidationException("generation.maxChars", $"must be at least 1 and at most {MaxCharsLimit}; got {MaxChars}");
        }
        if (MaxPromptChars is < 1 or > 4 * MaxCharsLimit)
        {
            throw new FlywheelValidationException("generation.maxPromptChars", $"must be at least 1 and at most {4 * MaxCharsLimit}; got {MaxPromptChars}");
        }
    }
}

using System.Text.Json.Serialization;
using Flywheel.Core.Json;

namespace Flywheel.Core;

/// <summary>A generation loop's decision with what it produced and what users did with it (what exports and health read).</summary>
public sealed record GenerationRecord
{
    /// <summary>The decision.</summary>
    public required string DecisionId { get; init; }

    /// <summary>When it was made.</summary>
    public required DateTimeOffset At { get; init; }

    /// <summary>The model version that chose the variant.</summary>
    public required int ModelVersion { get; init; }

    /// <summary>The variant served (the chosen action).</summary>
    public required string ChosenActionId { get; init; }

    /// <summary>Its stored output; null when none was recorded, or when read without text.</summary>
    public OutputRecord? Output { get; init; }

    /// <summary>Its reward, once the window has closed.</summary>
    public double? Reward { get; init; }

    /// <summary>
    /// Its signals of the generation types (<c>kept</c>, <c>copied</c>, <c>edited</c>, <c>regenerated</c>) in arrival
    /// order, late ones included; an edit's text only when read with text.
    /// </summary>
    public required IReadOnlyList<SignalRecord> Signals { get; init; }
}

/// <summary>The fine-tuning datasets a generation loop exports (<c>GET …/export?format=sft|dpo|kto</c>).</summary>
[JsonConverter(typeof(WireEnumConverter<TrainingFormat>))]
public enum TrainingFormat
{
    /// <summary>Supervised fine-tuning: the prompt and what the user kept (or their corrected text) as the answer.</summary>
    Sft,

    /// <summary>Preference pairs: a prompt, the answer the user preferred and the one they did not.</summary>
    Dpo,

    /// <summary>Unpaired judgements: a prompt, an answer, and whether the user wanted it.</summary>
    Kto,
}

/// <summary>Whose JSON shape the training lines follow.</summary>
[JsonConverter(typeof(WireEnumConverter<TrainingStyle>))]
public enum TrainingStyle
{
    /// <summary>OpenAI's fine-tuning files (chat <c>messages</c>; preference <c>input</c>/<c>preferred_output</c>/<c>non_preferred_output</c>).</summary>
    [JsonStringEnumMemberName("openai")]
    OpenAi,

    /// <summary>Hugging Face TRL's conversational datasets (<c>prompt</c>/<c>chosen</c>/<c>rejected</c>, <c>prompt</c>/<c>completion</c>/<c>label</c>).</summary>
    Trl,
}

/// <summary>What a training export streams.</summary>
public sealed record TrainingExportRequest
{
    /// <summary>The dataset.</summary>
    public required TrainingFormat Format { get; init; }

    /// <summary>The JSON shape. <value>Default: openai for sft and dpo; kto exists only as trl.</value></summary>
    public TrainingStyle? Style { get; init; }

    /// <summary>Earliest decision time, inclusive (null: the start of the log).</summary>
    public DateTimeOffset? From { get; init; }

    /// <summary>Latest decision time, exclusive (null: now).</summary>
    public DateTimeOffset? To { get; init; }

    /// <summary>Only decisions whose reward is at least this (null: any, including decisions whose window is open).</summary>
    public double? MinReward { get; init; }

    /// <summary>Only decisions whose reward is at most this (null: any).</summary>
    public double? MaxReward { get; init; }

    /// <summary>Only decisions that served one of these variants (null or empty: all).</summary>
    public IReadOnlyList<string>? Variants { get; init; }
}

/// <summary>Why a training example says what it says.</summary>
[JsonConverter(typeof(WireEnumConverter<TrainingEvidence>))]
public enum TrainingEvidence
{
    /// <summary>The user kept (or copied) the output as it was.</summary>
    Kept,

    /// <summary>The user edited the output: their final text is the answer they wanted.</summary>
    Edited,

    /// <summary>The user threw the output away for a new generation.</summary>
    Regenerated,
}

/// <summary>One line of a training export, before it is written in a style's shape.</summary>
public sealed record TrainingExample
{
    /// <summary>The prompt as the model received it (no answer).</summary>
    public required IReadOnlyList<PromptMessage> Prompt { get; init; }

    /// <summary>sft and kto: the answer.</summary>
    public string? Completion { get; init; }

    /// <summary>kto: whether the user wanted <see cref="Completion"/>.</summary>
    public bool? Label { get; init; }

    /// <summary>dpo: the answer the user preferred.</summary>
    public string? Chosen { get; init; }

    /// <summary>dpo: the answer they did not.</summary>
    public string? Rejected { get; init; }

    /// <summary>The decision it comes from (never written to the line; for filtering and tests).</summary>
    public required string DecisionId { get; init; }

    /// <summary>The variant that produced it.</summary>
    public required string Variant { get; init; }

    /// <summary>What the user did that makes it an example.</summary>
    public required TrainingEvidence Evidence { get; init; }
}

using System.Text.Json.Serialization;
using Flywheel.Core.Json;

namespace Flywheel.Core;

/// <summary>One message of the prompt a generation was made from, as the model received it.</summary>
/// <param name="Role">Who wrote it: <c>system</c>, <c>developer</c>, <c>user</c>, <c>assistant</c> or <c>tool</c>.</param>
/// <param name="Content">Its text.</param>
public sealed record PromptMessage(string Role, string Content)
{
    /// <summary>The roles a prompt message may have.</summary>
    public static IReadOnlyList<string> Roles { get; } = ["system", "developer", "user", "assistant", "tool"];
}

/// <summary>
/// What a decision of a generation loop produced (<c>PUT /v1/loops/{loop}/decisions/{decisionId}/output</c>): the text
/// shown to the user and the prompt that produced it under the chosen variant.
/// </summary>
public sealed record OutputInput
{
    /// <summary>The generated text, as shown to the user.</summary>
    public required string Text { get; init; }

    /// <summary>The prompt as the model received it (the chosen variant applied), oldest first; may be empty.</summary>
    public IReadOnlyList<PromptMessage> Messages { get; init; } = [];

    /// <summary>
    /// The decision whose output this one replaced when the user asked for a new generation, or null. The pair is what
    /// the preference exports learn "a kept output beats the one it regenerated" from.
    /// </summary>
    public string? Replaces { get; init; }
}

/// <summary>The answer to recording an output.</summary>
/// <param name="DecisionId">The decision.</param>
/// <param name="Duplicate">True when the same output was already stored (a retry): nothing changed.</param>
public sealed record OutputResult(string DecisionId, bool Duplicate);

/// <summary>A decision's stored output.</summary>
public sealed record OutputRecord
{
    /// <summary>The loop.</summary>
    public required string Loop { get; init; }

    /// <summary>The decision that produced it.</summary>
    public required string DecisionId { get; init; }

    /// <summary>The generated text.</summary>
    public required string Text { get; init; }

    /// <summary>The prompt, oldest message first.</summary>
    public required IReadOnlyList<PromptMessage> Messages { get; init; }

    /// <summary>The decision whose output this one replaced, or null.</summary>
    public string? Replaces { get; init; }

    /// <summary>When the engine stored it.</summary>
    [JsonConverter(typeof(UtcTimeConverter))]
    public required DateTimeOffset RecordedAt { get; init; }
}

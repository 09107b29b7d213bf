using Flywheel.Core;
using Microsoft.Extensions.AI;

namespace Flywheel.AI;

/// <summary>
/// One way of answering a chat request: a prompt, a model and its settings. The variants of a
/// <see cref="FlywheelChatClient"/> are the actions of its loop; each call chooses one.
/// </summary>
public sealed class ChatVariant
{
    /// <summary>The variant's id: the action id in the loop (the id rules of <see cref="FlywheelLimits.IsValidId"/>).</summary>
    public required string Id { get; init; }

    /// <summary>
    /// A system message the model receives first (prepended to the request's messages, or replacing its system
    /// messages: <see cref="FlywheelChatOptions.SystemPromptMode"/>); null for none.
    /// </summary>
    public string? SystemPrompt { get; init; }

    /// <summary>
    /// An instruction template for the last user message: <c>{input}</c> stands for that message's text, as in
    /// <c>"Summarise in three bullets:\n\n{input}"</c>. Null leaves the message as it is. The rewritten message keeps
    /// only the text of the original.
    /// </summary>
    public string? UserTemplate { get; init; }

    /// <summary>The model to call (<see cref="ChatOptions.ModelId"/>); null keeps the request's.</summary>
    public string? ModelId { get; init; }

    /// <summary>The sampling temperature (<see cref="ChatOptions.Temperature"/>); null keeps the request's.</summary>
    public float? Temperature { get; init; }

    /// <summary>The output token limit (<see cref="ChatOptions.MaxOutputTokens"/>); null keeps the request's.</summary>
    public int? MaxOutputTokens { get; init; }

    /// <summary>
    /// Features of the variant besides those derived from its settings, such as <c>{ "variant": { "style": "bullets" } }</c>.
    /// Features in the <c>variant</c> namespace join the derived ones (<see cref="FlywheelChatClient.ActionFeatures"/>).
    /// </summary>
    public Features? Features { get; init; }

    /// <summary>Anything else to change in the request once the settings above are applied: the messages and a copy of the options.</summary>
    public Action<IList<ChatMessage>, ChatOptions>? Configure { get; init; }
}

/// <summary>How a variant's <see cref="ChatVariant.SystemPrompt"/> meets the system messages of the request.</summary>
public enum SystemPromptMode
{
    /// <summary>The variant's prompt comes first; the request's own system messages follow it.</summary>
    Prepend,

    /// <summary>The variant's prompt replaces the request's system messages.</summary>
    Replace,
}

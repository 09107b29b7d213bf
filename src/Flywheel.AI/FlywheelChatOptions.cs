using Flywheel.Client;
using Flywheel.Core;
using Microsoft.Extensions.AI;

namespace Flywheel.AI;

/// <summary>Settings of a <see cref="FlywheelChatClient"/> (<c>UseFlywheel(loop, o =&gt; …)</c>).</summary>
public sealed class FlywheelChatOptions
{
    /// <summary>The loop's actions, at least one, ids unique. The first is the fallback when no decision can be had.</summary>
    public IList<ChatVariant> Variants { get; } = [];

    /// <summary>
    /// The decision's context, from the request. Null uses <see cref="FlywheelChatClient.DefaultContext"/>: the
    /// <c>request</c> namespace with the length bucket of the user's text, the number of user turns and whether the
    /// request has its own system prompt.
    /// </summary>
    public Func<IEnumerable<ChatMessage>, ChatOptions?, Features>? Context { get; set; }

    /// <summary>The user the decision is for, from the request; null (or a delegate returning null) for none.</summary>
    public Func<IEnumerable<ChatMessage>, ChatOptions?, string?>? UserId { get; set; }

    /// <summary>
    /// Whether each call's output and prompt are recorded with its decision. Set false for a loop whose
    /// <c>generation.storeText</c> is false: outputs are then kept on your side, and edits reported through
    /// <see cref="FlywheelChatFeedback"/> carry the distance computed here. <value>Default true.</value>
    /// </summary>
    public bool StoreOutputs { get; set; } = true;

    /// <summary>Where a variant's system prompt goes. <value>Default <see cref="SystemPromptMode.Prepend"/>.</value></summary>
    public SystemPromptMode SystemPromptMode { get; set; } = SystemPromptMode.Prepend;

    /// <summary>
    /// How long a call waits for its decision before it falls back to the first variant (the engine or server too slow
    /// or unreachable). <value>Default 2 seconds.</value>
    /// </summary>
    public TimeSpan DecideTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The in-process engine to use; null looks for one in the services, then for a <see cref="Client"/>.</summary>
    public IFlywheelEngine? Engine { get; set; }

    /// <summary>The client of a remote server to use when there is no <see cref="Engine"/>; null looks for one in the services.</summary>
    public FlywheelClient? Client { get; set; }

    /// <summary>
    /// With a <see cref="Client"/>: the batcher that carries outputs and feedback. Null uses the one registered for the
    /// loop (<c>AddSignalBatcher(loop)</c>), else a new one that the chat client owns and disposes.
    /// </summary>
    public FlywheelSignalBatcher? Batcher { get; set; }

    /// <summary>The clock of the decide timeout and of the signals' times. <value>Default <see cref="TimeProvider.System"/>.</value></summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}

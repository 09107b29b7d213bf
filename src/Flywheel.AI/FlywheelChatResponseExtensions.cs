using Microsoft.Extensions.AI;

namespace Flywheel.AI;

/// <summary>
/// Reads the decision a <see cref="FlywheelChatClient"/> attached to a response or streaming update, and marks a
/// request as the regeneration of an earlier response.
/// </summary>
public static class FlywheelChatResponseExtensions
{
    /// <summary>The additional property holding the decision id (absent when the call fell back without a decision).</summary>
    public const string DecisionIdKey = "flywheel.decisionId";

    /// <summary>The additional property holding the loop's id.</summary>
    public const string LoopKey = "flywheel.loop";

    /// <summary>The additional property holding the chosen variant's id.</summary>
    public const string VariantKey = "flywheel.variant";

    /// <summary>The additional property of <see cref="ChatOptions"/> naming the decision a request regenerates.</summary>
    public const string RegenerationOfKey = "flywheel.regenerationOf";

    /// <summary>The decision that produced the response, or null.</summary>
    /// <param name="response">The response.</param>
    /// <returns>The decision id, or null.</returns>
    public static string? GetFlywheelDecisionId(this ChatResponse response)
        => Get(Checked(response).AdditionalProperties, DecisionIdKey);

    /// <summary>The decision that produced the update's response, or null.</summary>
    /// <param name="update">A streaming update.</param>
    /// <returns>The decision id, or null.</returns>
    public static string? GetFlywheelDecisionId(this ChatResponseUpdate update)
        => Get(Checked(update).AdditionalProperties, DecisionIdKey);

    /// <summary>The variant that produced the response, or null when no Flywheel client was involved.</summary>
    /// <param name="response">The response.</param>
    /// <returns>The variant id, or null.</returns>
    public static string? GetFlywheelVariant(this ChatResponse response)
        => Get(Checked(response).AdditionalProperties, VariantKey);

    /// <summary>The variant that produced the update's response, or null.</summary>
    /// <param name="update">A streaming update.</param>
    /// <returns>The variant id, or null.</returns>
    public static string? GetFlywheelVariant(this ChatResponseUpdate update)
        => Get(Checked(update).AdditionalProperties, VariantKey);

    /// <summary>The loop of the response's decision, or null.</summary>
    /// <param name="response">The response.</param>
    /// <returns>The loop id, or null.</returns>
    public static string? GetFlywheelLoop(this ChatResponse response)
        => Get(Checked(response).AdditionalProperties, LoopKey);

    /// <summary>The loop of the update's decision, or null.</summary>
    /// <param name="update">A streaming update.</param>
    /// <returns>The loop id, or null.</returns>
    public static string? GetFlywheelLoop(this ChatResponseUpdate update)
        => Get(Checked(update).AdditionalProperties, LoopKey);

    /// <summary>
    /// Marks the request as a new generation replacing <paramref name="previous"/>, which the user threw away: the
    /// chat client reports <c>regenerated</c> on the old decision and records the new output as replacing it. A
    /// response without a decision leaves the options unmarked.
    /// </summary>
    /// <param name="options">The request's options (changed and returned).</param>
    /// <param name="previous">The response thrown away.</param>
    /// <returns><paramref name="options"/>.</returns>
    public static ChatOptions RegenerationOf(this ChatOptions options, ChatResponse previous)
    {
        ArgumentNullException.ThrowIfNull(previous);
        return previous.GetFlywheelDecisionId() is { } id ? options.RegenerationOf(id) : Checked(options);
    }

    /// <summary>Marks the request as a new generation replacing the output of <paramref name="decisionId"/>.</summary>
    /// <param name="options">The request's options (changed and returned).</param>
    /// <param name="decisionId">The decision whose output the user threw away.</param>
    /// <returns><paramref name="options"/>.</returns>
    public static ChatOptions RegenerationOf(this ChatOptions options, string decisionId)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(decisionId);
        (options.AdditionalProperties ??= [])[RegenerationOfKey] = decisionId;
        return options;
    }

    /// <summary>The decision a request regenerates (<see cref="RegenerationOf(ChatOptions, string)"/>), or null.</summary>
    /// <param name="options">The request's options.</param>
    /// <returns>The decision id, or null.</returns>
    public static string? GetRegenerationOf(this ChatOptions? options) => Get(options?.AdditionalProperties, RegenerationOfKey);

    private static string? Get(AdditionalPropertiesDictionary? properties, string key)
        => properties is not null && properties.TryGetValue(key, out var value) ? value as string : null;

    private static T Checked<T>(T value) where T : class
    {
        ArgumentNullException.ThrowIfNull(value);
        return value;
    }
}

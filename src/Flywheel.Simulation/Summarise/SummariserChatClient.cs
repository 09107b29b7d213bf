using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace Flywheel.Simulation.Summarise;

/// <summary>
/// A deterministic stand-in for a language model behind <see cref="IChatClient"/>: no model, no network. It reads the
/// style from the system messages (<c>Length:</c>, <c>Tone:</c> and <c>Format:</c> lines, as
/// <see cref="SummaryStyle.SystemPrompt"/> writes them; medium, formal and prose when absent) and the document from the
/// last user message, and answers with <see cref="SummaryRenderer.Render"/>. The same messages give the same answer;
/// <see cref="ChatOptions"/> (temperature and the like) change nothing.
/// </summary>
public sealed class SummariserChatClient : IChatClient
{
    /// <summary>The model id the client reports.</summary>
    public const string ModelId = "flywheel-simulated-summariser";

    private static readonly ChatClientMetadata Metadata = new("flywheel-simulation", null, ModelId);

    /// <summary>The style the system messages of <paramref name="messages"/> ask for.</summary>
    public static SummaryStyle StyleOf(IEnumerable<ChatMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var (length, tone, format) = (SummaryLength.Medium, SummaryTone.Formal, SummaryFormat.Prose);
        foreach (var message in messages.Where(m => m.Role == ChatRole.System))
        {
            foreach (var raw in message.Text.Split('\n'))
            {
                var line = raw.Trim();
                if (Setting(line, "Length:") is { } l)
                {
                    length = l.StartsWith("short", StringComparison.OrdinalIgnoreCase) ? SummaryLength.Short
                        : l.StartsWith("long", StringComparison.OrdinalIgnoreCase) ? SummaryLength.Long
                        : SummaryLength.Medium;
                }
                else if (Setting(line, "Tone:") is { } t)
                {
                    tone = t.StartsWith("casual", StringComparison.OrdinalIgnoreCase) ? SummaryTone.Casual : SummaryTone.Formal;
                }
                else if (Setting(line, "Format:") is { } f)
                {
                    format = f.StartsWith("bullet", StringComparison.OrdinalIgnoreCase) ? SummaryFormat.Bullets : SummaryFormat.Prose;
                }
            }
        }
        return new SummaryStyle(length, tone, format);
    }

    /// <inheritdoc />
    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var text = Answer(messages);
        return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, text)) { ModelId = ModelId, FinishReason = ChatFinishReason.Stop });
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var response = await GetResponseAsync(messages, options, cancellationToken).ConfigureAwait(false);
        foreach (var update in response.ToChatResponseUpdates())
        {
            yield return update;
        }
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(ChatClientMetadata) ? Metadata
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    /// <inheritdoc />
    public void Dispose()
    {
    }

    private static string Answer(IEnumerable<ChatMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var list = messages as IList<ChatMessage> ?? [.. messages];
        var document = list.LastOrDefault(m => m.Role == ChatRole.User)?.Text
            ?? throw new ArgumentException("the prompt has no user message holding the document to summarise", nameof(messages));
        return SummaryRenderer.Render(document, StyleOf(list));
    }

    private static string? Setting(string line, string name)
        => line.StartsWith(name, StringComparison.OrdinalIgnoreCase) ? line[name.Length..].Trim() : null;
}

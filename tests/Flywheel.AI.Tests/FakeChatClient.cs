using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace Flywheel.AI.Tests;

/// <summary>
/// A deterministic model: its answer names the model, temperature and system prompt it received, then the first words
/// of the last user message, so a test can tell which variant reached it. Streams the answer word by word.
/// </summary>
internal sealed class FakeChatClient : IChatClient
{
    private readonly Lock _gate = new();
    private readonly List<(List<ChatMessage> Messages, ChatOptions? Options)> _calls = [];

    public IReadOnlyList<(List<ChatMessage> Messages, ChatOptions? Options)> Calls
    {
        get
        {
            lock (_gate)
            {
                return [.. _calls];
            }
        }
    }

    public static string Answer(IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        var list = messages.ToList();
        var system = string.Join(" / ", list.Where(m => m.Role == ChatRole.System).Select(m => m.Text));
        var user = list.LastOrDefault(m => m.Role == ChatRole.User)?.Text ?? "";
        var words = string.Join(' ', user.Split(' ', StringSplitOptions.RemoveEmptyEntries).Take(6));
        return $"[{options?.ModelId ?? "default"} t={options?.Temperature?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"}] ({system}) {words}";
    }

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var list = Seen(messages, options);
        return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, Answer(list, options))) { ModelId = options?.ModelId });
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var list = Seen(messages, options);
        var words = Answer(list, options).Split(' ');
        for (var i = 0; i < words.Length; i++)
        {
            await Task.Yield();
            yield return new ChatResponseUpdate(ChatRole.Assistant, i == 0 ? words[i] : " " + words[i]) { ModelId = options?.ModelId };
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }

    private List<ChatMessage> Seen(IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        var list = messages.ToList();
        lock (_gate)
        {
            _calls.Add((list, options));
        }
        return list;
    }
}

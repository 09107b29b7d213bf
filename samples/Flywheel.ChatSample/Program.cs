using System.ClientModel;
using System.Runtime.CompilerServices;
using Flywheel.AI;
using Flywheel.Client;
using Flywheel.Core;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;

var server = new Uri(args.Length > 0 ? args[0] : "http://127.0.0.1:5005");
var services = new ServiceCollection();
services.AddFlywheelClient(o => o.BaseAddress = server).AddSignalBatcher("summarize");
await using var provider = services.BuildServiceProvider();
var flywheel = provider.GetRequiredService<FlywheelClient>();

// 1. The generation loop: its actions are the variants below, its reward what people do with the summaries.
await flywheel.PutLoopAsync(LoopConfigJson.Parse("""
    { "id": "summarize", "kind": "choose",
      "generation": { "storeText": true },
      "signals": { "kept": {"kind":"implicit","weight":1,"closesWindow":true}, "copied": {"kind":"implicit","weight":0.5},
                   "edited": {"kind":"explicit","weight":-1,"closesWindow":true}, "regenerated": {"kind":"implicit","weight":-1,"closesWindow":true},
                   "thumbs_up": {"kind":"explicit","weight":1}, "thumbs_down": {"kind":"explicit","weight":-1} },
      "reward": { "windowSeconds": 3600, "aggregate": "sum", "min": -1, "max": 1 } }
    """));

// 2. The model: an OpenAI-compatible endpoint when configured, else a fake that needs no network.
var endpoint = Environment.GetEnvironmentVariable("FLYWHEEL_CHAT_ENDPOINT");
var model = Environment.GetEnvironmentVariable("FLYWHEEL_CHAT_MODEL") ?? "gpt-4o-mini";
IChatClient inner = string.IsNullOrEmpty(endpoint)
    ? new FakeSummarizer()
    : new OpenAI.Chat.ChatClient(model, new ApiKeyCredential(Environment.GetEnvironmentVariable("FLYWHEEL_CHAT_API_KEY") ?? "none"),
        new OpenAIClientOptions { Endpoint = new Uri(endpoint) }).AsIChatClient();
Console.WriteLine(string.IsNullOrEmpty(endpoint) ? "model: built-in fake" : $"model: {model} at {endpoint}");

// 3. The middleware: every call becomes a decision among the variants.
using var chat = new ChatClientBuilder(inner)
    .UseFlywheel("summarize", o =>
    {
        o.Variants.Add(new ChatVariant { Id = "one-line", SystemPrompt = "Summarise the text in one sentence.", Temperature = 0.2f });
        o.Variants.Add(new ChatVariant { Id = "bullets", SystemPrompt = "Summarise the text as three short bullets.", Temperature = 0.5f });
        o.Context = (messages, _) => new Features { ["doc"] = { ["words"] = messages.Sum(m => m.Text.Split(' ').Length) / 50 * 50 } };
    })
    .Build(provider);
var feedback = chat.GetService<FlywheelChatFeedback>()!;

string[] articles =
[
    "The council met on Tuesday to discuss the new tram line. Costs rose by a fifth since spring. A vote is due in March.",
    "Researchers measured sea ice for ten winters. The ice thinned each year. They call for more buoys in the north.",
    "The bakery on Mill Street reopens on Monday. It kept its old oven. Queues are expected before seven.",
];

// 4. Three requests, and what the user did with each answer.
var first = await chat.GetResponseAsync([new ChatMessage(ChatRole.User, articles[0])]);
Print("kept", first);
await feedback.KeptAsync(first);

var second = await chat.GetResponseAsync([new ChatMessage(ChatRole.User, articles[1])]);
Print("edited", second);
await feedback.EditedAsync(second, "Sea ice thinned for ten winters in a row.");

var third = await chat.GetResponseAsync([new ChatMessage(ChatRole.User, articles[2])]);
Print("regenerated", third);
var again = await chat.GetResponseAsync([new ChatMessage(ChatRole.User, articles[2])], new ChatOptions().RegenerationOf(third));
Print("kept", again);
await feedback.KeptAsync(again);

// 5. Streaming: the decision id is on every update.
var streamed = new List<ChatResponseUpdate>();
await foreach (var update in chat.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, articles[0])]))
{
    streamed.Add(update);
}
var stream = streamed.ToChatResponse();
Print("copied", stream);
await feedback.CopiedAsync(stream);

// 6. Everything is queued; wait for the server to store it, then read it back.
await feedback.FlushAsync();
var outputs = 0;
var signals = 0;
foreach (var response in new[] { first, second, third, again, stream })
{
    if (response.GetFlywheelDecisionId() is not { } id || await flywheel.GetDecisionAsync("summarize", id) is not { } audit)
    {
        continue;
    }
    outputs += audit.Output is null ? 0 : 1;
    signals += audit.Signals.Count;
    var edit = audit.Signals.FirstOrDefault(s => s.Type == GenerationConfig.EditedSignal);
    Console.WriteLine($"  {id}: {string.Join(", ", audit.Signals.Select(s => s.Type))}"
        + (audit.Output?.Replaces is { } replaced ? $"; replaces {replaced}" : "")
        + (edit is null ? "" : $"; edit distance {edit.Value:0.00}"));
}
Console.WriteLine($"{outputs} outputs stored, {signals} signals stored");

static void Print(string what, ChatResponse response)
    => Console.WriteLine($"decision {response.GetFlywheelDecisionId() ?? "(none)"} variant {response.GetFlywheelVariant()} -> {what}: {response.Text.ReplaceLineEndings(" ")}");

/// <summary>A stand-in model: the first sentence, or each sentence as a bullet when asked for bullets.</summary>
internal sealed class FakeSummarizer : IChatClient
{
    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        => Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, Summarize(messages))));

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var word in Summarize(messages).Split(' '))
        {
            await Task.Yield();
            yield return new ChatResponseUpdate(ChatRole.Assistant, word + " ");
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }

    private static string Summarize(IEnumerable<ChatMessage> messages)
    {
        var list = messages.ToList();
        var sentences = list.Last(m => m.Role == ChatRole.User).Text.Split(". ", StringSplitOptions.RemoveEmptyEntries);
        var bullets = list.Any(m => m.Role == ChatRole.System && m.Text.Contains("bullets", StringComparison.Ordinal));
        return bullets ? string.Join('\n', sentences.Take(3).Select(s => "- " + s.TrimEnd('.'))) : sentences[0].TrimEnd('.') + ".";
    }
}

using Flywheel.Core;
using Microsoft.Extensions.AI;

namespace Flywheel.AI.Tests;

internal static class Loops
{
    public const string Summarize = "summarize";

    public const string Json = """
        { "id": "summarize", "kind": "choose",
          "generation": { "storeText": true, "maxChars": 65536, "maxPromptChars": 262144 },
          "signals": { "kept": {"kind":"implicit","weight":1,"closesWindow":true}, "copied": {"kind":"implicit","weight":0.5},
                       "edited": {"kind":"explicit","weight":-1,"closesWindow":true}, "regenerated": {"kind":"implicit","weight":-1,"closesWindow":true},
                       "thumbs_up": {"kind":"explicit","weight":1}, "thumbs_down": {"kind":"explicit","weight":-1} },
          "reward": { "windowSeconds": 3600, "aggregate": "sum", "min": -1, "max": 1 } }
        """;

    public static LoopConfig Config(bool storeText = true)
        => LoopConfigJson.Parse(storeText ? Json : Json.Replace("\"storeText\": true", "\"storeText\": false", StringComparison.Ordinal));

    public static readonly ChatVariant Short = new()
    {
        Id = "short",
        SystemPrompt = "Summarise in one sentence.",
        ModelId = "model-a",
        Temperature = 0.2f,
    };

    public static readonly ChatVariant Bullets = new()
    {
        Id = "bullets",
        SystemPrompt = "Summarise as three bullets.",
        ModelId = "model-b",
        Temperature = 0.7f,
        MaxOutputTokens = 200,
        Features = new Features { ["variant"] = { ["style"] = "bullets" } },
    };

    public static void Configure(FlywheelChatOptions options)
    {
        options.Variants.Add(Short);
        options.Variants.Add(Bullets);
    }

    public static List<ChatMessage> Request(int i) =>
    [
        new(ChatRole.User, $"Article {i}: the council met on Tuesday to discuss the new tram line and its cost over ten years."),
    ];

    public static ChatVariant Variant(string id) => id == Short.Id ? Short : id == Bullets.Id ? Bullets : throw new ArgumentException(id);
}

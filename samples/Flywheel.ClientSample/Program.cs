using Flywheel.Client;
using Flywheel.Core;
using Microsoft.Extensions.DependencyInjection;

var server = new Uri(args.Length > 0 ? args[0] : "http://127.0.0.1:5005");
var services = new ServiceCollection();
services.AddFlywheelClient(o => o.BaseAddress = server);
await using var provider = services.BuildServiceProvider();
var flywheel = provider.GetRequiredService<FlywheelClient>();

// 1. Declare the loop (PUT is idempotent: run this as often as you like).
await flywheel.PutLoopAsync(LoopConfigJson.Parse("""
    { "id": "home-feed",
      "signals": { "watch_complete": { "kind": "implicit", "weight": 1.0 },
                   "skip":           { "kind": "implicit", "weight": -0.5, "closesWindow": true },
                   "thumbs_up":      { "kind": "explicit", "weight": 1.0 } } }
    """));

// 2. Ask for a decision. The client picks the decision id before sending, so a retry never decides twice.
var decision = await flywheel.DecideAsync("home-feed", new DecideRequest
{
    UserId = "u-42",
    Context = new Features { ["user"] = { ["country"] = "fr" }, ["time"] = { ["hour"] = 20 } },
    Actions =
    [
        new ActionCandidate("v1", new Features { ["item"] = { ["topic"] = "cooking", ["length_s"] = 35 } }),
        new ActionCandidate("v2", new Features { ["item"] = { ["topic"] = "diy", ["length_s"] = 12 } }),
    ],
});
Console.WriteLine($"show {decision.ChosenActionId} (p = {decision.Ranking[0].Probability:0.###}, model v{decision.ModelVersion})");

// 3. Report what the user did. The batcher sends in the background, in batches; disposing it sends the rest.
await using (var signals = flywheel.CreateBatcher("home-feed"))
{
    signals.TryEnqueue(new SignalInput { DecisionId = decision.DecisionId, Type = "watch_complete" });
    signals.TryEnqueue(new SignalInput { DecisionId = decision.DecisionId, Type = "thumbs_up" });
    await signals.FlushAsync();
    Console.WriteLine($"{signals.Sent} signals sent");
}

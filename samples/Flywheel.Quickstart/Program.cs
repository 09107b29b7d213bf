using Flywheel.Core;
using Microsoft.Extensions.DependencyInjection;

var dataDir = args.Length > 0 ? args[0] : "./flywheel-data";
var services = new ServiceCollection();
services.AddFlywheel(o => o.UseSqlite(dataDir));
await using var provider = services.BuildServiceProvider();
var flywheel = provider.GetRequiredService<IFlywheelEngine>();

// 1. Declare the loop: which signals count, and how much.
await flywheel.PutLoopAsync(LoopConfigJson.Parse("""
    { "id": "home-feed",
      "signals": { "watch_complete": { "kind": "implicit", "weight": 1.0 },
                   "skip":           { "kind": "implicit", "weight": -0.5, "closesWindow": true },
                   "thumbs_up":      { "kind": "explicit", "weight": 1.0 } },
      "learner": { "interactions": ["context*action", "context*context*action"] } }
    """));

// 2. Ask for a decision; the engine logs it (with its probability) before answering.
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

// 3. Send what the user did; the joiner turns it into a reward and the learner improves.
var result = await flywheel.RecordSignalsAsync("home-feed",
[
    new SignalInput { DecisionId = decision.DecisionId, Type = "watch_complete" },
    new SignalInput { DecisionId = decision.DecisionId, Type = "thumbs_up" },
]);
Console.WriteLine($"{result.Accepted} signals stored");

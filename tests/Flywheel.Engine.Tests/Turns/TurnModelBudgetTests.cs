using Flywheel.Core;
using Flywheel.Learning;
using Microsoft.Extensions.Time.Testing;

namespace Flywheel.Engine.Tests.Turns;

public sealed class TurnModelBudgetTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task RunTurn_CandidatePastTheModelBudget_IsNotTried()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero));
        // 16 bits × 5 bags = 5 MiB once dense; doubling the bags would need 10 MiB, over the 6 MiB allowed.
        var loop = CombinationWorld.Loop("feed", ["context*action"]) with
        {
            Exploration = new ExplorationConfig { Algorithm = ExplorationAlgorithm.Bag, Bags = 5 },
            Learner = new LearnerConfig { Bits = 16 },
            Turns = new TurnsConfig { MinDecisions = 50, EverySeconds = 1e7 },
        };
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time, o =>
        {
            o.Limits.MaxLoopModelBytes = 6L << 20;
            o.CandidateSearch = c =>
            [
                new CandidateSettings("learningRate÷2", c.Learner with { LearningRate = c.Learner.EffectiveLearningRate / 2 }, c.Exploration),
                new CandidateSettings("bags×2", c.Learner, c.Exploration with { Bags = 10 }),
            ];
        });
        await engine.PutLoopAsync(loop);
        await new WorldRunner(engine, time, new CombinationWorld(seed: 3)).RunAsync(["feed"], rounds: 200, flushEvery: 1);

        var turn = await engine.RunTurnAsync("feed");

        Assert.Contains(turn.Candidates, c => c.Name == "learningRate÷2");
        Assert.DoesNotContain(turn.Candidates, c => c.Name.StartsWith("bags", StringComparison.Ordinal));
    }
}

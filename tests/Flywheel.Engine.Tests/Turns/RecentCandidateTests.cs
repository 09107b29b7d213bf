using Flywheel.Core;
using Flywheel.Learning;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Flywheel.Engine.Tests.Turns;

public sealed class RecentCandidateTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task RunTurn_AfterAnEarlierTurn_TrainsRecentAndRefreshedCandidatesOnTheNewestRewards()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero));
        long after, through, from;
        var versions = new Dictionary<string, int>();
        await using (var engine = await TestEngine.OpenAsync(_dir.Path, time))
        {
            await engine.PutLoopAsync(CombinationWorld.Loop("feed", ["context*action"]) with
            {
                Turns = new TurnsConfig { MinDecisions = 500, EverySeconds = 1e7, PromoteWhen = PromotionPolicy.Manual },
            });
            var runner = new WorldRunner(engine, time, new CombinationWorld(seed: 21));
            await runner.RunAsync(["feed"], rounds: 2000, flushEvery: 1);

            var first = await engine.RunTurnAsync("feed");
            // The first turn judges the whole log: there is nothing older to leave out.
            Assert.DoesNotContain(first.Candidates, c => c.Name.StartsWith("recent", StringComparison.Ordinal) || c.Name.StartsWith("refreshed", StringComparison.Ordinal));

            await runner.RunAsync(["feed"], rounds: 1500, flushEvery: 1);
            var second = await engine.RunTurnAsync("feed");

            // The second turn judges all the evidence since v1 began serving; its recent data are the newest two turns'
            // worth of rewards: as many before the first turn's end as came in after it.
            after = first.Window!.ThroughSequence;
            through = second.Window!.ThroughSequence;
            from = after - (through - after);
            Assert.Equal(0, second.Window.AfterSequence);
            Assert.Equal(through - after, second.NewDecisions);
            Assert.True(from > 0 && from < after, $"the recent data start at reward {from}");
            foreach (var name in new[] { $"recent (rewards after {from})", $"refreshed (at reward {from})" })
            {
                var candidate = Assert.Single(second.Candidates, c => c.Name == name);
                Assert.NotNull(candidate.Version);
                Assert.True(candidate.Estimates.Count > 0);
                versions[name] = candidate.Version!.Value;
            }
            // The searched settings still learn the whole log when no drift was found.
            Assert.Contains(second.Candidates, c => c.Name == "learningRate×2");
        }

        var options = new FlywheelOptions().UseSqlite(_dir.Path);
        var factory = options.StoreFactory!;
        await using var store = factory(null);
        await store.InitializeAsync(CancellationToken.None);
        var models = await store.LoadModelsAsync("feed", CancellationToken.None);
        foreach (var (name, version) in versions)
        {
            var model = models.Single(m => m.Version == version);
            Assert.Equal(through, model.TrainedThrough);
            var data = await store.LoadModelDataAsync("feed", version, CancellationToken.None);
            var learner = ChooseKind.Instance.LoadLearner(data, model.Learner, model.Exploration);
            // Recent learned only the rewards after `from`; refreshed learned them all but restarted its counts there.
            Assert.Equal(through - from, learner.Examples);
        }
    }
}

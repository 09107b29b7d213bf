using System.Diagnostics;
using Flywheel.Core;
using Flywheel.Learning;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace Flywheel.Engine.Tests;

public sealed class RestartTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static IEnumerable<Features> Probes() =>
        from c in Enumerable.Range(0, CombinationWorld.Countries.Length)
        from s in Enumerable.Range(0, CombinationWorld.Slots.Length)
        select CombinationWorld.Context((c, s));

    [Fact]
    public async Task Reopen_AfterDisposeMidStream_KeepsEveryEventRewardAndTheLearner()
    {
        var time = new FakeTimeProvider(TestEngine.Start);
        var world = new CombinationWorld(seed: 7);
        var loop = CombinationWorld.Loop("feed", ["context*action", "context*context*action"]);
        List<(string, string)> decisions, signals;
        LoopCounts before;
        var scores = new List<float[]>();
        await using (var engine = await TestEngine.OpenAsync(_dir.Path, time))
        {
            await engine.PutLoopAsync(loop);
            var runner = new WorldRunner(engine, time, world);
            await runner.RunAsync(["feed"], rounds: 3000);
            decisions = runner.Decisions;
            signals = runner.Signals;
            before = await engine.GetCountsAsync("feed");
            foreach (var probe in Probes())
            {
                scores.Add(await engine.ScoreAsync("feed", probe, CombinationWorld.Actions));
            }
        }
        Assert.True(before.Rewards > 2000 && before.Rewards < before.Decisions, "windows must be open at the restart");

        await using (var engine = await TestEngine.OpenAsync(_dir.Path, time))
        {
            Assert.Equal(before, await engine.GetCountsAsync("feed"));
            Assert.Equal(loop.Learner.Interactions, (await engine.GetLoopAsync("feed"))!.Learner.Interactions);
            var i = 0;
            foreach (var probe in Probes())
            {
                var after = await engine.ScoreAsync("feed", probe, CombinationWorld.Actions);
                for (var a = 0; a < after.Length; a++)
                {
                    Assert.True(Math.Abs(scores[i][a] - after[a]) <= 1e-6, $"probe {i}, action {a}: {scores[i][a]} vs {after[a]}");
                }
                i++;
            }
            await AssertAllPresentAsync(engine, decisions, signals);

            // Open windows survived: they close and are learned from after the restart.
            time.Advance(TimeSpan.FromMinutes(11));
            await engine.FlushAsync();
            Assert.Equal(before.Decisions, (await engine.GetCountsAsync("feed")).Rewards);
        }
    }

    [Fact]
    public async Task Reopen_AfterSigkillOfAnIngestingProcess_KeepsEveryAcknowledgedEventAndReplaysTheLearner()
    {
        var host = Path.Combine(AppContext.BaseDirectory, "Flywheel.Engine.CrashHost.dll");
        Assert.True(File.Exists(host), $"crash host not built at {host}");
        var acknowledged = new List<(char Kind, string Loop, string Id)>();
        using (var process = Process.Start(new ProcessStartInfo("dotnet", [host, _dir.Path, "11"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!)
        {
            // Kill at a point drawn from a fixed seed: somewhere after learning and snapshots have started.
            var killAfter = 4000 + new Random(20261125).Next(3000);
            while (acknowledged.Count < killAfter)
            {
                var line = await process.StandardOutput.ReadLineAsync();
                if (line is null)
                {
                    Assert.Fail("crash host ended early: " + await process.StandardError.ReadToEndAsync());
                }
                var parts = line.Split(' ');
                acknowledged.Add((parts[0][0], parts[1], parts[2]));
            }
            process.Kill(); // SIGKILL on Unix: no shutdown code runs.
            await process.WaitForExitAsync();
        }
        output.WriteLine($"killed after {acknowledged.Count} acknowledgements");

        var time = new FakeTimeProvider(TestEngine.Start);
        await using var engine = await TestEngine.OpenAsync(_dir.Path, time);
        var decisions = acknowledged.Where(a => a.Kind == 'D').Select(a => (a.Loop, a.Id)).ToList();
        var signals = acknowledged.Where(a => a.Kind == 'S').Select(a => (a.Loop, a.Id)).ToList();
        Assert.NotEmpty(signals);
        await AssertAllPresentAsync(engine, decisions, signals);

        // The restored learner (snapshot + replay) equals one that learned every stored reward from scratch.
        var config = (await engine.GetLoopAsync("feed"))!;
        var reference = new BanditLearner(config.Learner);
        var featurizer = new Featurizer(config.Learner);
        // Beside the engine in this process: the directory lock is for a second engine, not for a reader.
        await using (var store = new Flywheel.Storage.Sqlite.SqliteFlywheelStore(new() { DataDirectory = _dir.Path, TakeDirectoryLock = false }))
        {
            await store.InitializeAsync();
            var learned = 0;
            await foreach (var (decision, reward) in store.ReadRewardsAsync("feed", 0))
            {
                var vector = new FeatureVector();
                featurizer.SetContext(HashedFeatureSet.FromContext(decision.Context));
                featurizer.AddAction(HashedFeatureSet.FromAction(decision.Actions.Single(a => a.Id == decision.ChosenActionId)), vector);
                reference.Learn(vector.Indices(0), vector.Values(0), (float)-reward.Reward, decision.ChosenProbability, decision.Actions.Count);
                learned++;
            }
            var snapshot = await store.LoadSnapshotAsync("feed");
            output.WriteLine($"{learned} rewards stored; snapshot through {snapshot?.LearnedThrough}");
            Assert.True(learned > 0);
            Assert.True(snapshot is not null && snapshot.LearnedThrough < learned, "the test must exercise replay after a snapshot");
        }
        var serving = reference.ToServingModel(1);
        foreach (var probe in Probes())
        {
            var restored = await engine.ScoreAsync("feed", probe, CombinationWorld.Actions);
            featurizer.SetContext(HashedFeatureSet.FromContext(probe));
            var vector = new FeatureVector();
            for (var a = 0; a < CombinationWorld.Actions.Count; a++)
            {
                featurizer.AddAction(HashedFeatureSet.FromAction(CombinationWorld.Actions[a]), vector);
                Assert.True(Math.Abs(serving.Predict(vector.Indices(a), vector.Values(a)) - restored[a]) <= 1e-6);
            }
        }
    }

    private static async Task AssertAllPresentAsync(IFlywheelEngine engine, List<(string Loop, string Id)> decisions, List<(string Loop, string Id)> signals)
    {
        var signalIds = new HashSet<string>();
        foreach (var (loop, id) in decisions)
        {
            var audit = await engine.GetDecisionAsync(loop, id);
            Assert.True(audit is not null, $"acknowledged decision {id} is missing");
            foreach (var s in audit.Signals)
            {
                Assert.True(signalIds.Add(s.SignalId), $"signal {s.SignalId} stored twice");
            }
        }
        foreach (var (_, id) in signals)
        {
            Assert.True(signalIds.Contains(id), $"acknowledged signal {id} is missing");
        }
    }
}

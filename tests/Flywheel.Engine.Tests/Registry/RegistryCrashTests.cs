using Flywheel.Core;
using Xunit.Abstractions;

namespace Flywheel.Engine.Tests.Registry;

/// <summary>
/// A simulated kill at every store write of a turn's deploy, a promotion and a rollback, just before the write and just
/// after it became durable (<see cref="CrashingStore"/>); then a restart on the same folder. The restarted engine must
/// serve the registry's champion with its settings, either as before the change or as after it (same version, same
/// settings, same probabilities within 1e-6), the ledger must agree with the registry, and rollback must work.
/// </summary>
public sealed class RegistryCrashTests(RegistryWorld world, ITestOutputHelper output) : IClassFixture<RegistryWorld>, IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public Task TurnDeploy_KilledAtEveryWrite_RestartsConsistent()
        => KillAtEveryWriteAsync(world.Served, engine => engine.RunTurnAsync(RegistryWorld.Loop).AsTask(),
            before: world.AtServed, beforeRollsBackTo: null, after: world.AtTurned, afterRollsBackTo: world.AtServed);

    [Fact]
    public Task Promote_KilledAtEveryWrite_RestartsConsistent()
        => KillAtEveryWriteAsync(world.Turned, engine => engine.PromoteAsync(RegistryWorld.Loop, 3).AsTask(),
            before: world.AtTurned, beforeRollsBackTo: world.AtServed, after: world.AtPromoted, afterRollsBackTo: world.AtTurned);

    [Fact]
    public Task Rollback_KilledAtEveryWrite_RestartsConsistent()
        => KillAtEveryWriteAsync(world.Promoted, engine => engine.RollbackAsync(RegistryWorld.Loop).AsTask(),
            before: world.AtPromoted, beforeRollsBackTo: world.AtTurned, after: world.AtTurned, afterRollsBackTo: world.AtServed);

    [Fact]
    public async Task CandidatesOfATurnKilledByAnOlderBuild_AreRetiredAtStart()
    {
        var directory = world.CopyOf(world.Turned, _dir);
        await using (var store = await Flywheel.Storage.Sqlite.SqliteFlywheelStore.OpenAsync(new() { DataDirectory = directory }))
        {
            // What a build that registered candidates one write at a time could leave: a candidate of turn 9, which has no entry.
            var v3 = (await store.LoadModelsAsync(RegistryWorld.Loop)).Single(m => m.Version == 3);
            await store.SaveModelAsync(v3 with { Version = 7, Turn = 9 });
            await store.SaveModelDataAsync(RegistryWorld.Loop, 7, [1, 2, 3]);
        }

        await using (var engine = await world.OpenAsync(directory))
        {
            await engine.StartAsync();
        }

        world.AtTurned.AssertSame(await world.ReadStateAsync(directory), "after the start-up repair");

        var stored = await StoredRegistry.ReadAsync(directory);
        var orphan = stored.Models.Single(m => m.Version == 7);
        Assert.Equal(ModelStatus.Retired, orphan.Status);
        Assert.Equal("turn 9 did not finish", orphan.Reason);
        Assert.False(stored.HasWeights[7]);
        // The finished turn's candidate keeps its status and weights.
        Assert.Equal(ModelStatus.Candidate, stored.Models.Single(m => m.Version == 3).Status);
        Assert.True(stored.HasWeights[3]);
    }

    private async Task KillAtEveryWriteAsync(string origin, Func<FlywheelEngine, Task> change, ServedState before, ServedState? beforeRollsBackTo, ServedState after, ServedState? afterRollsBackTo)
    {
        // A clean run counts the writes and names them.
        List<string> writes;
        var clean = world.CopyOf(origin, _dir);
        CrashingStore? crashing = null;
        await using (var engine = await world.OpenAsync(clean, store => crashing = new CrashingStore(store)))
        {
            await engine.StartAsync();
            crashing!.Arm(0, afterWrite: false);
            await change(engine);
            writes = [.. crashing.Log];
        }
        output.WriteLine($"writes: {string.Join(", ", writes)}");
        after.AssertSame(await world.ReadStateAsync(clean), "after a clean run");
        // The registry, ledger, settings and snapshot are one write; at most the serving model's registration precedes it.
        Assert.Equal("CommitRegistryAsync", writes[^1]);
        Assert.InRange(writes.Count, 1, 2);

        for (var step = 1; step <= writes.Count; step++)
        {
            foreach (var afterWrite in new[] { false, true })
            {
                var where = $"killed {(afterWrite ? "after" : "before")} write {step} ({writes[step - 1]})";
                var directory = world.CopyOf(origin, _dir);
                await using (var engine = await world.OpenAsync(directory, store => crashing = new CrashingStore(store)))
                {
                    await engine.StartAsync();
                    crashing!.Arm(step, afterWrite);
                    await Assert.ThrowsAnyAsync<Exception>(() => change(engine));
                    Assert.True(crashing.Crashed, where);
                }

                var restarted = await world.ReadStateAsync(directory);
                var committed = restarted.Version == after.Version;
                (committed ? after : before).AssertSame(restarted, where);
                if (step == writes.Count)
                {
                    Assert.True(committed == afterWrite, $"{where}: the change must be stored exactly when its one commit is");
                }
                else
                {
                    Assert.False(committed, where);
                }

                await world.AssertRollbackAsync(directory, committed ? afterRollsBackTo : beforeRollsBackTo, where);
            }
        }
    }
}

using Flywheel.Core;

namespace Flywheel.Engine.Tests.Registry;

/// <summary>
/// Rollback walks back through the deployment history the ledger records, and each step serves the champion that was
/// replaced exactly as it served then.
/// </summary>
public sealed class RollbackHistoryTests(RegistryWorld world) : IClassFixture<RegistryWorld>, IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task PromotePromoteRollbackRollback_EachRollbackServesTheChampionItsPredecessorReplaced()
    {
        var directory = world.CopyOf(world.Served, _dir);
        await using var engine = await world.OpenAsync(directory);
        var v1 = await ServedState.ReadAsync(engine);
        world.AtServed.AssertSame(v1, "before any promotion");

        // A turn promotes v2 (parent v1); then v3 (parent v1 too) is promoted by hand.
        var turn = await engine.RunTurnAsync(RegistryWorld.Loop);
        Assert.Equal((TurnVerdict.Promoted, 1, 2), (turn.Verdict, turn.ChampionVersion, turn.DeployedVersion!.Value));
        var v2 = await ServedState.ReadAsync(engine);
        world.AtTurned.AssertSame(v2, "after the turn");
        var promote = await engine.PromoteAsync(RegistryWorld.Loop, 3);
        Assert.Equal((TurnVerdict.ManuallyPromoted, 2, 3), (promote.Verdict, promote.ChampionVersion, promote.DeployedVersion!.Value));
        world.AtPromoted.AssertSame(await ServedState.ReadAsync(engine), "after the promotion by hand");

        // v3 replaced v2, not its lineage parent v1: the rollback brings v2 back, as it served.
        var first = await engine.RollbackAsync(RegistryWorld.Loop, "first");
        Assert.Equal((TurnVerdict.RolledBack, 3, 2), (first.Verdict, first.ChampionVersion, first.DeployedVersion!.Value));
        Assert.Equal("v3 rolled back by hand: first; v2 serves again", first.Reason);
        v2.AssertSame(await ServedState.ReadAsync(engine), "after the first rollback");

        // v2 replaced v1.
        var second = await engine.RollbackAsync(RegistryWorld.Loop, "second");
        Assert.Equal((TurnVerdict.RolledBack, 2, 1), (second.Verdict, second.ChampionVersion, second.DeployedVersion!.Value));
        Assert.Equal("v2 rolled back by hand: second; v1 serves again", second.Reason);
        v1.AssertSame(await ServedState.ReadAsync(engine), "after the second rollback");
        var models = await engine.ListModelsAsync(RegistryWorld.Loop);
        Assert.Equal([ModelStatus.Champion, ModelStatus.Retired, ModelStatus.Retired], models.Select(m => m.Status));

        // v1 replaced nothing: a third rollback is a conflict and changes nothing.
        var error = await Assert.ThrowsAsync<FlywheelValidationException>(async () => await engine.RollbackAsync(RegistryWorld.Loop, "third"));
        Assert.Equal(ValidationKind.Conflict, error.Kind);
        Assert.Contains("v1 has no predecessor", error.Message, StringComparison.Ordinal);
        v1.AssertSame(await ServedState.ReadAsync(engine), "after the refused rollback");
        Assert.Equal(4, (await engine.ListTurnsAsync(RegistryWorld.Loop)).Count);
    }

    [Fact]
    public async Task RollbackAfterRestart_WalksTheSameHistory()
    {
        var directory = world.CopyOf(world.Promoted, _dir);
        await using (var engine = await world.OpenAsync(directory))
        {
            Assert.Equal(2, (await engine.RollbackAsync(RegistryWorld.Loop)).DeployedVersion);
        }
        world.AtTurned.AssertSame(await world.ReadStateAsync(directory), "v2 after a restart");
        await using (var engine = await world.OpenAsync(directory))
        {
            Assert.Equal(1, (await engine.RollbackAsync(RegistryWorld.Loop)).DeployedVersion);
        }
        world.AtServed.AssertSame(await world.ReadStateAsync(directory), "v1 after a restart");
    }

    [Fact]
    public async Task RollbackOfAReplacedChampionWithoutWeights_IsAConflictNamingIt()
    {
        var directory = world.CopyOf(world.Promoted, _dir);
        await using (var store = await Flywheel.Storage.Sqlite.SqliteFlywheelStore.OpenAsync(new() { DataDirectory = directory }))
        {
            await store.SaveModelDataAsync(RegistryWorld.Loop, 2, null);
        }
        await using var engine = await world.OpenAsync(directory);

        var error = await Assert.ThrowsAsync<FlywheelValidationException>(async () => await engine.RollbackAsync(RegistryWorld.Loop));

        Assert.Equal(ValidationKind.Conflict, error.Kind);
        Assert.Contains("v2, the champion it replaced, has no stored weights", error.Message, StringComparison.Ordinal);
        world.AtPromoted.AssertSame(await ServedState.ReadAsync(engine), "after the refused rollback");
    }
}

using Flywheel.Core;

namespace Flywheel.Storage.Conformance;

// Registry changes: model records and weights, ledger entries, the loop config and the snapshot in one transaction.
public abstract partial class StoreConformanceTests
{
    private static RegistryChange Deploy(string loop)
    {
        var change = new RegistryChange
        {
            Loop = loop,
            Config = Loop(loop) with { Exploration = new ExplorationConfig { Algorithm = ExplorationAlgorithm.EpsilonGreedy, Epsilon = 0.02 } },
            Snapshot = new ModelSnapshotRecord { Loop = loop, Version = 2, LearnedThrough = 2010, CreatedAt = T0, Data = [9, 8, 7] },
        };
        change.Models.Add(Model(loop, 1, ModelStatus.Retired));
        change.Models.Add(Model(loop, 2, ModelStatus.Candidate));
        change.Models.Add(Model(loop, 2, ModelStatus.Champion)); // a later record of the same version wins
        change.ModelData[1] = [1, 1];
        change.ModelData[2] = [2, 2, 2];
        change.Turns.Add(Turn(loop, 1));
        return change;
    }

    [Fact]
    public async Task CommitRegistryAsync_Deploy_WritesEveryPartDurably()
    {
        var store = await OpenAsync();
        await store.SaveLoopAsync(Loop("feed"));
        var change = Deploy("feed");

        await store.CommitRegistryAsync(change);
        store = await ReopenAsync(store);

        var models = await store.LoadModelsAsync("feed");
        Assert.Equal([Json(Model("feed", 1, ModelStatus.Retired)), Json(Model("feed", 2, ModelStatus.Champion))], models.Select(Json));
        Assert.Equal([1, 1], await store.LoadModelDataAsync("feed", 1));
        Assert.Equal([2, 2, 2], await store.LoadModelDataAsync("feed", 2));
        Assert.Equal(Json(Turn("feed", 1)), Json(Assert.Single(await store.LoadTurnsAsync("feed"))));
        Assert.Equal(0.02, Assert.Single(await store.LoadLoopsAsync()).Exploration.EffectiveEpsilon);
        var snapshot = await store.LoadSnapshotAsync("feed");
        Assert.Equal((2, 2010L, T0), (snapshot!.Version, snapshot.LearnedThrough, snapshot.CreatedAt));
        Assert.Equal([9, 8, 7], snapshot.Data);
    }

    [Fact]
    public async Task CommitRegistryAsync_NullWeights_DropsThemAndKeepsTheRecord()
    {
        var store = await OpenAsync();
        await store.CommitRegistryAsync(Deploy("feed"));
        var retire = new RegistryChange { Loop = "feed" };
        retire.ModelData[1] = null;

        await store.CommitRegistryAsync(retire);

        Assert.Null(await store.LoadModelDataAsync("feed", 1));
        Assert.Equal(2, (await store.LoadModelsAsync("feed")).Count);
        Assert.Equal(2, (await store.LoadSnapshotAsync("feed"))!.Version);
    }

    [Fact]
    public async Task CommitRegistryAsync_FailingPart_WritesNothingOfTheChange()
    {
        var store = await OpenAsync();
        var original = Loop("feed");
        await store.SaveLoopAsync(original);
        await store.SaveSnapshotAsync(new ModelSnapshotRecord { Loop = "feed", Version = 1, LearnedThrough = 5, CreatedAt = T0, Data = [1] });
        var change = Deploy("feed");
        change.ModelData[9] = [9]; // no model v9: the weights cannot be stored, after the records were written

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await store.CommitRegistryAsync(change));
        store = await ReopenAsync(store);

        Assert.Empty(await store.LoadModelsAsync("feed"));
        Assert.Empty(await store.LoadTurnsAsync("feed"));
        Assert.Equal(original.Exploration.Algorithm, Assert.Single(await store.LoadLoopsAsync()).Exploration.Algorithm);
        Assert.Equal(1, (await store.LoadSnapshotAsync("feed"))!.Version);
        // The writer is usable afterwards.
        await store.CommitRegistryAsync(Deploy("feed"));
        Assert.Equal(2, (await store.LoadSnapshotAsync("feed"))!.Version);
    }

    [Fact]
    public async Task CommitRegistryAsync_RecordOfAnotherLoop_IsRefusedBeforeWriting()
    {
        var store = await OpenAsync();
        var change = Deploy("feed");
        change.Turns.Add(Turn("other", 2));

        await Assert.ThrowsAsync<ArgumentException>(async () => await store.CommitRegistryAsync(change));

        Assert.Empty(await store.LoadModelsAsync("feed"));
        Assert.Null(await store.LoadSnapshotAsync("feed"));
    }

    [Fact]
    public async Task CommitRegistryAsync_EmptyChange_WritesNothing()
    {
        var store = await OpenAsync();

        await store.CommitRegistryAsync(new RegistryChange { Loop = "feed" });

        Assert.Empty(await store.LoadModelsAsync("feed"));
        Assert.Empty(await store.LoadLoopsAsync());
    }
}

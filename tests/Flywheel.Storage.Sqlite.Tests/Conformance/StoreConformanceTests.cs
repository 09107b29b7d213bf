using Flywheel.Core;

namespace Flywheel.Storage.Conformance;

/// <summary>
/// The behaviour every <see cref="IFlywheelStore"/> must show (docs/operations.md: one storage interface, two implementations,
/// one shared test suite). A store's test class derives from this and supplies a fresh, initialized store; other test
/// projects link this file (<c>&lt;Compile Include="../Flywheel.Storage.Sqlite.Tests/Conformance/*.cs" /&gt;</c>).
/// </summary>
public abstract partial class StoreConformanceTests : IAsyncLifetime
{
    /// <summary>A time with a non-zero offset and sub-millisecond ticks: stores must keep the instant exactly.</summary>
    protected static readonly DateTimeOffset T0 = new DateTimeOffset(2025, 3, 4, 5, 6, 7, TimeSpan.FromHours(2)).AddTicks(1_234_567);

    private readonly List<IFlywheelStore> _opened = [];

    /// <summary>A new, empty, initialized store. Called at most once per test.</summary>
    protected abstract ValueTask<IFlywheelStore> CreateStoreAsync();

    /// <summary>A new, initialized store instance over the data of the store <see cref="CreateStoreAsync"/> made (already disposed).</summary>
    protected abstract ValueTask<IFlywheelStore> ReopenStoreAsync();

    /// <inheritdoc />
    public virtual Task InitializeAsync() => Task.CompletedTask;

    /// <inheritdoc />
    public virtual async Task DisposeAsync()
    {
        foreach (var store in _opened)
        {
            await store.DisposeAsync();
        }
    }

    private async ValueTask<IFlywheelStore> OpenAsync()
    {
        var store = await CreateStoreAsync();
        _opened.Add(store);
        return store;
    }

    private async ValueTask<IFlywheelStore> ReopenAsync(IFlywheelStore current)
    {
        await current.DisposeAsync();
        var store = await ReopenStoreAsync();
        _opened.Add(store);
        return store;
    }

    // ---------------------------------------------------------------- loops

    [Fact]
    public async Task SaveLoopAsync_NewAndReplaced_LoadLoopsReturnsLatestOrderedById()
    {
        var store = await OpenAsync();
        Assert.Empty(await store.LoadLoopsAsync());

        await store.SaveLoopAsync(Loop("zeta"));
        await store.SaveLoopAsync(Loop("alpha"));
        var replaced = Loop("zeta") with
        {
            Reward = new RewardConfig { WindowSeconds = 0.1, Default = 0, Min = -1e-300, Max = 2.5 },
            Exploration = new ExplorationConfig { Epsilon = 0.1 },
            Learner = new LearnerConfig { Interactions = ["user*action", "context*action"], LearningRate = 0.3 },
            Mode = LoopMode.Frozen,
        };
        await store.SaveLoopAsync(replaced);

        var loops = await store.LoadLoopsAsync();
        Assert.Equal(["alpha", "zeta"], loops.Select(l => l.Id));
        Assert.Equal(LoopConfigJson.Serialize(Loop("alpha")), LoopConfigJson.Serialize(loops[0]));
        Assert.Equal(LoopConfigJson.Serialize(replaced), LoopConfigJson.Serialize(loops[1]));
        Assert.Equal(0.1, loops[1].Reward.WindowSeconds);
        Assert.Equal(-1e-300, loops[1].Reward.Min);
        Assert.Equal(LoopMode.Frozen, loops[1].Mode);
    }

    // ---------------------------------------------------------------- commit round trips

    [Fact]
    public async Task CommitAsync_DecisionSignalsAndReward_RoundTripEveryFieldExactly()
    {
        var store = await OpenAsync();
        var decision = RichDecision("shop", "d-1", T0) with { TimeZone = "America/Argentina/Buenos_Aires" };
        var bare = new DecisionRecord
        {
            Loop = "shop",
            DecisionId = "d-2",
            At = T0.AddTicks(1),
            Context = new Features(),
            Actions = [new ActionCandidate("only")],
            ChosenActionId = "only",
            Explored = false,
            Ranking = [new RankedAction("only", 1.0)],
            ModelVersion = 0,
        };
        var s1 = Signal("shop", "s-1", "d-1", T0.AddSeconds(1)) with { UserId = "u-9", Value = 0.1 };
        var s2 = Signal("shop", "s-2", null, T0.AddSeconds(2)) with { UserId = "u-9", Type = "return_visit", Value = -1e-300, Orphaned = true };
        var s3 = Signal("shop", "s-3", "d-1", T0.AddSeconds(3)) with { Value = 1e300, Late = true, ReceivedAt = T0.AddDays(1).AddTicks(7) };
        var reward = new RewardRecord
        {
            Loop = "shop",
            DecisionId = "d-1",
            Sequence = 1,
            Reward = 0.30000000000000004,
            SignalCount = 2,
            ClosedAt = T0.AddMinutes(10).AddTicks(3),
            ClosedBy = WindowClose.Signal,
        };
        var reward2 = reward with { DecisionId = "d-2", Sequence = 2, Reward = -1e-300, SignalCount = 0, ClosedBy = WindowClose.Timeout };
        await store.CommitAsync(Batch([decision, bare], [s1, s2, s3], [reward, reward2]));

        AssertSameDecision(decision, await store.GetDecisionAsync("shop", "d-1"));
        AssertSameDecision(bare, await store.GetDecisionAsync("shop", "d-2"));
        var signals = await store.GetSignalsAsync("shop", "d-1");
        AssertSameSignals([s1, s3], signals);
        AssertSameReward(reward, await store.GetRewardAsync("shop", "d-1"));
        AssertSameReward(reward2, await store.GetRewardAsync("shop", "d-2"));
        Assert.Equal(0.1, signals[0].Value);
        Assert.Equal(1e300, signals[1].Value);
        Assert.Equal(T0.AddDays(1).AddTicks(7).UtcTicks, signals[1].ReceivedAt.UtcTicks);
    }

    [Fact]
    public async Task CommitAsync_RankDecisionSignalsAndSlotRewards_RoundTripEveryField()
    {
        var store = await OpenAsync();
        var decision = SmallDecision("search", "q-1", T0) with
        {
            Actions = [new ActionCandidate("p1"), new ActionCandidate("p2"), new ActionCandidate("p3")],
            ChosenActionId = "p3",
            Intervened = true,
            Ranking = [new RankedAction("p3", 1.0 / 3) { Slot = 1 }, new RankedAction("p1", 0.5) { Slot = 2 }],
        };
        var open = decision with { DecisionId = "q-2", Intervened = false };
        var click = Signal("search", "s-1", "q-1", T0.AddSeconds(1)) with { ActionId = "p1" };
        var openClick = Signal("search", "s-2", "q-2", T0.AddSeconds(2)) with { ActionId = "p3" };
        var reward = Reward("search", "q-1", 1) with
        {
            Reward = 1,
            SignalCount = 1,
            Slots = [new SlotReward(1, "p3", 0, 0), new SlotReward(2, "p1", 1, 1)],
        };
        await store.CommitAsync(Batch([decision, open], [click, openClick], [reward]));

        AssertSameDecision(decision, await store.GetDecisionAsync("search", "q-1"));
        AssertSameSignals([click], await store.GetSignalsAsync("search", "q-1"));
        AssertSameReward(reward, await store.GetRewardAsync("search", "q-1"));
        var (readDecision, readReward) = (await ToListAsync(store.ReadRewardsAsync("search", 0))).Single();
        AssertSameDecision(decision, readDecision);
        AssertSameReward(reward, readReward);
        var (openDecision, openSignals) = (await ToListAsync(store.ReadOpenDecisionsAsync("search"))).Single();
        AssertSameDecision(open, openDecision);
        Assert.Equal("p3", openSignals.Single().ActionId);
    }

    [Fact]
    public async Task GetMethods_UnknownIds_ReturnNullOrEmpty()
    {
        var store = await OpenAsync();
        await store.CommitAsync(Batch([RichDecision("shop", "d-1", T0)], [], []));

        Assert.Null(await store.GetDecisionAsync("shop", "nope"));
        Assert.Null(await store.GetDecisionAsync("other", "d-1"));
        Assert.Null(await store.GetRewardAsync("shop", "d-1"));
        Assert.Empty(await store.GetSignalsAsync("shop", "d-1"));
        Assert.Null(await store.LoadSnapshotAsync("shop"));
        Assert.Equal(0, await store.GetLastRewardSequenceAsync("shop"));
        Assert.Equal(new LoopCounts(0, 0, 0, 0, 0), await store.CountAsync("other"));
    }

    [Fact]
    public async Task CommitAsync_EmptyBatch_WritesNothing()
    {
        var store = await OpenAsync();
        await store.CommitAsync(new StoreBatch());
        Assert.Equal(new LoopCounts(0, 0, 0, 0, 0), await store.CountAsync("shop"));
    }

    [Fact]
    public async Task CommitAsync_SameIdsInTwoLoops_KeepsLoopsApart()
    {
        var store = await OpenAsync();
        await store.CommitAsync(Batch(
            [RichDecision("a", "d-1", T0), RichDecision("b", "d-1", T0.AddSeconds(1)) with { ChosenActionId = "a2", Ranking = [new("a2", 0.6), new("a1", 0.4)] }],
            [Signal("a", "s-1", "d-1", T0), Signal("b", "s-1", "d-1", T0) with { Value = 2 }],
            []));

        Assert.Equal("a1", (await store.GetDecisionAsync("a", "d-1"))!.ChosenActionId);
        Assert.Equal("a2", (await store.GetDecisionAsync("b", "d-1"))!.ChosenActionId);
        Assert.Equal(2, Assert.Single(await store.GetSignalsAsync("b", "d-1")).Value);
        Assert.Equal(new LoopCounts(1, 1, 0, 0, 0), await store.CountAsync("a"));
    }

    [Fact]
    public async Task GetSignalsAsync_SeveralCommits_ReturnsArrivalOrder()
    {
        var store = await OpenAsync();
        await store.CommitAsync(Batch([RichDecision("shop", "d-1", T0)], [], []));
        // Ids and reported times both run against arrival order.
        await store.CommitAsync(Batch([], [Signal("shop", "z", "d-1", T0.AddSeconds(30)), Signal("shop", "m", "d-1", T0.AddSeconds(20))], []));
        await store.CommitAsync(Batch([], [Signal("shop", "a", "d-1", T0.AddSeconds(10))], []));
        await store.CommitAsync(Batch([], [Signal("shop", "b", "d-1", T0.AddSeconds(5)), Signal("shop", "0", "d-1", T0)], []));

        var signals = await store.GetSignalsAsync("shop", "d-1");
        Assert.Equal(["z", "m", "a", "b", "0"], signals.Select(s => s.SignalId));
    }

    // ---------------------------------------------------------------- lookups

    [Fact]
    public async Task FindDecisionsAsync_MoreThanThousandIds_ReturnsOnlyExisting()
    {
        var store = await OpenAsync();
        var batch = new StoreBatch();
        for (var i = 0; i < 1_500; i++)
        {
            batch.Decisions.Add(SmallDecision("shop", $"d-{i}", T0.AddSeconds(i)));
        }
        batch.Decisions.Add(SmallDecision("other", "x-1", T0));
        await store.CommitAsync(batch);

        var query = Enumerable.Range(0, 10_000).Select(i => i % 2 == 0 ? $"d-{i / 2}" : $"missing-{i}")
            .Append("d-0").Append("x-1").ToList();
        var found = await store.FindDecisionsAsync("shop", query);

        Assert.Equal(1_500, found.Count);
        Assert.All(Enumerable.Range(0, 1_500), i => Assert.Contains($"d-{i}", found));
        Assert.DoesNotContain("x-1", found);
        Assert.Empty(await store.FindDecisionsAsync("shop", []));
        Assert.Equal(["x-1"], await store.FindDecisionsAsync("other", ["x-1", "d-1"]));
    }

    [Fact]
    public async Task FindSignalsAsync_MoreThanThousandIds_ReturnsOnlyExisting()
    {
        var store = await OpenAsync();
        var batch = new StoreBatch();
        batch.Decisions.Add(SmallDecision("shop", "d-1", T0));
        for (var i = 0; i < 2_500; i++)
        {
            batch.Signals.Add(Signal("shop", $"s-{i}", i % 3 == 0 ? null : "d-1", T0.AddSeconds(i)));
        }
        batch.Signals.Add(Signal("other", "s-other", null, T0));
        await store.CommitAsync(batch);

        var query = Enumerable.Range(0, 5_000).Select(i => $"s-{i}").Append("s-other").ToList();
        var found = await store.FindSignalsAsync("shop", query);

        Assert.Equal(2_500, found.Count);
        Assert.Contains("s-0", found);
        Assert.Contains("s-2499", found);
        Assert.DoesNotContain("s-2500", found);
        Assert.DoesNotContain("s-other", found);
        Assert.Empty(await store.FindSignalsAsync("shop", []));
    }

    // ---------------------------------------------------------------- open decisions

    [Fact]
    public async Task ReadOpenDecisionsAsync_MixedLog_ReturnsUnrewardedOldestFirstWithNonLateSignalsInArrivalOrder()
    {
        var store = await OpenAsync();
        await store.CommitAsync(Batch(
            [
                RichDecision("shop", "d1", T0.AddSeconds(2)),
                SmallDecision("shop", "d2", T0.AddSeconds(1)),
                SmallDecision("shop", "d3", T0.AddSeconds(1)),
                SmallDecision("shop", "d4", T0),
                SmallDecision("shop", "d5", T0.AddSeconds(3)),
                SmallDecision("other", "d1", T0),
            ],
            [
                Signal("shop", "s1", "d1", T0.AddSeconds(4)),
                Signal("shop", "s2", "d3", T0.AddSeconds(4)) with { Late = true },
                Signal("shop", "s4", "d4", T0.AddSeconds(4)),
                Signal("shop", "s5", "ghost", T0.AddSeconds(4)) with { Orphaned = true },
                Signal("other", "s6", "d1", T0.AddSeconds(4)),
            ],
            [Reward("shop", "d4", 1)]));
        await store.CommitAsync(Batch([], [Signal("shop", "s7", "d3", T0.AddSeconds(5)), Signal("shop", "s0", "d1", T0)], []));

        var open = await ToListAsync(store.ReadOpenDecisionsAsync("shop"));

        Assert.Equal(["d2", "d3", "d1", "d5"], open.Select(o => o.Decision.DecisionId));
        AssertSameDecision(RichDecision("shop", "d1", T0.AddSeconds(2)), open[2].Decision);
        Assert.Empty(open[0].Signals);
        Assert.Equal(["s7"], open[1].Signals.Select(s => s.SignalId));
        Assert.Equal(["s1", "s0"], open[2].Signals.Select(s => s.SignalId));
        Assert.Empty(open[3].Signals);
        Assert.All(open.SelectMany(o => o.Signals), s => Assert.Equal("shop", s.Loop));

        await store.CommitAsync(Batch([], [], [Reward("shop", "d2", 2), Reward("shop", "d1", 3)]));
        var stillOpen = await ToListAsync(store.ReadOpenDecisionsAsync("shop"));
        Assert.Equal(["d3", "d5"], stillOpen.Select(o => o.Decision.DecisionId));
    }

    [Fact]
    public async Task ReadOpenDecisionsAsync_ThousandsOfDecisions_ReturnsEachWithItsSignals()
    {
        var store = await OpenAsync();
        var batch = new StoreBatch();
        for (var i = 0; i < 3_000; i++)
        {
            batch.Decisions.Add(SmallDecision("shop", $"d-{i}", T0.AddMilliseconds(i)));
            for (var k = 0; k < i % 3; k++)
            {
                batch.Signals.Add(Signal("shop", $"s-{i}-{k}", $"d-{i}", T0.AddMilliseconds(i + k)));
            }
            if (i % 10 == 0)
            {
                batch.Rewards.Add(Reward("shop", $"d-{i}", (i / 10) + 1));
            }
        }
        await store.CommitAsync(batch);

        var open = await ToListAsync(store.ReadOpenDecisionsAsync("shop"));

        Assert.Equal(2_700, open.Count);
        foreach (var (decision, signals) in open)
        {
            var i = int.Parse(decision.DecisionId.AsSpan(2), provider: null);
            Assert.NotEqual(0, i % 10);
            Assert.Equal(Enumerable.Range(0, i % 3).Select(k => $"s-{i}-{k}"), signals.Select(s => s.SignalId));
        }
        Assert.Equal(open.Select(o => o.Decision.At).Order(), open.Select(o => o.Decision.At));
    }

    // ---------------------------------------------------------------- rewards

    [Fact]
    public async Task ReadRewardsAsync_AfterSequence_ReturnsLaterRewardsInSequenceOrderWithDecisions()
    {
        var store = await OpenAsync();
        var decisions = Enumerable.Range(1, 6).Select(i => SmallDecision("shop", $"d{i}", T0.AddSeconds(-i))).ToList();
        decisions.Add(SmallDecision("other", "d1", T0));
        await store.CommitAsync(Batch(decisions, [], [Reward("shop", "d2", 2), Reward("shop", "d1", 1), Reward("other", "d1", 7)]));
        await store.CommitAsync(Batch([], [], [Reward("shop", "d5", 3), Reward("shop", "d3", 5), Reward("shop", "d4", 4)]));

        var all = await ToListAsync(store.ReadRewardsAsync("shop", 0));
        Assert.Equal([1L, 2, 3, 4, 5], all.Select(r => r.Reward.Sequence));
        Assert.All(all, r => Assert.Equal(r.Reward.DecisionId, r.Decision.DecisionId));
        AssertSameDecision(decisions[4], all[2].Decision);
        AssertSameReward(Reward("shop", "d5", 3), all[2].Reward);

        var later = await ToListAsync(store.ReadRewardsAsync("shop", 2));
        Assert.Equal(["d5", "d4", "d3"], later.Select(r => r.Decision.DecisionId));
        Assert.Empty(await ToListAsync(store.ReadRewardsAsync("shop", 5)));

        Assert.Equal(5, await store.GetLastRewardSequenceAsync("shop"));
        Assert.Equal(7, await store.GetLastRewardSequenceAsync("other"));
        Assert.Equal(0, await store.GetLastRewardSequenceAsync("none"));
    }

    [Fact]
    public async Task ReadRewardsAsync_StoppedEarly_LeavesStoreUsable()
    {
        var store = await OpenAsync();
        var batch = new StoreBatch();
        for (var i = 1; i <= 100; i++)
        {
            batch.Decisions.Add(SmallDecision("shop", $"d{i}", T0));
            batch.Rewards.Add(Reward("shop", $"d{i}", i));
        }
        await store.CommitAsync(batch);

        var seen = 0;
        await foreach (var (_, reward) in store.ReadRewardsAsync("shop", 10))
        {
            Assert.Equal(11 + seen, reward.Sequence);
            if (++seen == 5)
            {
                break;
            }
        }

        await store.CommitAsync(Batch([SmallDecision("shop", "late", T0)], [], [Reward("shop", "late", 101)]));
        Assert.Equal(101, await store.GetLastRewardSequenceAsync("shop"));
    }

    // ---------------------------------------------------------------- snapshots

    [Fact]
    public async Task SaveSnapshotAsync_Replaced_LoadSnapshotReturnsLatestBytes()
    {
        var store = await OpenAsync();
        var first = new ModelSnapshotRecord { Loop = "shop", Version = 1, LearnedThrough = 10, CreatedAt = T0, Data = [1, 2, 3] };
        await store.SaveSnapshotAsync(first);
        await store.SaveSnapshotAsync(first with { Loop = "other", Data = [] });

        var data = new byte[100_000];
        new Random(42).NextBytes(data);
        var second = new ModelSnapshotRecord { Loop = "shop", Version = 2, LearnedThrough = 1_234_567_890_123, CreatedAt = T0.AddTicks(1), Data = data };
        await store.SaveSnapshotAsync(second);

        var loaded = await store.LoadSnapshotAsync("shop");
        Assert.NotNull(loaded);
        Assert.Equal("shop", loaded.Loop);
        Assert.Equal(2, loaded.Version);
        Assert.Equal(1_234_567_890_123, loaded.LearnedThrough);
        AssertSameTime(second.CreatedAt, loaded.CreatedAt);
        Assert.Equal(data, loaded.Data);
        Assert.Empty((await store.LoadSnapshotAsync("other"))!.Data);
    }

    // ---------------------------------------------------------------- counts

    [Fact]
    public async Task CountAsync_MixedLog_CountsEachKind()
    {
        var store = await OpenAsync();
        await store.CommitAsync(Batch(
            [SmallDecision("shop", "d1", T0), SmallDecision("shop", "d2", T0), SmallDecision("shop", "d3", T0), SmallDecision("other", "d1", T0)],
            [
                Signal("shop", "s1", "d1", T0),
                Signal("shop", "s2", "d1", T0) with { Late = true },
                Signal("shop", "s3", "d2", T0) with { Late = true },
                Signal("shop", "s4", "x", T0) with { Orphaned = true },
                Signal("shop", "s5", null, T0),
                Signal("other", "s1", "d1", T0) with { Late = true },
            ],
            [Reward("shop", "d1", 1), Reward("shop", "d2", 2), Reward("other", "d1", 1)]));

        Assert.Equal(new LoopCounts(Decisions: 3, Signals: 5, LateSignals: 2, OrphanedSignals: 1, Rewards: 2), await store.CountAsync("shop"));
        Assert.Equal(new LoopCounts(1, 1, 1, 0, 1), await store.CountAsync("other"));
    }

    // ---------------------------------------------------------------- durability and atomicity

    [Fact]
    public async Task DisposeAsync_ThenReopen_EverythingSurvives()
    {
        var store = await OpenAsync();
        await store.SaveLoopAsync(Loop("shop"));
        var decision = RichDecision("shop", "d1", T0);
        var signal = Signal("shop", "s1", "d1", T0.AddSeconds(1));
        await store.CommitAsync(Batch([decision, SmallDecision("shop", "d2", T0)], [signal], [Reward("shop", "d2", 1)]));
        await store.SaveSnapshotAsync(new ModelSnapshotRecord { Loop = "shop", Version = 3, LearnedThrough = 1, CreatedAt = T0, Data = [9, 8, 7] });

        var reopened = await ReopenAsync(store);

        Assert.Equal(["shop"], (await reopened.LoadLoopsAsync()).Select(l => l.Id));
        AssertSameDecision(decision, await reopened.GetDecisionAsync("shop", "d1"));
        AssertSameSignals([signal], await reopened.GetSignalsAsync("shop", "d1"));
        AssertSameReward(Reward("shop", "d2", 1), await reopened.GetRewardAsync("shop", "d2"));
        Assert.Equal(new byte[] { 9, 8, 7 }, (await reopened.LoadSnapshotAsync("shop"))!.Data);
        Assert.Equal(new LoopCounts(2, 1, 0, 0, 1), await reopened.CountAsync("shop"));

        // The reopened store takes writes too.
        await reopened.CommitAsync(Batch([SmallDecision("shop", "d3", T0)], [Signal("shop", "s2", "d3", T0)], []));
        Assert.Equal(new LoopCounts(3, 2, 0, 0, 1), await reopened.CountAsync("shop"));
    }

    [Fact]
    public async Task CommitAsync_DuplicateSignalIdInBatch_ThrowsAndWritesNothingOfTheBatch()
    {
        var store = await OpenAsync();
        await store.CommitAsync(Batch([SmallDecision("shop", "d1", T0)], [Signal("shop", "s1", "d1", T0)], []));

        var failing = Batch(
            [SmallDecision("shop", "d2", T0)],
            [Signal("shop", "s2", "d2", T0), Signal("shop", "s3", "d2", T0), Signal("shop", "s2", "d1", T0)],
            [Reward("shop", "d1", 1)]);
        await Assert.ThrowsAnyAsync<Exception>(async () => await store.CommitAsync(failing));

        Assert.Null(await store.GetDecisionAsync("shop", "d2"));
        Assert.Empty(await store.FindSignalsAsync("shop", ["s2", "s3"]));
        Assert.Null(await store.GetRewardAsync("shop", "d1"));
        Assert.Equal(new LoopCounts(1, 1, 0, 0, 0), await store.CountAsync("shop"));
        AssertSameSignals([Signal("shop", "s1", "d1", T0)], await store.GetSignalsAsync("shop", "d1"));

        // The store stays usable: the corrected batch goes through.
        await store.CommitAsync(Batch([SmallDecision("shop", "d2", T0)], [Signal("shop", "s2", "d2", T0), Signal("shop", "s3", "d2", T0)], [Reward("shop", "d1", 1)]));
        Assert.Equal(new LoopCounts(2, 3, 0, 0, 1), await store.CountAsync("shop"));
    }

    [Fact]
    public async Task CommitAsync_IdsAlreadyStored_ThrowsAndKeepsEarlierCommits()
    {
        var store = await OpenAsync();
        await store.CommitAsync(Batch([SmallDecision("shop", "d1", T0)], [Signal("shop", "s1", "d1", T0)], [Reward("shop", "d1", 1)]));

        await Assert.ThrowsAnyAsync<Exception>(async () =>
            await store.CommitAsync(Batch([SmallDecision("shop", "d2", T0)], [Signal("shop", "s1", "d2", T0)], [])));
        await Assert.ThrowsAnyAsync<Exception>(async () =>
            await store.CommitAsync(Batch([SmallDecision("shop", "d3", T0), SmallDecision("shop", "d1", T0)], [], [])));
        await Assert.ThrowsAnyAsync<Exception>(async () =>
            await store.CommitAsync(Batch([SmallDecision("shop", "d4", T0)], [], [Reward("shop", "d4", 1)])));

        Assert.Equal(new LoopCounts(1, 1, 0, 0, 1), await store.CountAsync("shop"));
        Assert.Empty(await store.FindDecisionsAsync("shop", ["d2", "d3", "d4"]));
    }

    // ---------------------------------------------------------------- builders

    /// <summary>A minimal valid loop config.</summary>
    protected static LoopConfig Loop(string id) => new()
    {
        Id = id,
        Signals = new Dictionary<string, SignalTypeConfig>
        {
            ["click"] = new() { Weight = 1 },
            ["purchase"] = new() { Kind = SignalKind.Explicit, Weight = 0.1, ClosesWindow = true },
        },
    };

    /// <summary>A decision whose features use every value kind and awkward doubles.</summary>
    protected static DecisionRecord RichDecision(string loop, string id, DateTimeOffset at) => new()
    {
        Loop = loop,
        DecisionId = id,
        At = at,
        UserId = "user-ü-42",
        Context = new Features
        {
            ["user"] = { ["country"] = "fr", ["tenure"] = 0.1, ["tiny"] = 1e-300, ["huge"] = -1.7976931348623157e308, ["vip"] = true, ["tags"] = new[] { "a", "b \"quoted\"", "ñ" } },
            ["page"] = { ["n"] = -3, ["mobile"] = false, ["empty_tags"] = Array.Empty<string>(), ["third"] = 1.0 / 3 },
        },
        Actions =
        [
            new ActionCandidate("a1", new Features { ["item"] = { ["price"] = 9.99, ["cat"] = "shoes", ["new"] = true } }),
            new ActionCandidate("a2", new Features { ["item"] = { ["price"] = 0.30000000000000004 } }),
            new ActionCandidate("a3"),
        ],
        BaselineActionId = "a2",
        ChosenActionId = "a1",
        Explored = true,
        Ranking = [new RankedAction("a1", 0.1), new RankedAction("a2", 0.9 - 1e-300), new RankedAction("a3", 1e-300)],
        ModelVersion = 7,
    };

    /// <summary>A small decision.</summary>
    protected static DecisionRecord SmallDecision(string loop, string id, DateTimeOffset at) => new()
    {
        Loop = loop,
        DecisionId = id,
        At = at,
        Context = new Features { ["user"] = { ["country"] = "de" } },
        Actions = [new ActionCandidate("a1"), new ActionCandidate("a2")],
        ChosenActionId = "a1",
        Explored = false,
        Ranking = [new RankedAction("a1", 0.95), new RankedAction("a2", 0.05)],
        ModelVersion = 1,
    };

    /// <summary>A click signal received one second after it happened.</summary>
    protected static SignalRecord Signal(string loop, string id, string? decisionId, DateTimeOffset at) => new()
    {
        Loop = loop,
        SignalId = id,
        DecisionId = decisionId,
        Type = "click",
        Value = 1,
        At = at,
        ReceivedAt = at.AddSeconds(1),
    };

    /// <summary>A reward closed by timeout.</summary>
    protected static RewardRecord Reward(string loop, string decisionId, long sequence) => new()
    {
        Loop = loop,
        DecisionId = decisionId,
        Sequence = sequence,
        Reward = sequence * 0.1,
        SignalCount = (int)(sequence % 4),
        ClosedAt = T0.AddMinutes(sequence),
        ClosedBy = WindowClose.Timeout,
    };

    /// <summary>A batch of the given records.</summary>
    protected static StoreBatch Batch(IEnumerable<DecisionRecord> decisions, IEnumerable<SignalRecord> signals, IEnumerable<RewardRecord> rewards)
    {
        var batch = new StoreBatch();
        batch.Decisions.AddRange(decisions);
        batch.Signals.AddRange(signals);
        batch.Rewards.AddRange(rewards);
        return batch;
    }

    /// <summary>Drains an async sequence.</summary>
    protected static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> source)
    {
        var list = new List<T>();
        await foreach (var item in source)
        {
            list.Add(item);
        }
        return list;
    }

    // ---------------------------------------------------------------- assertions

    /// <summary>Same instant to the tick, returned in UTC.</summary>
    protected static void AssertSameTime(DateTimeOffset expected, DateTimeOffset actual)
    {
        Assert.Equal(expected.UtcTicks, actual.UtcTicks);
        Assert.Equal(TimeSpan.Zero, actual.Offset);
    }

    /// <summary>Every field equal, doubles bit for bit.</summary>
    protected static void AssertSameDecision(DecisionRecord expected, DecisionRecord? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.Loop, actual.Loop);
        Assert.Equal(expected.DecisionId, actual.DecisionId);
        AssertSameTime(expected.At, actual.At);
        Assert.Equal(expected.UserId, actual.UserId);
        AssertSameFeatures(expected.Context, actual.Context);
        Assert.Equal(expected.Actions.Count, actual.Actions.Count);
        for (var i = 0; i < expected.Actions.Count; i++)
        {
            Assert.Equal(expected.Actions[i].Id, actual.Actions[i].Id);
            AssertSameFeatures(expected.Actions[i].Features, actual.Actions[i].Features);
        }
        Assert.Equal(expected.BaselineActionId, actual.BaselineActionId);
        Assert.Equal(expected.ChosenActionId, actual.ChosenActionId);
        Assert.Equal(expected.Explored, actual.Explored);
        Assert.Equal(expected.Ranking.Count, actual.Ranking.Count);
        for (var i = 0; i < expected.Ranking.Count; i++)
        {
            Assert.Equal(expected.Ranking[i].ActionId, actual.Ranking[i].ActionId);
            Assert.Equal(BitConverter.DoubleToInt64Bits(expected.Ranking[i].Probability), BitConverter.DoubleToInt64Bits(actual.Ranking[i].Probability));
            Assert.Equal(expected.Ranking[i].Slot, actual.Ranking[i].Slot);
        }
        Assert.Equal(expected.Intervened, actual.Intervened);
        Assert.Equal(expected.TimeZone, actual.TimeZone);
        Assert.Equal(expected.Shadows, actual.Shadows);
        Assert.Equal(expected.ModelVersion, actual.ModelVersion);
    }

    /// <summary>Same namespaces and features in the same order, numbers bit for bit.</summary>
    protected static void AssertSameFeatures(Features expected, Features actual)
    {
        Assert.Equal(expected.Select(n => n.Key), actual.Select(n => n.Key));
        foreach (var ((name, ns), (_, actualNs)) in expected.Zip(actual))
        {
            Assert.Equal(ns.Select(f => f.Key), actualNs.Select(f => f.Key));
            foreach (var ((feature, value), (_, actualValue)) in ns.Zip(actualNs))
            {
                Assert.True(value.Kind == actualValue.Kind, $"{name}.{feature}: kind {value.Kind} became {actualValue.Kind}");
                Assert.Equal(BitConverter.DoubleToInt64Bits(value.Number), BitConverter.DoubleToInt64Bits(actualValue.Number));
                Assert.Equal(value.Text, actualValue.Text);
                Assert.Equal(value.Strings, actualValue.Strings);
            }
        }
    }

    /// <summary>Same signals in the same order, every field exact.</summary>
    protected static void AssertSameSignals(IReadOnlyList<SignalRecord> expected, IReadOnlyList<SignalRecord> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i], actual[i]);
            AssertSameTime(expected[i].At, actual[i].At);
            AssertSameTime(expected[i].ReceivedAt, actual[i].ReceivedAt);
            Assert.Equal(BitConverter.DoubleToInt64Bits(expected[i].Value), BitConverter.DoubleToInt64Bits(actual[i].Value));
        }
    }

    /// <summary>Same reward, every field exact.</summary>
    protected static void AssertSameReward(RewardRecord expected, RewardRecord? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected with { Slots = null }, actual with { Slots = null });
        Assert.Equal(expected.Slots, actual.Slots);
        AssertSameTime(expected.ClosedAt, actual.ClosedAt);
        Assert.Equal(BitConverter.DoubleToInt64Bits(expected.Reward), BitConverter.DoubleToInt64Bits(actual.Reward));
    }
}

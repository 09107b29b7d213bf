using Flywheel.Core;
using Microsoft.Data.Sqlite;

namespace Flywheel.Storage.Sqlite.Tests;

/// <summary>
/// The health report's narrow reads over SQLite (outcomes, user visits, contexts, reward arrivals), the reward's
/// implicit/explicit counts, and the migration of a version-2 file that backfills those counts.
/// </summary>
public sealed class HealthReadsTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 24, 8, 0, 0, TimeSpan.FromHours(1));

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "flywheel-sqlite-health-tests", Guid.NewGuid().ToString("N"));
    private readonly List<SqliteFlywheelStore> _stores = [];

    private SqliteStoreOptions Options => new() { DataDirectory = _directory };

    private async ValueTask<SqliteFlywheelStore> OpenAsync()
    {
        var store = await SqliteFlywheelStore.OpenAsync(Options);
        _stores.Add(store);
        return store;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    // ---------------------------------------------------------------- outcomes

    [Fact]
    public async Task ReadOutcomesAsync_MixedLog_ReturnsLogOrderWithOpenAndClosedDecisionsAndExploredFlag()
    {
        var store = await OpenAsync();
        // Log order is commit order, not id order.
        await store.CommitAsync(Batch(
            [Decision("shop", "z", T0, user: "u1", version: 3, explored: true), Decision("shop", "a", T0.AddSeconds(1), user: null, version: 4), Decision("other", "o", T0)],
            [],
            [Reward("shop", "z", 1, implicitSignals: 2, explicitSignals: 1)]));
        await store.CommitAsync(Batch(
            [Decision("shop", "m", T0.AddSeconds(2), user: "u2", version: 4, explored: true)],
            [],
            [Reward("shop", "m", 2, implicitSignals: 0, explicitSignals: 3)]));

        var outcomes = await ToListAsync(store.ReadOutcomesAsync("shop"));

        Assert.Equal(3, outcomes.Count);
        var (z, a, m) = (outcomes[0], outcomes[1], outcomes[2]);
        Assert.Equal(T0.UtcTicks, z.At.UtcTicks);
        Assert.Equal(TimeSpan.Zero, z.At.Offset);
        Assert.Equal("u1", z.UserId);
        Assert.Equal(3, z.ModelVersion);
        Assert.True(z.IsClosed);
        Assert.Equal(1, z.RewardSequence);
        Assert.Equal(0.1, z.Reward);
        Assert.Equal(T0.AddMinutes(1).UtcTicks, z.ClosedAt.UtcTicks);
        Assert.Equal((3, 2, 1), (z.Signals, z.ImplicitSignals, z.ExplicitSignals));
        Assert.True(z.Explored);

        Assert.False(a.IsClosed);
        Assert.Null(a.UserId);
        Assert.Equal(4, a.ModelVersion);
        Assert.Equal(T0.AddSeconds(1).UtcTicks, a.At.UtcTicks);
        Assert.Equal((0L, 0.0, default(DateTimeOffset), 0, 0, 0), (a.RewardSequence, a.Reward, a.ClosedAt, a.Signals, a.ImplicitSignals, a.ExplicitSignals));
        Assert.False(a.Explored);

        Assert.True(m.IsClosed);
        Assert.Equal(2, m.RewardSequence);
        Assert.Equal((3, 0, 3), (m.Signals, m.ImplicitSignals, m.ExplicitSignals));
        Assert.True(m.Explored);

        Assert.Single(await ToListAsync(store.ReadOutcomesAsync("other")));
        Assert.Empty(await ToListAsync(store.ReadOutcomesAsync("none")));
    }

    [Fact]
    public async Task ReadOutcomesAsync_DecisionsCommittedOutOfTimeOrder_ReturnsTimeOrderWithTiesByDecisionId()
    {
        var store = await OpenAsync();
        await store.CommitAsync(Batch([Decision("shop", "late", T0.AddMinutes(5)), Decision("shop", "b", T0)], [], []));
        await store.CommitAsync(Batch([Decision("shop", "early", T0.AddMinutes(-5)), Decision("shop", "a", T0)], [], [Reward("shop", "late", 1)]));

        var outcomes = await ToListAsync(store.ReadOutcomesAsync("shop"));

        Assert.Equal(
            [T0.AddMinutes(-5).UtcTicks, T0.UtcTicks, T0.UtcTicks, T0.AddMinutes(5).UtcTicks],
            outcomes.Select(o => o.At.UtcTicks));
        Assert.Equal([false, false, false, true], outcomes.Select(o => o.IsClosed));
    }

    [Fact]
    public async Task ReadOutcomesAsync_DecisionRowDeleted_ItsOutcomeGoesWithIt()
    {
        // Erasure deletes decisions; the narrow outcome rows must not keep what was erased.
        var store = await OpenAsync();
        await store.CommitAsync(Batch([Decision("shop", "keep", T0, user: "u1"), Decision("shop", "gone", T0, user: "u2")], [], [Reward("shop", "gone", 1)]));
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(_directory, "flywheel.db")};Pooling=False"))
        {
            connection.Open();
            Execute(connection, "DELETE FROM decisions WHERE loop = 'shop' AND decision_id = 'gone'");
        }

        var outcomes = await ToListAsync(store.ReadOutcomesAsync("shop"));

        Assert.Equal(["u1"], outcomes.Select(o => o.UserId));
    }

    [Fact]
    public async Task ReadOutcomesAsync_SignalCountsAtTheirCap_ReadBackExactly()
    {
        var store = await OpenAsync();
        const int Cap = (1 << 21) - 1;
        await store.CommitAsync(Batch([Decision("shop", "d", T0, version: int.MaxValue, explored: true)], [], [Reward("shop", "d", 1, implicitSignals: Cap, explicitSignals: 7) with { SignalCount = Cap }]));

        var outcome = Assert.Single(await ToListAsync(store.ReadOutcomesAsync("shop")));

        Assert.Equal((Cap, Cap, 7), (outcome.Signals, outcome.ImplicitSignals, outcome.ExplicitSignals));
        Assert.Equal((int.MaxValue, true), (outcome.ModelVersion, outcome.Explored));
    }

    // ---------------------------------------------------------------- user visits

    [Fact]
    public async Task ReadUserVisitsAsync_MixedSignals_ReturnsOnlyUserLevelSignalsOfTheLoopInArrivalOrder()
    {
        var store = await OpenAsync();
        await store.CommitAsync(Batch(
            [Decision("shop", "d1", T0, user: "u1")],
            [
                Signal("shop", "s1", null, T0.AddHours(2), type: "return_visit", user: "u2"),
                // A decision's signal carries a user too; it is not a visit.
                Signal("shop", "s2", "d1", T0, user: "u1"),
                // No user: nobody to count.
                Signal("shop", "s3", null, T0, type: "return_visit"),
                Signal("other", "s4", null, T0, type: "return_visit", user: "u9"),
            ],
            []));
        await store.CommitAsync(Batch([], [Signal("shop", "s5", null, T0.AddHours(1), type: "return_visit", user: "u1")], []));

        var visits = await ToListAsync(store.ReadUserVisitsAsync("shop"));

        // Arrival order, even though s5 happened before s1.
        Assert.Equal([("u2", T0.AddHours(2).UtcTicks), ("u1", T0.AddHours(1).UtcTicks)], visits.Select(v => (v.UserId, v.At.UtcTicks)));
        Assert.All(visits, v => Assert.Equal(TimeSpan.Zero, v.At.Offset));
        Assert.Equal(["u9"], (await ToListAsync(store.ReadUserVisitsAsync("other"))).Select(v => v.UserId));
    }

    // ---------------------------------------------------------------- contexts

    [Fact]
    public async Task ReadContextsAsync_TimeWindow_SpreadsTheSampleEvenlyOverTheWindowOfThisLoopOnly()
    {
        var store = await OpenAsync();
        for (var i = 0; i < 10; i++)
        {
            await store.CommitAsync(Batch([Decision("shop", $"d{i}", T0.AddHours(i), context: i), Decision("other", $"d{i}", T0.AddHours(i), context: 100 + i)], [], []));
        }

        // Hours 2..9 hold 8 decisions: 4 of them are the middles of 4 equal slices.
        Assert.Equal(new[] { 3.0, 5.0, 7.0, 9.0 }, Numbers(await store.ReadContextsAsync("shop", T0.AddHours(2), T0.AddHours(10), 4)));
        // More asked than there are: all of them, in time order; the end is exclusive.
        Assert.Equal(new[] { 0.0, 1.0, 2.0 }, Numbers(await store.ReadContextsAsync("shop", T0, T0.AddHours(3), 10)));
        Assert.Equal(new[] { 104.0 }, Numbers(await store.ReadContextsAsync("other", T0.AddHours(4), T0.AddHours(5), 10)));
        Assert.Empty(await store.ReadContextsAsync("shop", T0.AddDays(1), T0.AddDays(2), 10));
        Assert.Empty(await store.ReadContextsAsync("shop", T0, T0.AddDays(1), 0));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await store.ReadContextsAsync("shop", T0, T0.AddDays(1), -1));

        static double[] Numbers(IReadOnlyList<Features> contexts) => contexts.Select(c => c["user"]["n"].Number).ToArray();
    }

    // ---------------------------------------------------------------- reward arrivals

    [Fact]
    public async Task ReadRewardArrivalsAsync_Range_ReturnsFirstInWindowArrivalPerRewardAndIgnoresLateSignals()
    {
        var store = await OpenAsync();
        await store.CommitAsync(Batch(
            [Decision("shop", "d1", T0), Decision("shop", "d2", T0), Decision("shop", "d3", T0), Decision("shop", "d4", T0), Decision("shop", "d5", T0)],
            [
                // d1: the first arrival is the second one committed; the late one arrived earliest and does not count.
                Received(Signal("shop", "a", "d1", T0), T0.AddSeconds(30)),
                Received(Signal("shop", "b", "d1", T0), T0.AddSeconds(10)),
                Received(Signal("shop", "c", "d1", T0) with { Late = true }, T0.AddSeconds(1)),
                // d2: only a late signal, so no arrival.
                Received(Signal("shop", "d", "d2", T0) with { Late = true }, T0.AddSeconds(5)),
                Received(Signal("shop", "e", "d3", T0), T0.AddSeconds(40)),
                Received(Signal("shop", "f", "d4", T0), T0.AddSeconds(50)),
                Received(Signal("shop", "g", "d5", T0), T0.AddSeconds(60)),
                // Same decision id in another loop.
                Received(Signal("other", "h", "d1", T0), T0.AddSeconds(2)),
            ],
            [Reward("shop", "d1", 1), Reward("shop", "d2", 2), Reward("shop", "d3", 3), Reward("shop", "d4", 4), Reward("shop", "d5", 5), Reward("other", "d1", 1)]));

        var all = await store.ReadRewardArrivalsAsync("shop", 0, 5);
        var middle = await store.ReadRewardArrivalsAsync("shop", 2, 4);

        Assert.Equal([(1L, T0.AddSeconds(10).UtcTicks), (3L, T0.AddSeconds(40).UtcTicks), (4L, T0.AddSeconds(50).UtcTicks), (5L, T0.AddSeconds(60).UtcTicks)],
            all.Select(r => (r.Sequence, r.FirstSignalAt.UtcTicks)));
        Assert.All(all, r => Assert.Equal(TimeSpan.Zero, r.FirstSignalAt.Offset));
        Assert.Equal([3L, 4L], middle.Select(r => r.Sequence));
        Assert.Empty(await store.ReadRewardArrivalsAsync("shop", 5, 10));
        Assert.Equal([(1L, T0.AddSeconds(2).UtcTicks)], (await store.ReadRewardArrivalsAsync("other", 0, 1)).Select(r => (r.Sequence, r.FirstSignalAt.UtcTicks)));
    }

    // ---------------------------------------------------------------- kind counts

    [Fact]
    public async Task CommitAsync_RewardWithKindCounts_RoundTripsImplicitAndExplicitSignals()
    {
        var store = await OpenAsync();
        var reward = Reward("shop", "d1", 1, implicitSignals: 5, explicitSignals: 2) with { SignalCount = 7 };
        await store.CommitAsync(Batch([Decision("shop", "d1", T0), Decision("shop", "d2", T0)], [], [reward, Reward("shop", "d2", 2)]));
        await store.DisposeAsync();
        store = await OpenAsync();

        var stored = await store.GetRewardAsync("shop", "d1");
        var read = await ToListAsync(store.ReadRewardsAsync("shop", 0));

        Assert.Equal(reward, stored);
        Assert.Equal((5, 2), (stored!.ImplicitSignals, stored.ExplicitSignals));
        Assert.Equal([(5, 2), (0, 0)], read.Select(r => (r.Reward.ImplicitSignals, r.Reward.ExplicitSignals)));
    }

    // ---------------------------------------------------------------- migration

    [Fact]
    public async Task OpenAsync_VersionTwoFile_MigratesToCurrentVersionAndBackfillsKindCountsByEachLoopsConfig()
    {
        CreateVersionTwoFile();

        var store = await OpenAsync();

        Assert.Equal((long)SqliteFlywheelStore.SchemaVersion, await store.ReadWriterPragmaAsync("user_version"));
        Assert.Equal(10, SqliteFlywheelStore.SchemaVersion);
        // shop: click and skip are implicit, thumbs explicit; other: click is explicit.
        Assert.Equal(
            [("other", "d1", 0, 1), ("shop", "d1", 1, 1), ("shop", "d2", 0, 1), ("shop", "d3", 2, 0), ("shop", "d5", 0, 0)],
            ReadKindCounts(Path.Combine(_directory, "flywheel.db")));
        var outcomes = await ToListAsync(store.ReadOutcomesAsync("shop"));
        Assert.Equal(
            [(1L, 2, 1, 1, false), (2L, 1, 0, 1, true), (3L, 2, 2, 0, false), (0L, 0, 0, 0, false), (4L, 0, 0, 0, false)],
            outcomes.Select(o => (o.RewardSequence, o.Signals, o.ImplicitSignals, o.ExplicitSignals, o.Explored)));
        var reward = await store.GetRewardAsync("shop", "d1");
        Assert.Equal((1, 1), (reward!.ImplicitSignals, reward.ExplicitSignals));
        Assert.Equal(["u1"], (await ToListAsync(store.ReadUserVisitsAsync("shop"))).Select(v => v.UserId));
        Assert.Equal(new LoopCounts(Decisions: 5, Signals: 10, LateSignals: 2, OrphanedSignals: 1, Rewards: 4), await store.CountAsync("shop"));
        Assert.Equal(new LoopCounts(1, 1, 0, 0, 1), await store.CountAsync("other"));
        // The old rows still read back whole.
        Assert.Equal("de", (await store.GetDecisionAsync("shop", "d1"))!.Context["user"]["country"].Text);

        // New commits after the migration count as before.
        await store.CommitAsync(Batch([], [Signal("shop", "n1", "d4", T0) with { Late = true }, Signal("shop", "n2", "zz", T0) with { Orphaned = true }], []));
        Assert.Equal(new LoopCounts(5, 12, 3, 2, 4), await store.CountAsync("shop"));

        // The outcome rows the migration built go on tracking new decisions and rewards.
        await store.CommitAsync(Batch([Decision("shop", "d6", T0.AddHours(1), user: "u3", version: 2)], [], [Reward("shop", "d4", 5, implicitSignals: 1, explicitSignals: 0)]));
        await store.CommitAsync(Batch([], [], [Reward("shop", "d6", 6, implicitSignals: 0, explicitSignals: 2)]));
        outcomes = await ToListAsync(store.ReadOutcomesAsync("shop"));
        Assert.Equal(
            [(1L, "u1", 1), (2L, "u1", 1), (3L, "u1", 1), (5L, "u1", 1), (4L, "u1", 1), (6L, "u3", 2)],
            outcomes.Select(o => (o.RewardSequence, o.UserId, o.ModelVersion)));
        Assert.Equal((2, 0, 2), (outcomes[5].Signals, outcomes[5].ImplicitSignals, outcomes[5].ExplicitSignals));
    }

    [Fact]
    public async Task OpenAsync_VersionTwoFileWithASignalTypeNoLongerInTheConfig_StillBackfillsEveryOtherReward()
    {
        // d1's only signal is of a type since dropped from the config: the backfill finds no kind for it and, like the
        // Joiner, counts it as neither. d2's signal is of a declared explicit type and must still be counted.
        Directory.CreateDirectory(_directory);
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(_directory, "flywheel.db")};Pooling=False"))
        {
            connection.Open();
            Execute(connection, SqliteSchema.CreateVersion1);
            Execute(connection, SqliteSchema.CreateVersion2);
            Execute(connection, "PRAGMA user_version = 2;");
            var config = new LoopConfig
            {
                Id = "shop",
                Signals = new Dictionary<string, SignalTypeConfig> { ["click"] = new() { Weight = 1 }, ["thumbs"] = new() { Kind = SignalKind.Explicit, Weight = 1 } },
            };
            Execute(connection, "INSERT INTO loops (id, config, updated_at) VALUES ('shop', $a, 0)", LoopConfigJson.Serialize(config));
            foreach (var (id, seq, type) in new[] { ("d1", 1L, "retired"), ("d2", 2L, "thumbs") })
            {
                Execute(connection, """
                    INSERT INTO decisions (loop, decision_id, at, user_id, context, actions, baseline_action_id, chosen_action_id, explored, ranking, model_version, shadows)
                    VALUES ('shop', $a, $b, NULL, '{"user":{"country":"de"}}', '[{"id":"a1"}]', NULL, 'a1', 0, '[{"actionId":"a1","probability":1}]', 1, NULL)
                    """, id, T0.UtcTicks);
                Execute(connection, """
                    INSERT INTO signals (seq, loop, signal_id, decision_id, user_id, type, value, at, received_at, late, orphaned)
                    VALUES ($a, 'shop', $b, $c, NULL, $d, 1.0, $e, $e, 0, 0)
                    """, seq, $"s{seq}", id, type, T0.UtcTicks);
                Execute(connection, "INSERT INTO rewards (loop, decision_id, seq, reward, signal_count, closed_at, closed_by) VALUES ('shop', $a, $b, 1.0, 1, $c, 'timeout')",
                    id, seq, T0.UtcTicks);
            }
        }

        var store = await OpenAsync();

        Assert.Equal((long)SqliteFlywheelStore.SchemaVersion, await store.ReadWriterPragmaAsync("user_version"));
        Assert.Equal([("shop", "d1", 0, 0), ("shop", "d2", 0, 1)], ReadKindCounts(Path.Combine(_directory, "flywheel.db")));
    }

    [Fact]
    public async Task CountAsync_LateAndOrphanedSignals_CountedPerLoop()
    {
        var store = await OpenAsync();
        await store.CommitAsync(Batch(
            [Decision("shop", "d1", T0), Decision("shop", "d2", T0)],
            [
                Signal("shop", "s1", "d1", T0),
                Signal("shop", "s2", "d1", T0) with { Late = true },
                Signal("shop", "s3", "d2", T0) with { Late = true },
                Signal("shop", "s4", "gone", T0) with { Orphaned = true },
                Signal("shop", "s5", "gone2", T0) with { Orphaned = true },
                Signal("shop", "s6", null, T0, type: "return_visit", user: "u1"),
                Signal("other", "s1", "x", T0) with { Orphaned = true },
                Signal("other", "s2", "y", T0) with { Late = true },
            ],
            [Reward("shop", "d1", 1)]));

        Assert.Equal(new LoopCounts(Decisions: 2, Signals: 6, LateSignals: 2, OrphanedSignals: 2, Rewards: 1), await store.CountAsync("shop"));
        Assert.Equal(new LoopCounts(0, 2, 1, 1, 0), await store.CountAsync("other"));
        Assert.Equal(new LoopCounts(0, 0, 0, 0, 0), await store.CountAsync("none"));
    }

    /// <summary>
    /// A version-2 file written by hand: two loops (shop: click and skip implicit, thumbs explicit; other: click
    /// explicit), decisions, in-window, late, orphaned and user-level signals, and rewards without kind counts.
    /// </summary>
    private void CreateVersionTwoFile()
    {
        Directory.CreateDirectory(_directory);
        using var connection = new SqliteConnection($"Data Source={Path.Combine(_directory, "flywheel.db")};Pooling=False");
        connection.Open();
        Execute(connection, SqliteSchema.CreateVersion1);
        Execute(connection, SqliteSchema.CreateVersion2);
        Execute(connection, "PRAGMA user_version = 2;");

        var shop = new LoopConfig
        {
            Id = "shop",
            Signals = new Dictionary<string, SignalTypeConfig>
            {
                ["click"] = new() { Kind = SignalKind.Implicit, Weight = 1 },
                ["skip"] = new() { Weight = -1, ClosesWindow = true },
                ["thumbs"] = new() { Kind = SignalKind.Explicit, Weight = 1 },
            },
        };
        var other = new LoopConfig
        {
            Id = "other",
            Signals = new Dictionary<string, SignalTypeConfig> { ["click"] = new() { Kind = SignalKind.Explicit, Weight = 1 } },
        };
        foreach (var config in new[] { shop, other })
        {
            Execute(connection, "INSERT INTO loops (id, config, updated_at) VALUES ($a, $b, 0)", config.Id, LoopConfigJson.Serialize(config));
        }
        foreach (var (loop, id, explored) in new[] { ("shop", "d1", false), ("shop", "d2", true), ("shop", "d3", false), ("shop", "d4", false), ("shop", "d5", false), ("other", "d1", false) })
        {
            Execute(connection, """
                INSERT INTO decisions (loop, decision_id, at, user_id, context, actions, baseline_action_id, chosen_action_id, explored, ranking, model_version, shadows)
                VALUES ($a, $b, $c, 'u1', '{"user":{"country":"de"}}', '[{"id":"a1"},{"id":"a2"}]', NULL, 'a1', $d, '[{"actionId":"a1","probability":0.5},{"actionId":"a2","probability":0.5}]', 1, NULL)
                """, loop, id, T0.UtcTicks, explored ? 1L : 0L);
        }
        var seq = 0L;
        foreach (var (loop, decision, type, late, orphaned, user) in new (string, string?, string, bool, bool, string?)[]
        {
            ("shop", "d1", "click", false, false, null),
            ("shop", "d1", "thumbs", false, false, null),
            ("shop", "d1", "click", true, false, null), // late: not counted
            ("shop", "d2", "thumbs", false, false, null),
            ("shop", "d3", "click", false, false, null),
            ("shop", "d3", "skip", false, false, null),
            ("shop", "d4", "click", false, false, null), // open decision
            ("shop", "d5", "thumbs", true, false, null), // only a late signal
            ("shop", "gone", "click", false, true, null),
            ("shop", null, "click", false, false, "u1"), // user-level
            ("other", "d1", "click", false, false, null),
        })
        {
            seq++;
            Execute(connection, """
                INSERT INTO signals (seq, loop, signal_id, decision_id, user_id, type, value, at, received_at, late, orphaned)
                VALUES ($a, $b, $c, $d, $e, $f, 1.0, $g, $g, $h, $i)
                """, seq, loop, $"s{seq}", decision, user, type, T0.UtcTicks, late ? 1L : 0L, orphaned ? 1L : 0L);
        }
        foreach (var (loop, decision, sequence, count) in new[] { ("shop", "d1", 1L, 2L), ("shop", "d2", 2L, 1L), ("shop", "d3", 3L, 2L), ("shop", "d5", 4L, 0L), ("other", "d1", 1L, 1L) })
        {
            Execute(connection, """
                INSERT INTO rewards (loop, decision_id, seq, reward, signal_count, closed_at, closed_by)
                VALUES ($a, $b, $c, 0.5, $d, $e, 'timeout')
                """, loop, decision, sequence, count, T0.AddMinutes(10).UtcTicks);
        }
    }

    private static List<(string, string, int, int)> ReadKindCounts(string path)
    {
        using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT loop, decision_id, implicit_signals, explicit_signals FROM rewards ORDER BY loop, decision_id";
        using var reader = command.ExecuteReader();
        var rows = new List<(string, string, int, int)>();
        while (reader.Read())
        {
            rows.Add((reader.GetString(0), reader.GetString(1), reader.GetInt32(2), reader.GetInt32(3)));
        }
        return rows;
    }

    private static void Execute(SqliteConnection connection, string sql, params object?[] values)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters.AddWithValue("$" + (char)('a' + i), values[i] ?? DBNull.Value);
        }
        command.ExecuteNonQuery();
    }

    // ---------------------------------------------------------------- builders

    private static DecisionRecord Decision(string loop, string id, DateTimeOffset at, string? user = null, int version = 1, bool explored = false, double context = 0) => new()
    {
        Loop = loop,
        DecisionId = id,
        At = at,
        UserId = user,
        Context = new Features { ["user"] = { ["n"] = context } },
        Actions = [new ActionCandidate("a1"), new ActionCandidate("a2")],
        ChosenActionId = explored ? "a2" : "a1",
        Explored = explored,
        Ranking = [new RankedAction("a1", 0.9), new RankedAction("a2", 0.1)],
        ModelVersion = version,
    };

    private static SignalRecord Signal(string loop, string id, string? decisionId, DateTimeOffset at, string type = "click", string? user = null) => new()
    {
        Loop = loop,
        SignalId = id,
        DecisionId = decisionId,
        UserId = user,
        Type = type,
        Value = 1,
        At = at,
        ReceivedAt = at.AddSeconds(1),
    };

    private static SignalRecord Received(SignalRecord signal, DateTimeOffset receivedAt) => signal with { ReceivedAt = receivedAt };

    private static RewardRecord Reward(string loop, string decisionId, long sequence, int implicitSignals = 0, int explicitSignals = 0) => new()
    {
        Loop = loop,
        DecisionId = decisionId,
        Sequence = sequence,
        Reward = sequence * 0.1,
        SignalCount = implicitSignals + explicitSignals,
        ImplicitSignals = implicitSignals,
        ExplicitSignals = explicitSignals,
        ClosedAt = T0.AddMinutes(sequence),
        ClosedBy = WindowClose.Timeout,
    };

    private static StoreBatch Batch(IEnumerable<DecisionRecord> decisions, IEnumerable<SignalRecord> signals, IEnumerable<RewardRecord> rewards)
    {
        var batch = new StoreBatch();
        batch.Decisions.AddRange(decisions);
        batch.Signals.AddRange(signals);
        batch.Rewards.AddRange(rewards);
        return batch;
    }

    private static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> source)
    {
        var list = new List<T>();
        await foreach (var item in source)
        {
            list.Add(item);
        }
        return list;
    }
}

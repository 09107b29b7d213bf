using Flywheel.Core;
using Microsoft.Data.Sqlite;

namespace Flywheel.Storage.Sqlite.Tests;

/// <summary>Generation loops' reads over SQLite (outputs, generations) and the migration of a version-9 file.</summary>
public sealed class GenerationStoreTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 24, 8, 0, 0, TimeSpan.Zero);

    private static readonly PromptMessage[] Prompt = [new("system", "Summarise."), new("user", "Rivers, at length.")];

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "flywheel-sqlite-generation-tests", Guid.NewGuid().ToString("N"));
    private readonly List<SqliteFlywheelStore> _stores = [];

    private async ValueTask<SqliteFlywheelStore> OpenAsync()
    {
        var store = await SqliteFlywheelStore.OpenAsync(new SqliteStoreOptions { DataDirectory = _directory });
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

    [Fact]
    public async Task GetOutputAsync_StoredOutput_ReadsBackWhole()
    {
        var store = await OpenAsync();
        var output = Output("d1", "Rivers flow to the sea. 🌊", replaces: "d0");
        var batch = Batch([Decision("d0", T0), Decision("d1", T0.AddSeconds(1))]);
        batch.Outputs.Add(output);
        await store.CommitAsync(batch);

        var read = await store.GetOutputAsync("gen", "d1");

        Assert.NotNull(read);
        Assert.Equal((output.Loop, output.DecisionId, output.Text, output.Replaces, output.RecordedAt), (read.Loop, read.DecisionId, read.Text, read.Replaces, read.RecordedAt));
        Assert.Equal(Prompt, read.Messages);
        Assert.Null(await store.GetOutputAsync("gen", "d0"));
        Assert.Null(await store.GetOutputAsync("other", "d1"));
    }

    [Fact]
    public async Task ReadGenerationsAsync_MixedLog_DecisionsWithOutputOrGenerationSignalsInTimeOrder()
    {
        var store = await OpenAsync();
        // Committed out of time order; d4 has only a non-generation signal, d5 nothing.
        var batch = Batch(
            [Decision("d3", T0.AddMinutes(3), "detailed"), Decision("d1", T0.AddMinutes(1)), Decision("d2", T0.AddMinutes(2)), Decision("d4", T0.AddMinutes(4)), Decision("d5", T0.AddMinutes(5)), Decision("d0", T0)],
            [
                Signal("s1", "d1", "kept"),
                Signal("s2", "d2", "edited", text: "final text", value: 0.4),
                Signal("s3", "d2", "thumbs_up"),
                Signal("s4", "d2", "copied"),
                Signal("s5", "d4", "thumbs_up"),
                Signal("s6", "d3", "regenerated"),
            ]);
        batch.Outputs.Add(Output("d1", "one"));
        batch.Outputs.Add(Output("d3", "three", replaces: "d1"));
        batch.Rewards.Add(Reward("d1", 1, 1.0));
        await store.CommitAsync(batch);

        var all = await ToListAsync(store.ReadGenerationsAsync("gen", T0, T0.AddHours(1), withText: true));

        Assert.Equal(["d1", "d2", "d3"], all.Select(g => g.DecisionId));
        var (d1, d2, d3) = (all[0], all[1], all[2]);
        Assert.Equal((T0.AddMinutes(1), 1, "terse", (double?)1.0), (d1.At, d1.ModelVersion, d1.ChosenActionId, d1.Reward));
        Assert.Equal("one", d1.Output!.Text);
        Assert.Equal(Prompt, d1.Output.Messages);
        Assert.Equal(["kept"], d1.Signals.Select(s => s.Type));
        // Only the generation types, in arrival order, an edit with its text.
        Assert.Null(d2.Output);
        Assert.Null(d2.Reward);
        Assert.Equal(["edited", "copied"], d2.Signals.Select(s => s.Type));
        Assert.Equal(("final text", 0.4), (d2.Signals[0].Text, d2.Signals[0].Value));
        Assert.Equal(("three", "d1", "detailed"), (d3.Output!.Text, d3.Output.Replaces, d3.ChosenActionId));

        // The range: from inclusive, to exclusive.
        var middle = await ToListAsync(store.ReadGenerationsAsync("gen", T0.AddMinutes(2), T0.AddMinutes(3), withText: true));
        Assert.Equal(["d2"], middle.Select(g => g.DecisionId));
    }

    [Fact]
    public async Task ReadGenerationsAsync_WithoutText_NoTextsButReplacesKept()
    {
        var store = await OpenAsync();
        var batch = Batch([Decision("d1", T0), Decision("d2", T0.AddMinutes(1))], [Signal("s1", "d2", "edited", text: "private words", value: 0.5)]);
        batch.Outputs.Add(Output("d1", "secret output"));
        batch.Outputs.Add(Output("d2", "another secret", replaces: "d1"));
        await store.CommitAsync(batch);

        var read = await ToListAsync(store.ReadGenerationsAsync("gen", T0, T0.AddHours(1), withText: false));

        Assert.Equal(2, read.Count);
        Assert.All(read, g => Assert.Equal("", g.Output!.Text));
        Assert.All(read, g => Assert.Empty(g.Output!.Messages));
        Assert.Null(read[0].Output!.Replaces);
        Assert.Equal("d1", read[1].Output!.Replaces);
        var edit = Assert.Single(read[1].Signals);
        Assert.Equal((0.5, (string?)null), (edit.Value, edit.Text));
    }

    [Fact]
    public async Task OpenAsync_VersionNineFile_MigratesToVersionTenKeepingTheData()
    {
        CreateVersionNineFile();

        var store = await OpenAsync();

        Assert.Equal(10L, await store.ReadWriterPragmaAsync("user_version"));
        var decision = await store.GetDecisionAsync("gen", "old");
        Assert.NotNull(decision);
        Assert.Equal(("terse", "Europe/Paris", "de"), (decision.ChosenActionId, decision.TimeZone, decision.Context["user"]["country"].Text));
        var signal = Assert.Single(await store.GetSignalsAsync("gen", "old"));
        Assert.Equal(("kept", (string?)null), (signal.Type, signal.Text));
        Assert.Equal(0.5, (await store.GetRewardAsync("gen", "old"))!.Reward);
        Assert.Null(await store.GetOutputAsync("gen", "old"));
        // An old decision with a generation signal and no output reads as a generation.
        var old = Assert.Single(await ToListAsync(store.ReadGenerationsAsync("gen", T0, T0.AddHours(1), withText: true)));
        Assert.Equal(("old", (double?)0.5), (old.DecisionId, old.Reward));

        // The new table and column take writes after the migration.
        var batch = Batch([Decision("new", T0.AddMinutes(1))], [Signal("s2", "new", "edited", text: "fixed", value: 0.2)]);
        batch.Outputs.Add(Output("new", "draft", replaces: "old"));
        await store.CommitAsync(batch);
        Assert.Equal("draft", (await store.GetOutputAsync("gen", "new"))!.Text);
        Assert.Equal("fixed", Assert.Single(await store.GetSignalsAsync("gen", "new")).Text);
    }

    /// <summary>A version-9 file built by the schema's own steps, with a decision, a signal and a reward.</summary>
    private void CreateVersionNineFile()
    {
        Directory.CreateDirectory(_directory);
        using var connection = new SqliteConnection($"Data Source={Path.Combine(_directory, "flywheel.db")};Pooling=False");
        connection.Open();
        Execute(connection, SqliteSchema.CreateVersion1);
        Execute(connection, SqliteSchema.CreateVersion2);
        Execute(connection, SqliteSchema.CreateVersion3);
        Execute(connection, SqliteSchema.CreateVersion4);
        foreach (var statement in SqliteSchema.CreateVersion5)
        {
            Execute(connection, statement);
        }
        Execute(connection, SqliteSchema.CreateVersion6);
        Execute(connection, SqliteSchema.CreateVersion7);
        Execute(connection, SqliteSchema.CreateVersion8);
        Execute(connection, SqliteSchema.CreateVersion9);
        Execute(connection, "PRAGMA user_version = 9;");
        Execute(connection, """
            INSERT INTO decisions (loop, decision_id, at, user_id, context, actions, baseline_action_id, chosen_action_id, explored, ranking, model_version, shadows, time_zone)
            VALUES ('gen', 'old', $a, 'u1', '{"user":{"country":"de"}}', '[{"id":"terse"}]', NULL, 'terse', 0, '[{"actionId":"terse","probability":1}]', 1, NULL, 'Europe/Paris')
            """, T0.UtcTicks);
        Execute(connection, """
            INSERT INTO signals (seq, loop, signal_id, decision_id, user_id, type, value, at, received_at, late, orphaned, action_id)
            VALUES (1, 'gen', 's1', 'old', NULL, 'kept', 1.0, $a, $a, 0, 0, NULL)
            """, T0.UtcTicks);
        Execute(connection, """
            INSERT INTO rewards (loop, decision_id, seq, reward, signal_count, closed_at, closed_by, implicit_signals, explicit_signals, slots)
            VALUES ('gen', 'old', 1, 0.5, 1, $a, 'signal', 1, 0, NULL)
            """, T0.AddMinutes(1).UtcTicks);
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

    private static DecisionRecord Decision(string id, DateTimeOffset at, string variant = "terse") => new()
    {
        Loop = "gen",
        DecisionId = id,
        At = at,
        UserId = "u1",
        Context = new Features { ["doc"] = { ["words"] = 100 } },
        Actions = [new ActionCandidate(variant)],
        ChosenActionId = variant,
        Explored = false,
        Ranking = [new RankedAction(variant, 1)],
        ModelVersion = 1,
    };

    private static SignalRecord Signal(string id, string decisionId, string type, string? text = null, double value = 1) => new()
    {
        Loop = "gen",
        SignalId = id,
        DecisionId = decisionId,
        Type = type,
        Value = value,
        At = T0,
        ReceivedAt = T0,
        Text = text,
    };

    private static OutputRecord Output(string decisionId, string text, string? replaces = null) => new()
    {
        Loop = "gen",
        DecisionId = decisionId,
        Text = text,
        Messages = Prompt,
        Replaces = replaces,
        RecordedAt = T0.AddSeconds(30),
    };

    private static RewardRecord Reward(string decisionId, long sequence, double reward) => new()
    {
        Loop = "gen",
        DecisionId = decisionId,
        Sequence = sequence,
        Reward = reward,
        SignalCount = 1,
        ImplicitSignals = 1,
        ClosedAt = T0.AddMinutes(30),
        ClosedBy = WindowClose.Signal,
    };

    private static StoreBatch Batch(IEnumerable<DecisionRecord> decisions, IEnumerable<SignalRecord>? signals = null)
    {
        var batch = new StoreBatch();
        batch.Decisions.AddRange(decisions);
        batch.Signals.AddRange(signals ?? []);
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

using System.Runtime.CompilerServices;
using Flywheel.Core;
using Microsoft.Data.Sqlite;

namespace Flywheel.Storage.Sqlite;

/// <summary>Generation loops (docs/generation.md): decisions' outputs and what users did with them.</summary>
public sealed partial class SqliteFlywheelStore
{
    private const string GenerationTypes = $"'{GenerationConfig.KeptSignal}', '{GenerationConfig.CopiedSignal}', '{GenerationConfig.EditedSignal}', '{GenerationConfig.RegeneratedSignal}'";

    /// <inheritdoc />
    public async ValueTask<OutputRecord?> GetOutputAsync(string loop, string decisionId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(decisionId);
        await using var connection = await _db.OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT text, messages, replaces, recorded_at FROM outputs WHERE loop = $loop AND decision_id = $id";
        command.Parameters.AddWithValue("$loop", loop);
        command.Parameters.AddWithValue("$id", decisionId);
        using var reader = command.ExecuteReader();
        return reader.Read() ? ReadOutput(reader, 0, loop, decisionId) : null;
    }

    /// <inheritdoc />
    /// <remarks>
    /// One pass in a read transaction: the loop's decisions in the range in (<c>at</c>, id) order through the narrow
    /// outcome rows, each joined to its output and its generation signals (both by primary key or index), so a
    /// decision with neither costs one index probe each.
    /// </remarks>
    public async IAsyncEnumerable<GenerationRecord> ReadGenerationsAsync(string loop, DateTimeOffset from, DateTimeOffset to, bool withText,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loop);
        await using var connection = await _db.OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        using var transaction = connection.BeginTransaction(deferred: true);
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        var outputColumns = withText ? "o.text, o.messages, o.replaces, o.recorded_at" : "NULL, NULL, o.replaces, o.recorded_at";
        var signalText = withText ? "s.text" : "NULL";
        command.CommandText = $"""
            SELECT c.decision_id, c.at, c.model_version, d.chosen_action_id, c.reward, o.decision_id, {outputColumns},
                   s.signal_id, s.user_id, s.type, s.value, s.at, s.received_at, s.late, s.orphaned, {signalText}
            FROM outcomes AS c
            JOIN decisions AS d ON d.loop = c.loop AND d.decision_id = c.decision_id
            LEFT JOIN outputs AS o ON o.loop = c.loop AND o.decision_id = c.decision_id
            LEFT JOIN signals AS s ON s.loop = c.loop AND s.decision_id = c.decision_id AND s.type IN ({GenerationTypes})
            WHERE c.loop = $loop AND c.at >= $from AND c.at < $to AND (o.decision_id IS NOT NULL OR s.seq IS NOT NULL)
            ORDER BY c.at, c.decision_id, s.seq
            """;
        command.Parameters.AddWithValue("$loop", loop);
        command.Parameters.AddWithValue("$from", from.UtcTicks);
        command.Parameters.AddWithValue("$to", to.UtcTicks);
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        GenerationRecord? current = null;
        List<SignalRecord> signals = [];
        while (reader.Read())
        {
            cancellationToken.ThrowIfCancellationRequested();
            var decisionId = reader.GetString(0);
            if (current?.DecisionId != decisionId)
            {
                if (current is not null)
                {
                    yield return current with { Signals = signals };
                    signals = [];
                }
                current = new GenerationRecord
                {
                    DecisionId = decisionId,
                    At = SqliteRows.FromTicks(reader.GetInt64(1)),
                    ModelVersion = reader.GetInt32(2),
                    ChosenActionId = reader.GetString(3),
                    Reward = reader.IsDBNull(4) ? null : reader.GetDouble(4),
                    Output = withText && !reader.IsDBNull(5) ? ReadOutput(reader, 6, loop, decisionId) : null,
                    Signals = [],
                };
                if (!withText && !reader.IsDBNull(5))
                {
                    // Without text the output still says it exists, and which decision it replaced.
                    current = current with
                    {
                        Output = new OutputRecord
                        {
                            Loop = loop,
                            DecisionId = decisionId,
                            Text = "",
                            Messages = [],
                            Replaces = SqliteRows.NullableString(reader, 8),
                            RecordedAt = SqliteRows.FromTicks(reader.GetInt64(9)),
                        },
                    };
                }
            }
            if (!reader.IsDBNull(10))
            {
                signals.Add(new SignalRecord
                {
                    Loop = loop,
                    SignalId = reader.GetString(10),
                    DecisionId = decisionId,
                    UserId = SqliteRows.NullableString(reader, 11),
                    Type = reader.GetString(12),
                    Value = reader.GetDouble(13),
                    At = SqliteRows.FromTicks(reader.GetInt64(14)),
                    ReceivedAt = SqliteRows.FromTicks(reader.GetInt64(15)),
                    Late = reader.GetInt64(16) != 0,
                    Orphaned = reader.GetInt64(17) != 0,
                    Text = SqliteRows.NullableString(reader, 18),
                });
            }
        }
        if (current is not null)
        {
            yield return current with { Signals = signals };
        }
    }

    private static OutputRecord ReadOutput(SqliteDataReader reader, int o, string loop, string decisionId) => new()
    {
        Loop = loop,
        DecisionId = decisionId,
        Text = reader.GetString(o),
        Messages = StoredJson.Read<IReadOnlyList<PromptMessage>>(SqliteRows.Utf8(reader, o + 1), "outputs.messages"),
        Replaces = SqliteRows.NullableString(reader, o + 2),
        RecordedAt = SqliteRows.FromTicks(reader.GetInt64(o + 3)),
    };
}

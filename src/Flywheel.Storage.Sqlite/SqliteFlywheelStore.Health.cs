using System.Runtime.CompilerServices;
using Flywheel.Core;

namespace Flywheel.Storage.Sqlite;

/// <summary>The narrow reads of the health report: a few columns per row, so a million decisions read in well under a second.</summary>
public sealed partial class SqliteFlywheelStore
{
    /// <inheritdoc />
    public async IAsyncEnumerable<DecisionOutcome> ReadOutcomesAsync(string loop, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loop);
        await using var connection = await _db.OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        using var command = connection.CreateCommand();
        // Log order is rowid order: the single writer inserts decisions as they are made.
        command.CommandText = """
            SELECT d.at, d.user_id, d.model_version, r.seq, r.reward, r.closed_at, r.signal_count, r.implicit_signals, r.explicit_signals, d.explored
            FROM decisions AS d
            LEFT JOIN rewards AS r ON r.loop = d.loop AND r.decision_id = d.decision_id
            WHERE d.loop = $loop
            ORDER BY d.rowid
            """;
        command.Parameters.AddWithValue("$loop", loop);
        using var reader = command.ExecuteReader();
        var rows = 0;
        while (reader.Read())
        {
            if ((++rows & 0xFFF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }
            var at = SqliteRows.FromTicks(reader.GetInt64(0));
            var user = SqliteRows.NullableString(reader, 1);
            var version = reader.GetInt32(2);
            var explored = reader.GetInt64(9) != 0;
            yield return reader.IsDBNull(3)
                ? new DecisionOutcome(at, user, version, 0, 0, default, 0, 0, 0, explored)
                : new DecisionOutcome(at, user, version, reader.GetInt64(3), reader.GetDouble(4), SqliteRows.FromTicks(reader.GetInt64(5)),
                    reader.GetInt32(6), reader.GetInt32(7), reader.GetInt32(8), explored);
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<UserVisit> ReadUserVisitsAsync(string loop, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loop);
        await using var connection = await _db.OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT user_id, at FROM signals INDEXED BY signals_user_visits
            WHERE loop = $loop AND decision_id IS NULL AND user_id IS NOT NULL
            ORDER BY seq
            """;
        command.Parameters.AddWithValue("$loop", loop);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return new UserVisit(reader.GetString(0), SqliteRows.FromTicks(reader.GetInt64(1)));
        }
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<Features>> ReadContextsAsync(string loop, long skipNewest, int count, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentOutOfRangeException.ThrowIfNegative(skipNewest);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        await using var connection = await _db.OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT context FROM decisions WHERE loop = $loop ORDER BY rowid DESC LIMIT $count OFFSET $skip";
        command.Parameters.AddWithValue("$loop", loop);
        command.Parameters.AddWithValue("$count", count);
        command.Parameters.AddWithValue("$skip", skipNewest);
        var contexts = new List<Features>(Math.Min(count, 4096));
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            cancellationToken.ThrowIfCancellationRequested();
            contexts.Add(StoredJson.ReadFeatures(SqliteRows.Utf8(reader, 0), "decisions.context"));
        }
        return contexts;
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<RewardArrival>> ReadRewardArrivalsAsync(string loop, long afterSequence, long throughSequence, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loop);
        await using var connection = await _db.OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT r.seq, MIN(s.received_at)
            FROM rewards AS r
            CROSS JOIN signals AS s ON s.loop = r.loop AND s.decision_id = r.decision_id AND s.late = 0
            WHERE r.loop = $loop AND r.seq > $after AND r.seq <= $through
            GROUP BY r.seq
            ORDER BY r.seq
            """;
        command.Parameters.AddWithValue("$loop", loop);
        command.Parameters.AddWithValue("$after", afterSequence);
        command.Parameters.AddWithValue("$through", throughSequence);
        var arrivals = new List<RewardArrival>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            cancellationToken.ThrowIfCancellationRequested();
            arrivals.Add(new RewardArrival(reader.GetInt64(0), SqliteRows.FromTicks(reader.GetInt64(1))));
        }
        return arrivals;
    }
}

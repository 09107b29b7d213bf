using System.Runtime.CompilerServices;
using Flywheel.Core;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Flywheel.Storage.Sqlite;

/// <summary>The narrow reads of the health report: a few columns per row from narrow rows or covering indexes.</summary>
public sealed partial class SqliteFlywheelStore
{
    /// <inheritdoc />
    /// <remarks>
    /// Pages on the outcome rows' key, a chunk per short read transaction, yielded only after the statement is reset,
    /// so a slow reader never pins a snapshot (see <see cref="ReadRewardsAsync"/>).
    /// </remarks>
    public async IAsyncEnumerable<DecisionOutcome> ReadOutcomesAsync(string loop, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loop);
        await using var connection = await _db.OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        // The narrow outcome rows, clustered by (loop, at, decision id): one range scan in time order. A million rows
        // is the common case here, so the statement is stepped through SQLitePCL, on which Microsoft.Data.Sqlite is
        // built: its data reader costs about 0.1 µs per column value, a third of this read. For the same reason the
        // small integers travel packed: the explored flag with the model version, and the three signal counts (each
        // capped at 2²¹ - 1, far beyond any one window) in one 63-bit value.
        const string Sql = """
            SELECT at, user_id, reward, closed_at, seq,
                   explored | (model_version << 1),
                   min(signal_count, 2097151) | (min(implicit_signals, 2097151) << 21) | (min(explicit_signals, 2097151) << 42),
                   decision_id
            FROM outcomes
            WHERE loop = ?1 AND (at, decision_id) > (?2, ?3)
            ORDER BY at, decision_id
            LIMIT ?4
            """;
        var db = connection.Handle!;
        var limit = _db.ReadChunkRows;
        var chunk = new List<DecisionOutcome>(Math.Min(limit, 4096));
        SqliteException.ThrowExceptionForRC(raw.sqlite3_prepare_v2(db, Sql, out var statement), db);
        using (statement)
        {
            SqliteException.ThrowExceptionForRC(raw.sqlite3_bind_text(statement, 1, loop), db);
            SqliteException.ThrowExceptionForRC(raw.sqlite3_bind_int64(statement, 2, long.MinValue), db);
            SqliteException.ThrowExceptionForRC(raw.sqlite3_bind_text(statement, 3, ""), db);
            SqliteException.ThrowExceptionForRC(raw.sqlite3_bind_int(statement, 4, limit), db);
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                chunk.Clear();
                string? lastId = null;
                int rc;
                while ((rc = raw.sqlite3_step(statement)) == raw.SQLITE_ROW)
                {
                    chunk.Add(ReadOutcome(statement));
                    if (chunk.Count == limit)
                    {
                        lastId = raw.sqlite3_column_text(statement, 7).utf8_to_string();
                    }
                }
                if (rc != raw.SQLITE_DONE)
                {
                    SqliteException.ThrowExceptionForRC(rc, db);
                }
                // Resetting ends the statement's read transaction before the caller sees a row.
                raw.sqlite3_reset(statement);
                foreach (var outcome in chunk)
                {
                    yield return outcome;
                }
                if (lastId is null)
                {
                    yield break;
                }
                SqliteException.ThrowExceptionForRC(raw.sqlite3_bind_int64(statement, 2, chunk[^1].At.UtcTicks), db);
                SqliteException.ThrowExceptionForRC(raw.sqlite3_bind_text(statement, 3, lastId), db);
            }
        }
    }

    private static DecisionOutcome ReadOutcome(sqlite3_stmt statement)
    {
        var at = SqliteRows.FromTicks(raw.sqlite3_column_int64(statement, 0));
        var user = raw.sqlite3_column_type(statement, 1) == raw.SQLITE_NULL ? null : raw.sqlite3_column_text(statement, 1).utf8_to_string();
        var served = raw.sqlite3_column_int64(statement, 5);
        var version = (int)(served >> 1);
        var explored = (served & 1) != 0;
        if (raw.sqlite3_column_type(statement, 2) == raw.SQLITE_NULL)
        {
            return new DecisionOutcome(at, user, version, 0, 0, default, 0, 0, 0, explored);
        }
        const long Mask = 0x1FFFFF;
        var counts = raw.sqlite3_column_int64(statement, 6);
        return new DecisionOutcome(at, user, version, raw.sqlite3_column_int64(statement, 4), raw.sqlite3_column_double(statement, 2),
            SqliteRows.FromTicks(raw.sqlite3_column_int64(statement, 3)),
            (int)(counts & Mask), (int)((counts >> 21) & Mask), (int)((counts >> 42) & Mask), explored);
    }

    /// <inheritdoc />
    /// <remarks>Pages on the signal sequence, a chunk per short read transaction (see <see cref="ReadRewardsAsync"/>).</remarks>
    public async IAsyncEnumerable<UserVisit> ReadUserVisitsAsync(string loop, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loop);
        await using var connection = await _db.OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT user_id, at, seq FROM signals INDEXED BY signals_user_visits
            WHERE loop = $loop AND decision_id IS NULL AND user_id IS NOT NULL AND seq > $after
            ORDER BY seq
            LIMIT $limit
            """;
        command.Parameters.AddWithValue("$loop", loop);
        var after = command.Parameters.AddWithValue("$after", 0L);
        command.Parameters.AddWithValue("$limit", _db.ReadChunkRows);
        var chunk = new List<UserVisit>(Math.Min(_db.ReadChunkRows, 4096));
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            chunk.Clear();
            var last = 0L;
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    chunk.Add(new UserVisit(reader.GetString(0), SqliteRows.FromTicks(reader.GetInt64(1))));
                    last = reader.GetInt64(2);
                }
            }
            foreach (var visit in chunk)
            {
                yield return visit;
            }
            if (chunk.Count < _db.ReadChunkRows)
            {
                yield break;
            }
            after.Value = last;
        }
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<Features>> ReadContextsAsync(string loop, DateTimeOffset from, DateTimeOffset to, int count, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        await using var connection = await _db.OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        // The window's decision ids from the narrow outcome rows (a week of a busy loop is some 100,000 short rows),
        // then the contexts of evenly spaced ones, each one primary-key probe into the wide decision rows.
        var ids = new List<string>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT decision_id FROM outcomes WHERE loop = $loop AND at >= $from AND at < $to ORDER BY at, decision_id";
            command.Parameters.AddWithValue("$loop", loop);
            command.Parameters.AddWithValue("$from", from.UtcTicks);
            command.Parameters.AddWithValue("$to", to.UtcTicks);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                ids.Add(reader.GetString(0));
            }
        }
        var take = Math.Min(count, ids.Count);
        var contexts = new List<Features>(take);
        if (take == 0)
        {
            return contexts;
        }
        using var read = connection.CreateCommand();
        read.CommandText = "SELECT context FROM decisions WHERE loop = $loop AND decision_id = $id";
        read.Parameters.AddWithValue("$loop", loop);
        var id = read.Parameters.Add("$id", SqliteType.Text);
        read.Prepare();
        for (var i = 0; i < take; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // The middle of each of `take` equal slices of the window.
            id.Value = ids[(int)(((2L * i + 1) * ids.Count) / (2L * take))];
            using var reader = read.ExecuteReader();
            if (reader.Read())
            {
                contexts.Add(StoredJson.ReadFeatures(SqliteRows.Utf8(reader, 0), "decisions.context"));
            }
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

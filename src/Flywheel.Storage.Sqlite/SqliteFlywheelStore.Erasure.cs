using System.Globalization;
using Flywheel.Core;
using Microsoft.Data.Sqlite;

namespace Flywheel.Storage.Sqlite;

/// <summary>Erasing a user (the HTTP API, <c>DELETE /v1/users/{userId}</c>) and the audit trail it leaves.</summary>
public sealed partial class SqliteFlywheelStore
{
    /// <inheritdoc />
    public async ValueTask<ErasureRecord> EraseUserAsync(string userId, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        using var lease = await _db.WriteAsync(cancellationToken).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        var writer = lease.Connection;
        // Deleted rows' bytes are overwritten rather than left in free pages, for this connection's deletes only.
        SqliteDatabase.Execute(writer, "PRAGMA secure_delete = ON;");
        ErasureRecord record;
        try
        {
            using var transaction = writer.BeginTransaction();
            // The user's decisions, found through the narrow outcome rows (indexed by nothing but small) and kept
            // aside, because deleting a decision deletes its outcome row.
            Run(writer, transaction, "CREATE TEMP TABLE IF NOT EXISTS erased (loop TEXT NOT NULL, decision_id TEXT NOT NULL, PRIMARY KEY (loop, decision_id)) WITHOUT ROWID", userId);
            Run(writer, transaction, "DELETE FROM temp.erased", userId);
            Run(writer, transaction, "INSERT INTO temp.erased SELECT loop, decision_id FROM outcomes WHERE user_id = $user", userId);
            var signals = Run(writer, transaction, """
                DELETE FROM signals
                WHERE user_id = $user
                   OR (decision_id IS NOT NULL AND (loop, decision_id) IN (SELECT loop, decision_id FROM temp.erased))
                """, userId);
            Run(writer, transaction, """
                INSERT INTO reward_marks (loop, last_seq)
                SELECT r.loop, MAX(r.seq) FROM rewards AS r WHERE r.loop IN (SELECT loop FROM temp.erased) GROUP BY r.loop
                ON CONFLICT (loop) DO UPDATE SET last_seq = MAX(last_seq, excluded.last_seq)
                """, userId);
            var rewards = Run(writer, transaction, "DELETE FROM rewards WHERE (loop, decision_id) IN (SELECT loop, decision_id FROM temp.erased)", userId);
            Run(writer, transaction, "DELETE FROM outputs WHERE (loop, decision_id) IN (SELECT loop, decision_id FROM temp.erased)", userId);
            var decisions = Run(writer, transaction, "DELETE FROM decisions WHERE (loop, decision_id) IN (SELECT loop, decision_id FROM temp.erased)", userId);
            Run(writer, transaction, "DELETE FROM temp.erased", userId);
            var removed = new ErasureCounts(decisions, signals, rewards);
            using (var audit = writer.CreateCommand())
            {
                audit.Transaction = transaction;
                audit.CommandText = """
                    INSERT INTO erasures (erased_at, decisions, signals, rewards) VALUES ($at, $decisions, $signals, $rewards)
                    RETURNING seq
                    """;
                audit.Parameters.AddWithValue("$at", at.UtcTicks);
                audit.Parameters.AddWithValue("$decisions", decisions);
                audit.Parameters.AddWithValue("$signals", signals);
                audit.Parameters.AddWithValue("$rewards", rewards);
                var sequence = Convert.ToInt64(audit.ExecuteScalar(), CultureInfo.InvariantCulture);
                record = new ErasureRecord { Sequence = sequence, ErasedAt = SqliteRows.FromTicks(at.UtcTicks), Removed = removed };
            }
            transaction.Commit();
            lease.Committed();
        }
        catch (SqliteException ex) when (lease.Fault(ex) is { } fault)
        {
            throw fault;
        }
        finally
        {
            SqliteDatabase.Execute(writer, "PRAGMA secure_delete = OFF;");
        }
        // Until a checkpoint the erased rows' old pages still sit in the main file; copy the overwritten ones over them
        // now rather than at the next periodic checkpoint. Readers in the middle of a read can hold part of it back.
        SqliteDatabase.Execute(writer, "PRAGMA wal_checkpoint(TRUNCATE);");
        return record;
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<ErasureRecord>> LoadErasuresAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await _db.OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT seq, erased_at, decisions, signals, rewards FROM erasures ORDER BY seq";
        var records = new List<ErasureRecord>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            records.Add(new ErasureRecord
            {
                Sequence = reader.GetInt64(0),
                ErasedAt = SqliteRows.FromTicks(reader.GetInt64(1)),
                Removed = new ErasureCounts(reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4)),
            });
        }
        return records;
    }

    private static long Run(SqliteConnection connection, SqliteTransaction transaction, string sql, string userId)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.Parameters.AddWithValue("$user", userId);
        return command.ExecuteNonQuery();
    }
}

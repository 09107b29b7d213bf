using Flywheel.Core;
using Microsoft.Data.Sqlite;

namespace Flywheel.Storage.Sqlite;

// The model registry and the turn ledger: small JSON rows (the wire format) plus each model's weights.
public sealed partial class SqliteFlywheelStore
{
    /// <inheritdoc />
    public async ValueTask SaveModelAsync(ModelRecord model, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        var json = FlywheelJson.ToUtf8(model);
        await WriteAsync("""
            INSERT INTO models (loop, version, json) VALUES ($loop, $key, CAST($json AS TEXT))
            ON CONFLICT (loop, version) DO UPDATE SET json = excluded.json
            """, model.Loop, model.Version, json, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask SaveModelDataAsync(string loop, int version, byte[]? data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loop);
        using var lease = await _db.WriteAsync(cancellationToken).ConfigureAwait(false);
        int updated;
        try
        {
            using var command = lease.Connection.CreateCommand();
            command.CommandText = "UPDATE models SET data = $data WHERE loop = $loop AND version = $version";
            command.Parameters.AddWithValue("$loop", loop);
            command.Parameters.AddWithValue("$version", version);
            command.Parameters.Add("$data", SqliteType.Blob).Value = (object?)data ?? DBNull.Value;
            updated = command.ExecuteNonQuery();
        }
        catch (SqliteException ex) when (lease.Fault(ex) is { } fault)
        {
            throw fault;
        }
        if (updated == 0)
        {
            throw new InvalidOperationException($"loop '{loop}' has no model version {version} to store weights for");
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// Model records, then weights, then ledger entries, then the loop config, then the snapshot, in one transaction on
    /// the writer: on any failure nothing of the change is written and the exception propagates.
    /// <paramref name="cancellationToken"/> cancels the wait for the writer; a transaction once begun runs to its end.
    /// </remarks>
    public async ValueTask CommitRegistryAsync(RegistryChange change, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(change);
        change.Validate();
        change.Config?.Validate();
        var config = change.Config is null ? null : LoopConfigJson.Serialize(change.Config);
        var models = change.Models.Select(m => (m.Version, Json: FlywheelJson.ToUtf8(m))).ToList();
        var turns = change.Turns.Select(t => (t.Number, Json: FlywheelJson.ToUtf8(t))).ToList();
        using var lease = await _db.WriteAsync(cancellationToken).ConfigureAwait(false);
        if (change.IsEmpty)
        {
            return;
        }
        cancellationToken.ThrowIfCancellationRequested();
        var writer = lease.Connection;
        try
        {
            using var transaction = writer.BeginTransaction();
            foreach (var (version, json) in models)
            {
                Execute(writer, transaction, """
                    INSERT INTO models (loop, version, json) VALUES ($loop, $key, CAST($json AS TEXT))
                    ON CONFLICT (loop, version) DO UPDATE SET json = excluded.json
                    """, change.Loop, version, json);
            }
            foreach (var (version, data) in change.ModelData)
            {
                using var command = writer.CreateCommand();
                command.Transaction = transaction;
                command.CommandText = "UPDATE models SET data = $data WHERE loop = $loop AND version = $version";
                command.Parameters.AddWithValue("$loop", change.Loop);
                command.Parameters.AddWithValue("$version", version);
                command.Parameters.Add("$data", SqliteType.Blob).Value = (object?)data ?? DBNull.Value;
                if (command.ExecuteNonQuery() == 0)
                {
                    throw new InvalidOperationException($"loop '{change.Loop}' has no model version {version} to store weights for");
                }
            }
            foreach (var (number, json) in turns)
            {
                Execute(writer, transaction, """
                    INSERT INTO turns (loop, number, json) VALUES ($loop, $key, CAST($json AS TEXT))
                    ON CONFLICT (loop, number) DO UPDATE SET json = excluded.json
                    """, change.Loop, number, json);
            }
            if (config is not null)
            {
                using var command = writer.CreateCommand();
                command.Transaction = transaction;
                command.CommandText = """
                    INSERT INTO loops (id, config, updated_at) VALUES ($id, $config, $updated_at)
                    ON CONFLICT (id) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at
                    """;
                command.Parameters.AddWithValue("$id", change.Loop);
                command.Parameters.AddWithValue("$config", config);
                command.Parameters.AddWithValue("$updated_at", _db.Time.GetUtcNow().UtcTicks);
                command.ExecuteNonQuery();
            }
            if (change.Snapshot is { } snapshot)
            {
                WriteSnapshot(writer, transaction, snapshot);
            }
            transaction.Commit();
        }
        catch (SqliteException ex) when (lease.Fault(ex) is { } fault)
        {
            throw fault;
        }
        lease.Committed();
    }

    private static void Execute(SqliteConnection writer, SqliteTransaction transaction, string sql, string loop, long key, byte[] json)
    {
        using var command = writer.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.Parameters.AddWithValue("$loop", loop);
        command.Parameters.AddWithValue("$key", key);
        command.Parameters.Add("$json", SqliteType.Blob).Value = json;
        command.ExecuteNonQuery();
    }

    /// <inheritdoc />
    public async ValueTask<byte[]?> LoadModelDataAsync(string loop, int version, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loop);
        await using var connection = await _db.OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT data FROM models WHERE loop = $loop AND version = $version";
        command.Parameters.AddWithValue("$loop", loop);
        command.Parameters.AddWithValue("$version", version);
        using var reader = command.ExecuteReader();
        return reader.Read() && !reader.IsDBNull(0) ? reader.GetFieldValue<byte[]>(0) : null;
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<ModelRecord>> LoadModelsAsync(string loop, CancellationToken cancellationToken = default)
        => await ReadJsonRowsAsync<ModelRecord>("SELECT json FROM models WHERE loop = $loop ORDER BY version", loop, "models.json", cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public async ValueTask SaveTurnAsync(TurnRecord turn, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(turn);
        var json = FlywheelJson.ToUtf8(turn);
        await WriteAsync("""
            INSERT INTO turns (loop, number, json) VALUES ($loop, $key, CAST($json AS TEXT))
            ON CONFLICT (loop, number) DO UPDATE SET json = excluded.json
            """, turn.Loop, turn.Number, json, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<TurnRecord>> LoadTurnsAsync(string loop, CancellationToken cancellationToken = default)
        => await ReadJsonRowsAsync<TurnRecord>("SELECT json FROM turns WHERE loop = $loop ORDER BY number", loop, "turns.json", cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<TurnRecord>> LoadLatestTurnsAsync(string loop, int count, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var newestFirst = await ReadJsonRowsAsync<TurnRecord>(
            $"SELECT json FROM turns WHERE loop = $loop ORDER BY number DESC LIMIT {count.ToString(System.Globalization.CultureInfo.InvariantCulture)}",
            loop, "turns.json", cancellationToken).ConfigureAwait(false);
        newestFirst.Reverse();
        return newestFirst;
    }

    private async ValueTask WriteAsync(string sql, string loop, long key, byte[] json, CancellationToken cancellationToken)
    {
        using var lease = await _db.WriteAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var command = lease.Connection.CreateCommand();
            command.CommandText = sql;
            command.Parameters.AddWithValue("$loop", loop);
            command.Parameters.AddWithValue("$key", key);
            command.Parameters.Add("$json", SqliteType.Blob).Value = json;
            command.ExecuteNonQuery();
        }
        catch (SqliteException ex) when (lease.Fault(ex) is { } fault)
        {
            throw fault;
        }
    }

    private async ValueTask<List<T>> ReadJsonRowsAsync<T>(string sql, string loop, string column, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(loop);
        await using var connection = await _db.OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$loop", loop);
        using var reader = command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read())
        {
            rows.Add(StoredJson.Read<T>(reader.GetFieldValue<byte[]>(0), column));
        }
        return rows;
    }
}

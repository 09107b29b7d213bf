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
        using var command = lease.Connection.CreateCommand();
        command.CommandText = "UPDATE models SET data = $data WHERE loop = $loop AND version = $version";
        command.Parameters.AddWithValue("$loop", loop);
        command.Parameters.AddWithValue("$version", version);
        command.Parameters.Add("$data", SqliteType.Blob).Value = (object?)data ?? DBNull.Value;
        if (command.ExecuteNonQuery() == 0)
        {
            throw new InvalidOperationException($"loop '{loop}' has no model version {version} to store weights for");
        }
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
        using var command = lease.Connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$loop", loop);
        command.Parameters.AddWithValue("$key", key);
        command.Parameters.Add("$json", SqliteType.Blob).Value = json;
        command.ExecuteNonQuery();
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

using Flywheel.Core;
using Microsoft.Data.Sqlite;

namespace Flywheel.Storage.Sqlite;

/// <summary>API keys (schema version 6): hashes and scopes in the <c>api_keys</c> table, beside the data they guard.</summary>
public sealed partial class SqliteFlywheelStore : IApiKeyStore
{
    private const string KeyColumns = "id, hash, scopes, loop, hint, created_at, revoked_at";

    /// <inheritdoc />
    public async ValueTask AddApiKeyAsync(ApiKeyRecord key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        using var lease = await _db.WriteAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var command = lease.Connection.CreateCommand();
            command.CommandText = $"INSERT INTO api_keys ({KeyColumns}) VALUES ($id, $hash, $scopes, $loop, $hint, $created_at, NULL)";
            command.Parameters.AddWithValue("$id", key.Id);
            command.Parameters.AddWithValue("$hash", key.Hash);
            command.Parameters.AddWithValue("$scopes", ApiKeys.FormatScopes(key.Scopes));
            command.Parameters.AddWithValue("$loop", (object?)key.Loop ?? DBNull.Value);
            command.Parameters.AddWithValue("$hint", key.Hint);
            command.Parameters.AddWithValue("$created_at", key.CreatedAt.UtcTicks);
            command.ExecuteNonQuery();
        }
        catch (SqliteException ex) when (lease.Fault(ex) is { } fault)
        {
            throw fault;
        }
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<ApiKeyRecord>> ListApiKeysAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await _db.OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {KeyColumns} FROM api_keys ORDER BY created_at, id";
        using var reader = command.ExecuteReader();
        var keys = new List<ApiKeyRecord>();
        while (reader.Read())
        {
            keys.Add(ReadKey(reader));
        }
        return keys;
    }

    /// <inheritdoc />
    public async ValueTask<ApiKeyRecord?> FindApiKeyAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        await using var connection = await _db.OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {KeyColumns} FROM api_keys WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        using var reader = command.ExecuteReader();
        return reader.Read() ? ReadKey(reader) : null;
    }

    /// <inheritdoc />
    public async ValueTask<bool> RevokeApiKeyAsync(string id, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        using var lease = await _db.WriteAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var command = lease.Connection.CreateCommand();
            command.CommandText = "UPDATE api_keys SET revoked_at = $at WHERE id = $id AND revoked_at IS NULL";
            command.Parameters.AddWithValue("$id", id);
            command.Parameters.AddWithValue("$at", at.UtcTicks);
            return command.ExecuteNonQuery() == 1;
        }
        catch (SqliteException ex) when (lease.Fault(ex) is { } fault)
        {
            throw fault;
        }
    }

    /// <inheritdoc />
    public async ValueTask<bool> HasApiKeysAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await _db.OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT EXISTS (SELECT 1 FROM api_keys)";
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) != 0;
    }

    private static ApiKeyRecord ReadKey(SqliteDataReader reader) => new()
    {
        Id = reader.GetString(0),
        Hash = reader.GetFieldValue<byte[]>(1),
        Scopes = ApiKeys.ParseScopes(reader.GetString(2)),
        Loop = reader.IsDBNull(3) ? null : reader.GetString(3),
        Hint = reader.GetString(4),
        CreatedAt = new DateTimeOffset(reader.GetInt64(5), TimeSpan.Zero),
        RevokedAt = reader.IsDBNull(6) ? null : new DateTimeOffset(reader.GetInt64(6), TimeSpan.Zero),
    };
}

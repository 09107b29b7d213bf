using Flywheel.Core;

namespace Flywheel.Storage.Sqlite.Tests;

/// <summary>API keys in the SQLite store (schema version 6): only hashes are kept, revoked keys keep their row.</summary>
public sealed class ApiKeyStoreTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "flywheel-sqlite-keys", Guid.NewGuid().ToString("N"));
    private SqliteFlywheelStore _store = null!;

    public async Task InitializeAsync() => _store = await SqliteFlywheelStore.OpenAsync(new SqliteStoreOptions { DataDirectory = _directory });

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task AddFindListRevoke_RoundTripsTheRecordAndKeepsRevokedRows()
    {
        Assert.False(await _store.HasApiKeysAsync());
        var (key, record) = ApiKeys.Create(ApiKeyScopes.Decide | ApiKeyScopes.Ingest, "shop", T0);
        await _store.AddApiKeyAsync(record);

        var found = await _store.FindApiKeyAsync(record.Id);
        Assert.NotNull(found);
        Assert.Equal((record.Id, record.Scopes, "shop", record.Hint, T0), (found.Id, found.Scopes, found.Loop, found.Hint, found.CreatedAt));
        Assert.True(ApiKeys.Matches(found, key));
        Assert.False(ApiKeys.Matches(found, key[..^1] + (key[^1] == 'A' ? 'B' : 'A')));
        Assert.True(await _store.HasApiKeysAsync());

        Assert.True(await _store.RevokeApiKeyAsync(record.Id, T0.AddHours(1)));
        Assert.False(await _store.RevokeApiKeyAsync(record.Id, T0.AddHours(2)));
        Assert.False(await _store.RevokeApiKeyAsync("000000000000", T0.AddHours(2)));
        var revoked = Assert.Single(await _store.ListApiKeysAsync());
        Assert.Equal(T0.AddHours(1), revoked.RevokedAt);
        Assert.False(ApiKeys.Matches(revoked, key));
        Assert.True(await _store.HasApiKeysAsync());
        Assert.Null(await _store.FindApiKeyAsync("ffffffffffff"));
    }

    [Fact]
    public async Task StoredRow_HoldsTheHashButNeverTheKey()
    {
        var (key, record) = ApiKeys.Create(ApiKeyScopes.Admin, null, T0);
        await _store.AddApiKeyAsync(record);
        var path = _store.DatabasePath;
        await _store.DisposeAsync();

        var bytes = await File.ReadAllBytesAsync(path);
        var text = System.Text.Encoding.ASCII.GetString(bytes);
        Assert.DoesNotContain(key[(ApiKeys.Prefix.Length + 13)..], text, StringComparison.Ordinal);
        Assert.Contains(record.Id, text, StringComparison.Ordinal);
        _store = await SqliteFlywheelStore.OpenAsync(new SqliteStoreOptions { DataDirectory = _directory });
    }
}

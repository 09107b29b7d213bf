using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Flywheel.Core;

/// <summary>
/// What an API key may do (docs/security.md). A key holds one or more scopes; <see cref="Admin"/> implies all the
/// others, so one operator key does everything.
/// </summary>
[Flags]
public enum ApiKeyScopes
{
    /// <summary>Nothing.</summary>
    None = 0,

    /// <summary>Decide: <c>POST …/decide</c>.</summary>
    Decide = 1,

    /// <summary>Ingest: <c>POST …/signals</c>.</summary>
    Ingest = 2,

    /// <summary>Reads: decisions, evaluations, health, exports, models, turns, the dashboard and <c>/metrics</c>.</summary>
    Read = 4,

    /// <summary>Changes: loop configs, turns, promote, rollback, shadows, erasure; implies every other scope.</summary>
    Admin = 8,
}

/// <summary>One stored API key: never the key itself, only its hash and what it may do.</summary>
public sealed record ApiKeyRecord
{
    /// <summary>The key's public id (part of the key, shown by <c>flywheel keys list</c>, used to revoke it).</summary>
    public required string Id { get; init; }

    /// <summary>SHA-256 of the whole key (UTF-8).</summary>
    public required byte[] Hash { get; init; }

    /// <summary>What the key may do.</summary>
    public required ApiKeyScopes Scopes { get; init; }

    /// <summary>The one loop the key may touch, or null for every loop.</summary>
    public string? Loop { get; init; }

    /// <summary>The key's last four characters, so a person can tell keys apart without seeing them.</summary>
    public required string Hint { get; init; }

    /// <summary>When the key was created.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the key was revoked, or null while it works.</summary>
    public DateTimeOffset? RevokedAt { get; init; }

    /// <summary>True when the key grants <paramref name="scope"/> (<see cref="ApiKeyScopes.Admin"/> grants all).</summary>
    public bool Grants(ApiKeyScopes scope) => (Scopes & ApiKeyScopes.Admin) != 0 || (Scopes & scope) == scope;
}

/// <summary>
/// Where API keys live: the store of the data they guard, so a data directory carries its own keys. The embedded
/// SQLite store implements it; another store (PostgreSQL) can too.
/// </summary>
public interface IApiKeyStore
{
    /// <summary>Stores a new key.</summary>
    ValueTask AddApiKeyAsync(ApiKeyRecord key, CancellationToken cancellationToken = default);

    /// <summary>Every key, revoked ones included, oldest first.</summary>
    ValueTask<IReadOnlyList<ApiKeyRecord>> ListApiKeysAsync(CancellationToken cancellationToken = default);

    /// <summary>The key with <paramref name="id"/>, revoked or not; null when there is none.</summary>
    ValueTask<ApiKeyRecord?> FindApiKeyAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Marks the key revoked at <paramref name="at"/>; false when there is no such key or it is already revoked.</summary>
    ValueTask<bool> RevokeApiKeyAsync(string id, DateTimeOffset at, CancellationToken cancellationToken = default);

    /// <summary>
    /// True once any key has been created, revoked or not. Authentication is on from then on: revoking the last key
    /// must not open the API to everyone.
    /// </summary>
    ValueTask<bool> HasApiKeysAsync(CancellationToken cancellationToken = default);
}

/// <summary>Creates, parses and checks API keys (<c>fwk_</c> + 12 hex id + <c>_</c> + 43 base64url secret characters).</summary>
public static class ApiKeys
{
    /// <summary>What every key starts with, so a leaked key is easy to find in logs and code.</summary>
    public const string Prefix = "fwk_";

    private const int IdLength = 12;
    private const int SecretBytes = 32;
    private const int SecretLength = 43; // 32 bytes in unpadded base64url

    /// <summary>The length of every key.</summary>
    public const int KeyLength = 4 + IdLength + 1 + SecretLength;

    /// <summary>Reads scopes written <c>read</c> or <c>decide,ingest</c>; throws naming the bad one.</summary>
    public static ApiKeyScopes ParseScopes(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var scopes = ApiKeyScopes.None;
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            scopes |= part switch
            {
                "decide" => ApiKeyScopes.Decide,
                "ingest" => ApiKeyScopes.Ingest,
                "read" => ApiKeyScopes.Read,
                "admin" => ApiKeyScopes.Admin,
                _ => throw new FlywheelValidationException("scope", $"'{part}' is not a scope; use decide, ingest, read or admin (or several, separated by ',')"),
            };
        }
        return scopes == ApiKeyScopes.None
            ? throw new FlywheelValidationException("scope", "is required: decide, ingest, read or admin")
            : scopes;
    }

    /// <summary>Writes scopes as <see cref="ParseScopes"/> reads them, such as <c>decide,ingest</c>.</summary>
    public static string FormatScopes(ApiKeyScopes scopes)
    {
        var names = new List<string>(4);
        if ((scopes & ApiKeyScopes.Decide) != 0) names.Add("decide");
        if ((scopes & ApiKeyScopes.Ingest) != 0) names.Add("ingest");
        if ((scopes & ApiKeyScopes.Read) != 0) names.Add("read");
        if ((scopes & ApiKeyScopes.Admin) != 0) names.Add("admin");
        return string.Join(',', names);
    }

    /// <summary>Makes a new key: 256 random bits from the operating system's generator, and the record to store.</summary>
    /// <returns>The key, shown once and never stored, and its record.</returns>
    public static (string Key, ApiKeyRecord Record) Create(ApiKeyScopes scopes, string? loop, DateTimeOffset now)
    {
        if (scopes == ApiKeyScopes.None)
        {
            throw new FlywheelValidationException("scope", "is required: decide, ingest, read or admin");
        }
        if (loop is not null && string.IsNullOrWhiteSpace(loop))
        {
            throw new FlywheelValidationException("loop", "is empty; name a loop or leave it out for every loop");
        }
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(IdLength / 2));
        var secret = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(SecretBytes));
        var key = Prefix + id + "_" + secret;
        return (key, new ApiKeyRecord
        {
            Id = id,
            Hash = Hash(key),
            Scopes = scopes,
            Loop = loop,
            Hint = key[^4..],
            CreatedAt = now,
        });
    }

    /// <summary>The id inside <paramref name="key"/>, or null when it is not shaped like a Flywheel key.</summary>
    public static string? TryGetId(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length != KeyLength || !key.StartsWith(Prefix, StringComparison.Ordinal) || key[Prefix.Length + IdLength] != '_')
        {
            return null;
        }
        var id = key.AsSpan(Prefix.Length, IdLength);
        foreach (var c in id)
        {
            if (!char.IsAsciiHexDigitLower(c))
            {
                return null;
            }
        }
        foreach (var c in key.AsSpan(Prefix.Length + IdLength + 1))
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                return null;
            }
        }
        return id.ToString();
    }

    /// <summary>
    /// SHA-256 of the key. A fast hash is enough here: a key holds 256 random bits, so no dictionary or brute-force
    /// search can find it from its hash. Slow password hashes (PBKDF2, Argon2) exist for low-entropy secrets chosen by
    /// people, and would only add milliseconds to every request.
    /// </summary>
    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    /// <summary>
    /// True when <paramref name="key"/> is the key <paramref name="record"/> was made from and the key is not revoked.
    /// The hashes are compared in constant time, so the time taken says nothing of how much of a guess was right.
    /// </summary>
    public static bool Matches(ApiKeyRecord record, string key)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(key);
        return CryptographicOperations.FixedTimeEquals(record.Hash, Hash(key)) && record.RevokedAt is null;
    }

    /// <summary>A key's one-line description for people: id, scopes, loop, created, last four characters.</summary>
    public static string Describe(ApiKeyRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return string.Create(CultureInfo.InvariantCulture,
            $"{record.Id}  {FormatScopes(record.Scopes)}  {record.Loop ?? "*"}  {record.CreatedAt:yyyy-MM-ddTHH:mm:ssZ}  …{record.Hint}{(record.RevokedAt is { } at ? $"  revoked {at:yyyy-MM-ddTHH:mm:ssZ}" : "")}");
    }
}

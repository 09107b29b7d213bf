using System.CommandLine;
using Flywheel.Core;
using Flywheel.Storage.Sqlite;

namespace Flywheel.Cli.Commands;

/// <summary>
/// <c>flywheel keys create|list|revoke --data-dir DIR</c>: the API keys of a data directory (docs/security.md). They
/// act on the store directly, so they work whether or not a server runs on it; a running server sees a new key or a
/// revocation on its next request.
/// </summary>
internal static class KeysCommand
{
    public static Command Create(CliContext context)
    {
        var dataDir = new Option<string?>("--data-dir")
        {
            Description = $"Folder of the SQLite store whose keys to manage (default: ${ServeSettings.DataDir.Variable}, else {ServeSettings.DataDir.Default}).",
            HelpName = "DIR",
            Recursive = true,
        };
        string DataDir(ParseResult parse) => parse.GetValue(dataDir)
            ?? (context.Variables(ServeSettings.DataDir.Variable) is { Length: > 0 } v && !string.IsNullOrWhiteSpace(v) ? v.Trim() : ServeSettings.DataDir.Default!);

        var scope = new Option<string>("--scope")
        {
            Description = "What the key may do: decide, ingest, read or admin (admin implies the others); several separated by ',' such as decide,ingest.",
            Required = true,
        };
        var loop = new Option<string?>("--loop")
        {
            Description = "Bind the key to one loop: it cannot touch another loop nor list them all. Default: every loop.",
            HelpName = "LOOP",
        };
        var create = new Command("create", "Create a key and print it once (its last word); the store keeps only its SHA-256.") { scope, loop };
        create.SetAction((parse, ct) => RunAsync(context, "create", DataDir(parse), mustExist: false, async store =>
        {
            var (key, record) = ApiKeys.Create(ApiKeys.ParseScopes(parse.GetRequiredValue(scope)), parse.GetValue(loop), context.Time.GetUtcNow());
            await store.AddApiKeyAsync(record, ct);
            context.Out.WriteLine($"Created key {record.Id} with scope {ApiKeys.FormatScopes(record.Scopes)} for {(record.Loop is { } l ? $"loop '{l}'" : "every loop")}.");
            context.Out.WriteLine("It is shown only now; send it as Authorization: Bearer KEY (flywheel --key, FLYWHEEL_API_KEY). Key:");
            context.Out.WriteLine(key);
            return ExitCodes.Success;
        }));

        var list = new Command("list", "List the keys: id, scopes, loop, created, last four characters (never the key), and when revoked.");
        list.SetAction((parse, ct) => RunAsync(context, "list", DataDir(parse), mustExist: true, async store =>
        {
            var keys = await store.ListApiKeysAsync(ct);
            if (keys.Count == 0)
            {
                context.Out.WriteLine("No keys: the API is open to anyone who can reach the server. Create one with: flywheel keys create --scope admin");
                return ExitCodes.Success;
            }
            context.Out.WriteLine("id            scopes  loop  created  last4  revoked");
            foreach (var key in keys)
            {
                context.Out.WriteLine(ApiKeys.Describe(key));
            }
            return ExitCodes.Success;
        }));

        var id = new Argument<string>("ID") { Description = "The key's id, as keys list shows it." };
        var revoke = new Command("revoke", "Revoke a key: it stops working on the server's next request. Authentication stays on.") { id };
        revoke.SetAction((parse, ct) => RunAsync(context, "revoke", DataDir(parse), mustExist: true, async store =>
        {
            var keyId = parse.GetRequiredValue(id);
            if (!await store.RevokeApiKeyAsync(keyId, context.Time.GetUtcNow(), ct))
            {
                throw new UsageException(await store.FindApiKeyAsync(keyId, ct) is null
                    ? $"there is no key '{keyId}'; keys list shows the ids"
                    : $"key '{keyId}' is already revoked");
            }
            context.Out.WriteLine($"Revoked key {keyId}.");
            return ExitCodes.Success;
        }));

        return new Command("keys", "Create, list and revoke the API keys of a data directory.") { dataDir, create, list, revoke };
    }

    private static async Task<int> RunAsync(CliContext context, string verb, string dataDir, bool mustExist, Func<SqliteFlywheelStore, Task<int>> action)
    {
        var command = $"{FlywheelCli.Name} keys {verb}";
        // Keys are managed while a server runs on the same directory: SQLite serializes the two writers, and the
        // server's own start-up already checked the file.
        var options = new SqliteStoreOptions { DataDirectory = dataDir, TakeDirectoryLock = false, CheckIntegrityOnOpen = false };
        if (File.Exists(dataDir))
        {
            context.ErrorLine(command, $"--data-dir '{dataDir}' is a file, not a folder");
            return ExitCodes.Usage;
        }
        if (mustExist && !File.Exists(options.DatabasePath))
        {
            context.ErrorLine(command, $"--data-dir '{dataDir}' holds no Flywheel store ({options.DatabasePath} is missing)");
            return ExitCodes.Usage;
        }
        try
        {
            await using var store = await SqliteFlywheelStore.OpenAsync(options);
            return await action(store);
        }
        catch (Exception ex) when (ex is UsageException or FlywheelValidationException)
        {
            context.ErrorLine(command, ex.Message);
            return ExitCodes.Usage;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or System.Data.Common.DbException)
        {
            context.ErrorLine(command, $"cannot open the store in '{dataDir}': {ex.Message}");
            return ExitCodes.Usage;
        }
    }
}

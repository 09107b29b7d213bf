using System.CommandLine;
using System.Net.Sockets;
using Flywheel.Server;
using Flywheel.Storage.Sqlite;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Flywheel.Cli.Commands;

/// <summary><c>flywheel serve</c>: the HTTP API over the embedded SQLite store, configured by <see cref="ServeSettings"/>.</summary>
internal static class ServeCommand
{
    public static Command Create(CliContext context)
    {
        var settingsFile = new Option<string?>("--settings")
        {
            Description = $"A JSON settings file ({{ \"dataDir\": …, \"urls\": …, \"maxConnections\": … }}) below options and environment variables (default: ${ServeSettings.SettingsVariable}).",
            HelpName = "FILE",
        };
        var dataDir = Text(ServeSettings.DataDir, "Folder of the SQLite store (created when missing).", "DIR");
        var store = Text(ServeSettings.Store, "A PostgreSQL connection (postgres://…) for multi-node serving; not supported yet.", "URL");
        var urls = Text(ServeSettings.Urls, $"Where to listen, separated by ';' (also ${ServeSettings.AspNetCoreUrls}, below ${ServeSettings.Urls.Variable}).", "URL");
        var durability = Text(ServeSettings.Durability,
            "process: acknowledged events survive any process crash; power: they also survive power loss (fsync per group commit).", "process|power");
        durability.AcceptOnlyFromAmong("process", "power");
        var insecure = new Option<bool>(ServeSettings.Insecure.Option)
        {
            Description = $"Listen on a non-loopback address although the store holds no API key: anyone who can reach the server may use the API (${ServeSettings.Insecure.Variable}=true).",
        };
        var allowedHosts = Text(ServeSettings.AllowedHosts,
            "Host names requests may name in their Host header, separated by ';' (* for any). Default: localhost, 127.0.0.1, [::1] and the host names of --urls.", "HOSTS");
        var corsOrigins = Text(ServeSettings.CorsOrigins,
            "Origins whose browser scripts may call the API, separated by ';' (such as https://app.example.com). Default: none, no CORS.", "ORIGINS");
        var maxConnections = Number<int>(ServeSettings.MaxConnections, "Most open connections, idle ones included; more are closed at once. Default 4096.");
        var maxRequests = Number<int>(ServeSettings.MaxConcurrentRequests, "Most requests in progress; one more is answered 503 with Retry-After. Default 256.");
        var maxInFlight = Number<long>(ServeSettings.MaxInFlightBytes,
            "Most request-body bytes held by the requests in progress; more is answered 503 with Retry-After. Default 67108864 (64 MiB).", "BYTES");

        var command = new Command("serve", "Serve the Flywheel HTTP API (decide, signals, loops, audit) on the embedded SQLite store. "
            + "Each setting comes from its option, else its FLYWHEEL_* variable, else the settings file, else its default (docs/configuration.md).")
        {
            settingsFile, dataDir, store, urls, durability, insecure, allowedHosts, corsOrigins, maxConnections, maxRequests, maxInFlight,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var given = new Dictionary<string, string?>
            {
                [ServeSettings.DataDir.Key] = parse.GetValue(dataDir),
                [ServeSettings.Store.Key] = parse.GetValue(store),
                [ServeSettings.Urls.Key] = parse.GetValue(urls),
                [ServeSettings.Durability.Key] = parse.GetValue(durability),
                [ServeSettings.Insecure.Key] = parse.GetValue(insecure) ? "true" : null,
                [ServeSettings.AllowedHosts.Key] = parse.GetValue(allowedHosts),
                [ServeSettings.CorsOrigins.Key] = parse.GetValue(corsOrigins),
                [ServeSettings.MaxConnections.Key] = Invariant(parse.GetValue(maxConnections)),
                [ServeSettings.MaxConcurrentRequests.Key] = Invariant(parse.GetValue(maxRequests)),
                [ServeSettings.MaxInFlightBytes.Key] = Invariant(parse.GetValue(maxInFlight)),
            };
            const string name = FlywheelCli.Name + " serve";
            FlywheelServerOptions options;
            SqliteDurability level;
            string? postgres;
            try
            {
                var settings = ServeSettings.Load(given, parse.GetValue(settingsFile), context.Variables);
                options = new FlywheelServerOptions
                {
                    DataDirectory = settings.Get(ServeSettings.DataDir)!,
                    Urls = settings.Get(ServeSettings.Urls)!,
                    Insecure = settings.GetFlag(ServeSettings.Insecure),
                };
                options.MaxConnections = Int(settings, ServeSettings.MaxConnections) ?? options.MaxConnections;
                options.MaxConcurrentRequests = Int(settings, ServeSettings.MaxConcurrentRequests) ?? options.MaxConcurrentRequests;
                options.MaxInFlightBodyBytes = settings.GetNumber(ServeSettings.MaxInFlightBytes) ?? options.MaxInFlightBodyBytes;
                foreach (var host in Split(settings.Get(ServeSettings.AllowedHosts)))
                {
                    options.AllowedHosts.Add(host);
                }
                foreach (var origin in Split(settings.Get(ServeSettings.CorsOrigins)))
                {
                    options.CorsOrigins.Add(origin);
                }
                level = settings.Get(ServeSettings.Durability) switch
                {
                    "process" => SqliteDurability.Process,
                    "power" => SqliteDurability.Power,
                    var other => throw new UsageException($"{settings.Source(ServeSettings.Durability)} '{other}' is neither process nor power"),
                };
                postgres = settings.Get(ServeSettings.Store);
                if (CheckUrls(options.Urls) is { } bad)
                {
                    throw new UsageException($"{settings.Source(ServeSettings.Urls)} {bad}");
                }
            }
            catch (UsageException ex)
            {
                context.ErrorLine(name, ex.Message);
                return Task.FromResult(ExitCodes.Usage);
            }
            return RunAsync(context, options, level, postgres, cancellationToken);
        });
        return command;
    }

    private static Option<string?> Text(ServeSetting setting, string description, string helpName) => new(setting.Option)
    {
        Description = $"{description} (${setting.Variable}{(setting.Default is { } d ? $"; default {d}" : "")})",
        HelpName = helpName,
    };

    private static Option<T?> Number<T>(ServeSetting setting, string description, string helpName = "N") where T : struct => new(setting.Option)
    {
        Description = $"{description} (${setting.Variable})",
        HelpName = helpName,
    };

    private static string? Invariant<T>(T? value) where T : struct, IFormattable => value?.ToString(null, System.Globalization.CultureInfo.InvariantCulture);

    private static int? Int(ServeSettings settings, ServeSetting setting)
        => settings.GetNumber(setting) is not { } value ? null
            : value is >= int.MinValue and <= int.MaxValue ? (int)value
            : throw new UsageException($"{settings.Source(setting)} '{value}' is too large");

    private static string[] Split(string? list) => list?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];

    private static Task<int> RunAsync(CliContext context, FlywheelServerOptions options, SqliteDurability durability, string? store, CancellationToken cancellationToken)
        => RunAsync(context, FlywheelCli.Name + " serve", options, durability, store, null, null, cancellationToken);

    private static async Task<bool> HasKeysAsync(string dataDirectory, CancellationToken cancellationToken)
    {
        // A look at one table before the server starts; the server's own start takes the lock and checks the file.
        var options = new SqliteStoreOptions { DataDirectory = dataDirectory, TakeDirectoryLock = false, CheckIntegrityOnOpen = false };
        if (!File.Exists(options.DatabasePath))
        {
            return false;
        }
        try
        {
            await using var store = await SqliteFlywheelStore.OpenAsync(options, cancellationToken);
            return await store.HasApiKeysAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or System.Data.Common.DbException)
        {
            return false; // the server's own start reports what is wrong with the store
        }
    }

    /// <summary>Null when every URL of <paramref name="urls"/> (separated by ';') is an http(s) URL; else the error naming the bad one.</summary>
    internal static string? CheckUrls(string urls)
    {
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!Uri.TryCreate(url.Replace("*", "localhost", StringComparison.Ordinal).Replace("+", "localhost", StringComparison.Ordinal), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                return $"'{url}' is not an http(s) URL such as http://127.0.0.1:5005";
            }
            if (uri.Scheme == "https")
            {
                return $"'{url}': serve speaks plain HTTP; listen on http://127.0.0.1:{uri.Port} and let a reverse proxy terminate TLS (docs/security.md)";
            }
        }
        return null;
    }

    /// <summary>
    /// Checks the options, starts the server and runs it until Ctrl+C or SIGTERM. <paramref name="configure"/> adds to the
    /// server (the demo's extra dashboard stores); <paramref name="started"/> is told the addresses once it listens.
    /// </summary>
    internal static async Task<int> RunAsync(
        CliContext context, string command, FlywheelServerOptions options, SqliteDurability durability, string? store,
        Action<WebApplicationBuilder>? configure, Action<IReadOnlyList<string>>? started, CancellationToken cancellationToken)
    {
        if (store is not null)
        {
            context.ErrorLine(command, "--store (PostgreSQL) is not supported yet; use --data-dir for the embedded SQLite store");
            return ExitCodes.Usage;
        }
        if (File.Exists(options.DataDirectory))
        {
            context.ErrorLine(command, $"data directory '{options.DataDirectory}' is a file, not a folder");
            return ExitCodes.Usage;
        }
        if (CheckUrls(options.Urls) is { } bad)
        {
            context.ErrorLine(command, $"--urls {bad}");
            return ExitCodes.Usage;
        }
        // Checked here as well as in the server, so a refusal is one line rather than the host's failure log.
        if (FlywheelServerApp.RefuseOpenBinding(options, keysOn: false) is { } refusal && !await HasKeysAsync(options.DataDirectory, cancellationToken))
        {
            context.ErrorLine(command, refusal);
            return ExitCodes.Usage;
        }
        options.Store = flywheel => flywheel.UseSqlite(options.DataDirectory, durability);
        WebApplication app;
        try
        {
            app = FlywheelServerApp.Build(options, configure);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            context.ErrorLine(command, ex.Message);
            return ExitCodes.Usage;
        }
        await using (app)
        {
            try
            {
                await app.StartAsync(cancellationToken);
                started?.Invoke(FlywheelServerApp.Addresses(app));
                await app.WaitForShutdownAsync(cancellationToken);
            }
            catch (FlywheelStartupException ex)
            {
                context.ErrorLine(command, ex.Message);
                return ExitCodes.Usage;
            }
            catch (IOException ex) when (ex.InnerException is SocketException || ex.Message.Contains("address", StringComparison.OrdinalIgnoreCase))
            {
                context.ErrorLine(command, $"cannot listen on {options.Urls}: {ex.Message}");
                return ExitCodes.Usage;
            }
            catch (Exception ex) when (ex is UnauthorizedAccessException or IOException or System.Data.Common.DbException)
            {
                context.ErrorLine(command, $"cannot open the store in '{options.DataDirectory}': {ex.Message}");
                return ExitCodes.Usage;
            }
        }
        // The host stops on Ctrl+C or SIGTERM by itself, or when the command is cancelled.
        return ExitCodes.Success;
    }
}

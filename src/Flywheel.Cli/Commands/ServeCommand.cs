using System.CommandLine;
using System.Net.Sockets;
using Flywheel.Server;
using Flywheel.Storage.Sqlite;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Flywheel.Cli.Commands;

/// <summary><c>flywheel serve</c>: the HTTP API of DESIGN §5 over the embedded SQLite store.</summary>
internal static class ServeCommand
{
    public static Command Create(CliContext context)
    {
        var dataDir = new Option<string>("--data-dir")
        {
            Description = "Folder of the SQLite store (created when missing).",
            HelpName = "DIR",
            DefaultValueFactory = _ => "./flywheel-data",
        };
        var store = new Option<string?>("--store")
        {
            Description = "A PostgreSQL connection (postgres://…) for multi-node serving; not supported yet.",
            HelpName = "URL",
        };
        var urls = new Option<string>("--urls")
        {
            Description = "Where to listen, separated by ';'.",
            HelpName = "URL",
            DefaultValueFactory = _ => "http://127.0.0.1:5005",
        };
        var durability = new Option<string>("--durability")
        {
            Description = "process: acknowledged events survive any process crash; power: they also survive power loss (fsync per group commit).",
            DefaultValueFactory = _ => "process",
        };
        durability.AcceptOnlyFromAmong("process", "power");
        var insecure = new Option<bool>("--insecure")
        {
            Description = "Listen on a non-loopback address although the store holds no API key: anyone who can reach the server may use the API.",
        };
        var allowedHosts = new Option<string?>("--allowed-hosts")
        {
            Description = "Host names requests may name in their Host header, separated by ';' (* for any). Default: localhost, 127.0.0.1, [::1] and the host names of --urls.",
            HelpName = "HOSTS",
        };
        var corsOrigins = new Option<string?>("--cors-origins")
        {
            Description = "Origins whose browser scripts may call the API, separated by ';' (such as https://app.example.com). Default: none, no CORS.",
            HelpName = "ORIGINS",
        };

        var maxConnections = new Option<int?>("--max-connections")
        {
            Description = "Most open connections, idle ones included; more are closed at once. Default 4096.",
            HelpName = "N",
        };
        var maxRequests = new Option<int?>("--max-concurrent-requests")
        {
            Description = "Most requests in progress; one more is answered 503 with Retry-After. Default 256.",
            HelpName = "N",
        };
        var maxInFlight = new Option<long?>("--max-in-flight-bytes")
        {
            Description = "Most request-body bytes held by the requests in progress; more is answered 503 with Retry-After. Default 67108864 (64 MiB).",
            HelpName = "BYTES",
        };

        var command = new Command("serve", "Serve the Flywheel HTTP API (decide, signals, loops, audit) on the embedded SQLite store.")
        {
            dataDir, store, urls, durability, insecure, allowedHosts, corsOrigins, maxConnections, maxRequests, maxInFlight,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var options = new FlywheelServerOptions
            {
                DataDirectory = parse.GetRequiredValue(dataDir),
                Urls = parse.GetRequiredValue(urls),
                Insecure = parse.GetValue(insecure),
            };
            options.MaxConnections = parse.GetValue(maxConnections) ?? options.MaxConnections;
            options.MaxConcurrentRequests = parse.GetValue(maxRequests) ?? options.MaxConcurrentRequests;
            options.MaxInFlightBodyBytes = parse.GetValue(maxInFlight) ?? options.MaxInFlightBodyBytes;
            foreach (var host in Split(parse.GetValue(allowedHosts)))
            {
                options.AllowedHosts.Add(host);
            }
            foreach (var origin in Split(parse.GetValue(corsOrigins)))
            {
                options.CorsOrigins.Add(origin);
            }
            return RunAsync(context, options, parse.GetRequiredValue(durability) == "power" ? SqliteDurability.Power : SqliteDurability.Process, parse.GetValue(store), cancellationToken);
        });
        return command;
    }

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
                return $"--urls '{url}' is not an http(s) URL such as http://127.0.0.1:5005";
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
            context.ErrorLine(command, $"--data-dir '{options.DataDirectory}' is a file, not a folder");
            return ExitCodes.Usage;
        }
        if (CheckUrls(options.Urls) is { } bad)
        {
            context.ErrorLine(command, bad);
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

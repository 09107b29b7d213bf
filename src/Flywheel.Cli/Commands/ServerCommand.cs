using System.CommandLine;
using System.Net.Sockets;
using System.Text.Json;
using Flywheel.Client;
using Flywheel.Core;

namespace Flywheel.Cli.Commands;

/// <summary>What the verbs that talk to a running server share: <c>--server</c>, the client, and the exit codes.</summary>
internal static class ServerCommand
{
    public const string DefaultServer = "http://127.0.0.1:5005";

    /// <summary>The environment variable that holds the server's URL when <c>--server</c> is not given.</summary>
    public const string ServerVariable = "FLYWHEEL_SERVER";

    /// <summary>The <c>--server URL</c> option (default: <see cref="ServerVariable"/>, else <see cref="DefaultServer"/>).</summary>
    public static Option<string?> ServerOption(bool recursive = false) => new("--server")
    {
        Description = $"The Flywheel server (default: ${ServerVariable}, else {DefaultServer}).",
        HelpName = "URL",
        Recursive = recursive,
    };

    /// <summary>The environment variable that holds the API key when <c>--key</c> is not given.</summary>
    public const string KeyVariable = "FLYWHEEL_API_KEY";

    /// <summary>The <c>--key KEY</c> option (default: <see cref="KeyVariable"/>).</summary>
    public static Option<string?> KeyOption(bool recursive = false) => new("--key")
    {
        Description = $"The API key, sent as Authorization: Bearer KEY (default: ${KeyVariable}; none when the server has no keys).",
        HelpName = "KEY",
        Recursive = recursive,
    };

    /// <summary>
    /// Runs <paramref name="action"/> with a client of <paramref name="server"/>, sending <paramref name="key"/> (or
    /// <see cref="KeyVariable"/>'s value when it is null). Refusals of the input (an unknown
    /// loop, a bad field, a conflict) and bad arguments print one line and return <see cref="ExitCodes.Usage"/>; a
    /// server that cannot be reached or fails prints one line and returns <see cref="ExitCodes.Failure"/>.
    /// </summary>
    public static async Task<int> RunAsync(CliContext context, string command, string? server, string? key, Func<FlywheelClient, Task> action)
    {
        key ??= context.Variables(KeyVariable);
        key = string.IsNullOrWhiteSpace(key) ? null : key.Trim();
        if (Address(context, command, server) is not { } address)
        {
            return ExitCodes.Usage;
        }
        using var http = new HttpClient { BaseAddress = address, Timeout = Timeout.InfiniteTimeSpan };
        var client = new FlywheelClient(http, new FlywheelClientOptions
        {
            BaseAddress = address,
            ApiKey = key,
            MaxRetries = 1,
            Timeout = TimeSpan.FromSeconds(10),
            // A person waits for a turn or an evaluation at the terminal and stops it with Ctrl+C.
            LongOperationTimeout = TimeSpan.FromHours(1),
        });
        try
        {
            await action(client);
            return ExitCodes.Success;
        }
        catch (FlywheelValidationException ex)
        {
            context.ErrorLine(command, ex.Message);
            return ExitCodes.Usage;
        }
        catch (UsageException ex)
        {
            context.ErrorLine(command, ex.Message);
            return ExitCodes.Usage;
        }
        catch (FlywheelApiException ex) when (ex.StatusCode is 401 or 403)
        {
            context.ErrorLine(command, $"server {address} refused the key: {ex.Message}" + (key is null ? $" (pass --key or set {KeyVariable})" : ""));
            return ExitCodes.Usage;
        }
        catch (Exception ex) when (ex is HttpRequestException or SocketException or TimeoutException or FlywheelApiException or FlywheelOverloadedException)
        {
            context.ErrorLine(command, $"server {address} failed: {ex.Message}");
            return ExitCodes.Failure;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            context.ErrorLine(command, ex.Message);
            return ExitCodes.Usage;
        }
    }

    /// <summary>
    /// The server's address: <paramref name="server"/>, else <see cref="ServerVariable"/>'s value, else
    /// <see cref="DefaultServer"/>. Null, after one error line naming where the value came from, when it is not an http(s) URL.
    /// </summary>
    public static Uri? Address(CliContext context, string command, string? server)
    {
        var source = "--server";
        if (server is null && context.Variables(ServerVariable) is { Length: > 0 } fromVariable && !string.IsNullOrWhiteSpace(fromVariable))
        {
            (server, source) = (fromVariable.Trim(), ServerVariable);
        }
        server ??= DefaultServer;
        if (!Uri.TryCreate(server, UriKind.Absolute, out var address) || address.Scheme is not ("http" or "https"))
        {
            context.ErrorLine(command, $"{source} '{server}' is not an http(s) URL");
            return null;
        }
        return address;
    }

    /// <summary>Reads a model version written <c>3</c> or <c>v3</c>.</summary>
    public static int ParseVersion(string text, string option)
    {
        var digits = text.StartsWith('v') ? text.AsSpan(1) : text.AsSpan();
        if (!int.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var version) || version < 1)
        {
            throw new UsageException($"{option} '{text}' is not a model version; use a number such as 3 or v3");
        }
        return version;
    }
}

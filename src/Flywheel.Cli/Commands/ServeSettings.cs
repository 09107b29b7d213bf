using System.Globalization;
using System.Text.Json;
using Flywheel.Core;
using Microsoft.Extensions.Configuration;

namespace Flywheel.Cli.Commands;

/// <summary>One setting of <c>flywheel serve</c>: its key in a settings file, its option and its environment variable.</summary>
internal sealed record ServeSetting(string Key, string Option, string Variable, string? Default);

/// <summary>
/// The settings of <c>flywheel serve</c>, each taken from its option, else its environment variable (<c>FLYWHEEL_*</c>;
/// the URLs also from the standard <c>ASPNETCORE_URLS</c>), else the JSON settings file (<c>--settings</c> or
/// <c>FLYWHEEL_SETTINGS</c>), else its default: configuration providers layered in that order, so the last one added
/// that has a key wins. A value that is not what its setting takes is an error naming where it came from.
/// </summary>
internal sealed class ServeSettings
{
    public static readonly ServeSetting DataDir = new("dataDir", "--data-dir", "FLYWHEEL_DATA_DIR", "./flywheel-data");
    public static readonly ServeSetting Urls = new("urls", "--urls", "FLYWHEEL_URLS", "http://127.0.0.1:5005");
    public static readonly ServeSetting Durability = new("durability", "--durability", "FLYWHEEL_DURABILITY", "process");
    public static readonly ServeSetting Insecure = new("insecure", "--insecure", "FLYWHEEL_INSECURE", "false");
    public static readonly ServeSetting AllowedHosts = new("allowedHosts", "--allowed-hosts", "FLYWHEEL_ALLOWED_HOSTS", null);
    public static readonly ServeSetting CorsOrigins = new("corsOrigins", "--cors-origins", "FLYWHEEL_CORS_ORIGINS", null);
    public static readonly ServeSetting MaxConnections = new("maxConnections", "--max-connections", "FLYWHEEL_MAX_CONNECTIONS", null);
    public static readonly ServeSetting MaxConcurrentRequests = new("maxConcurrentRequests", "--max-concurrent-requests", "FLYWHEEL_MAX_CONCURRENT_REQUESTS", null);
    public static readonly ServeSetting MaxInFlightBytes = new("maxInFlightBytes", "--max-in-flight-bytes", "FLYWHEEL_MAX_IN_FLIGHT_BYTES", null);
    public static readonly ServeSetting Store = new("store", "--store", "FLYWHEEL_STORE", null);

    /// <summary>Every setting, in the order of the docs' table.</summary>
    public static readonly ServeSetting[] All = [DataDir, Urls, Durability, Insecure, AllowedHosts, CorsOrigins, MaxConnections, MaxConcurrentRequests, MaxInFlightBytes, Store];

    /// <summary>The variable naming the settings file when <c>--settings</c> is not given.</summary>
    public const string SettingsVariable = "FLYWHEEL_SETTINGS";

    /// <summary>The standard ASP.NET Core variable for the URLs, below <c>FLYWHEEL_URLS</c>.</summary>
    public const string AspNetCoreUrls = "ASPNETCORE_URLS";

    private readonly IConfigurationRoot _root;
    private readonly string? _file;
    private readonly HashSet<string> _options;
    private readonly Dictionary<string, string> _variables;

    private ServeSettings(IConfigurationRoot root, string? file, HashSet<string> options, Dictionary<string, string> variables)
    {
        _root = root;
        _file = file;
        _options = options;
        _variables = variables;
    }

    /// <summary>
    /// Layers the settings file (when one is named), the environment and <paramref name="options"/> (the values given on
    /// the command line, by key). Throws <see cref="UsageException"/> for a settings file that is missing, not JSON, or
    /// holds a key that is not a setting.
    /// </summary>
    public static ServeSettings Load(IReadOnlyDictionary<string, string?> options, string? settingsFile, Func<string, string?> variables)
    {
        var builder = new ConfigurationBuilder();
        var file = settingsFile ?? NonEmpty(variables(SettingsVariable));
        if (file is not null)
        {
            CheckFile(file);
            builder.AddJsonFile(Path.GetFullPath(file), optional: false, reloadOnChange: false);
        }
        var environment = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var sources = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var setting in All)
        {
            var variable = NonEmpty(variables(setting.Variable)) is not null ? setting.Variable
                : setting == Urls && NonEmpty(variables(AspNetCoreUrls)) is not null ? AspNetCoreUrls
                : null;
            if (variable is not null)
            {
                environment[setting.Key] = NonEmpty(variables(variable));
                sources[setting.Key] = variable;
            }
        }
        builder.AddInMemoryCollection(environment);
        builder.AddInMemoryCollection(options.Where(o => o.Value is not null));
        try
        {
            var given = new HashSet<string>(options.Where(o => o.Value is not null).Select(o => o.Key), StringComparer.OrdinalIgnoreCase);
            return new ServeSettings(builder.Build(), file, given, sources);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or FormatException)
        {
            throw new UsageException($"settings file '{file}' cannot be read: {ex.Message}");
        }
    }

    /// <summary>The value in force, or the setting's default.</summary>
    public string? Get(ServeSetting setting) => _root[setting.Key] ?? setting.Default;

    /// <summary>The value in force read as a whole number, or null when nothing sets it.</summary>
    public long? GetNumber(ServeSetting setting)
    {
        var text = _root[setting.Key];
        if (text is null)
        {
            return null;
        }
        return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new UsageException($"{Source(setting)} '{text}' is not a whole number");
    }

    /// <summary>The value in force read as true or false.</summary>
    public bool GetFlag(ServeSetting setting)
    {
        var text = Get(setting);
        return bool.TryParse(text, out var value) ? value : throw new UsageException($"{Source(setting)} '{text}' is neither true nor false");
    }

    /// <summary>Where the value of <paramref name="setting"/> came from, in words: the option, the variable or the file.</summary>
    public string Source(ServeSetting setting)
        => _options.Contains(setting.Key) ? setting.Option
            : _variables.TryGetValue(setting.Key, out var variable) ? variable
            : $"\"{setting.Key}\" in settings file '{_file}'";

    private static void CheckFile(string file)
    {
        if (!File.Exists(file))
        {
            throw new UsageException($"settings file '{file}' not found");
        }
        byte[] utf8;
        try
        {
            utf8 = File.ReadAllBytes(file);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"settings file '{file}' cannot be read: {ex.Message}");
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException ex)
        {
            throw new UsageException($"settings file '{file}' is not valid JSON: {FlywheelJson.DescribeSyntaxError(ex, utf8)}");
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new UsageException($"settings file '{file}' must hold one JSON object such as {{ \"dataDir\": \"/var/lib/flywheel\" }}");
            }
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!All.Any(s => string.Equals(s.Key, property.Name, StringComparison.OrdinalIgnoreCase)))
                {
                    throw new UsageException($"settings file '{file}': \"{property.Name}\" is not a setting (settings: {string.Join(", ", All.Select(s => s.Key))})");
                }
                if (property.Value.ValueKind is JsonValueKind.Object or JsonValueKind.Array)
                {
                    throw new UsageException($"settings file '{file}': \"{property.Name}\" must be a string, number or boolean (lists are separated by ';')");
                }
            }
        }
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}

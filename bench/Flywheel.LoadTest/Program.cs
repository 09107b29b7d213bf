using System.CommandLine;
using System.Globalization;

namespace Flywheel.LoadTest;

/// <summary>
/// <c>Flywheel.LoadTest</c>: starts <c>flywheel serve</c> on loopback once per durability setting and measures open-loop
/// decide latency at fixed rates and closed-loop signal throughput at fixed batch sizes. Markdown on stdout (or
/// <c>--json</c>), progress on stderr.
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var cli = new Option<string?>("--cli") { Description = "The built CLI: flywheel.dll (run with dotnet) or the flywheel executable. Default: src/Flywheel.Cli/bin/Release/net10.0/flywheel.dll of this repository.", HelpName = "PATH" };
        var durability = new Option<string>("--durability") { Description = "Durability settings to run, comma-separated.", DefaultValueFactory = _ => "process,power" };
        var rates = new Option<string>("--rates") { Description = "Decide rates (requests/s), comma-separated.", DefaultValueFactory = _ => "200,1000,5000" };
        var warmup = new Option<double>("--warmup-seconds") { Description = "Decide warm-up per rate (not measured).", DefaultValueFactory = _ => 2 };
        var duration = new Option<double>("--duration-seconds") { Description = "Measured decide time per rate.", DefaultValueFactory = _ => 10 };
        var batches = new Option<string>("--batch-sizes") { Description = "Signal batch sizes, comma-separated.", DefaultValueFactory = _ => "1,100,1000" };
        var signalWarmup = new Option<double>("--signal-warmup-seconds") { Description = "Signal warm-up per batch size (not measured).", DefaultValueFactory = _ => 2 };
        var signalDuration = new Option<double>("--signal-duration-seconds") { Description = "Measured signal time per batch size.", DefaultValueFactory = _ => 10 };
        var senders = new Option<int>("--senders") { Description = "Concurrent signal senders (closed loop).", DefaultValueFactory = _ => 8 };
        var connections = new Option<int>("--connections") { Description = "HttpClient MaxConnectionsPerServer.", DefaultValueFactory = _ => 256 };
        var signalDecisions = new Option<int>("--signal-decisions") { Description = "Decisions created before the signal runs, for the signals to name (see --signal-pattern).", DefaultValueFactory = _ => 1_000 };
        var prewarm = new Option<double>("--prewarm-seconds") { Description = "Closed-loop decides after start-up, before anything is measured (JIT, connections).", DefaultValueFactory = _ => 5 };
        var window = new Option<double>("--window-seconds") { Description = "The loop's reward window. The default (600) keeps every window open during the run: the learner idles.", DefaultValueFactory = _ => 600 };
        var seed = new Option<int>("--seed") { Description = "Seed of the generated requests.", DefaultValueFactory = _ => 42 };
        var noSignalIds = new Option<bool>("--no-signal-ids") { Description = "Send signals without signalId (the server generates ids and skips the idempotency lookup): an experiment, not the default." };
        var pattern = new Option<string>("--signal-pattern") { Description = "Which decision each signal names: random (uniform over the pool) or sequential (walks the pool in creation order, like signals following their decisions in time).", DefaultValueFactory = _ => "random" };
        pattern.AcceptOnlyFromAmong("random", "sequential");
        var json = new Option<bool>("--json") { Description = "Print the results as JSON instead of Markdown." };
        var keepData = new Option<bool>("--keep-data") { Description = "Keep the temporary data directories." };
        var timeout = new Option<double>("--timeout-seconds") { Description = "Per-request timeout.", DefaultValueFactory = _ => 10 };
        var traceSlow = new Option<double>("--trace-slow-ms") { Description = "Diagnostics: list on stderr when decides slower than this happened (bursts, seconds into the measured window). 0: off.", DefaultValueFactory = _ => 0 };

        var root = new RootCommand("HTTP load test of flywheel serve on loopback: decide latency at fixed rates, signal throughput at fixed batch sizes, per durability setting.")
        {
            cli, durability, rates, warmup, duration, batches, signalWarmup, signalDuration, senders, connections, signalDecisions,
            prewarm, window, seed, noSignalIds, pattern, json, keepData, timeout, traceSlow,
        };
        root.SetAction(async (parse, cancellationToken) =>
        {
            Settings settings;
            try
            {
                settings = new Settings
                {
                    Cli = ResolveCli(parse.GetValue(cli)),
                    Durabilities = List(parse.GetRequiredValue(durability), "--durability", s => s is "process" or "power" ? s : throw new FormatException("process or power")),
                    Rates = List(parse.GetRequiredValue(rates), "--rates", Positive),
                    DecideWarmup = Seconds(parse.GetValue(warmup), "--warmup-seconds", allowZero: true),
                    DecideDuration = Seconds(parse.GetValue(duration), "--duration-seconds"),
                    BatchSizes = List(parse.GetRequiredValue(batches), "--batch-sizes", s => Positive(s) is var n and <= 10_000 ? n : throw new FormatException("1 to 10,000 (the server's limit)")),
                    SignalWarmup = Seconds(parse.GetValue(signalWarmup), "--signal-warmup-seconds", allowZero: true),
                    SignalDuration = Seconds(parse.GetValue(signalDuration), "--signal-duration-seconds"),
                    Senders = Range(parse.GetValue(senders), "--senders", 1, 256),
                    Connections = Range(parse.GetValue(connections), "--connections", 1, 10_000),
                    SignalDecisions = Range(parse.GetValue(signalDecisions), "--signal-decisions", 1, 1_000_000),
                    Prewarm = Seconds(parse.GetValue(prewarm), "--prewarm-seconds", allowZero: true),
                    WindowSeconds = parse.GetValue(window) is > 0 and <= 30 * 86_400 and var w ? w : throw new UsageException("--window-seconds must be in (0, 2592000]"),
                    Seed = parse.GetValue(seed),
                    SignalIds = !parse.GetValue(noSignalIds),
                    SequentialSignals = parse.GetRequiredValue(pattern) == "sequential",
                    Json = parse.GetValue(json),
                    KeepData = parse.GetValue(keepData),
                    RequestTimeout = Seconds(parse.GetValue(timeout), "--timeout-seconds"),
                    TraceSlowMs = parse.GetValue(traceSlow) is >= 0 and var t && double.IsFinite(t) ? t : throw new UsageException("--trace-slow-ms must be 0 or more"),
                };
            }
            catch (UsageException ex)
            {
                await Console.Error.WriteLineAsync("Flywheel.LoadTest: " + ex.Message);
                return 2;
            }
            try
            {
                var report = await LoadTest.RunAsync(settings, Console.Error, cancellationToken);
                await Console.Out.WriteAsync(settings.Json ? Report.Json(report) : Report.Markdown(report));
                return 0;
            }
            catch (OperationCanceledException)
            {
                await Console.Error.WriteLineAsync("Flywheel.LoadTest: cancelled");
                return 130;
            }
            catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or HttpRequestException or IOException)
            {
                await Console.Error.WriteLineAsync("Flywheel.LoadTest: " + ex.Message);
                return 1;
            }
        });
        root.Subcommands.Add(SoakCommand());
        return await root.Parse(args).InvokeAsync();
    }

    /// <summary><c>soak</c>: capacity with the soak's own mix, then an open loop at a fraction of it for N minutes, memory sampled throughout.</summary>
    private static Command SoakCommand()
    {
        var cli = new Option<string?>("--cli") { Description = "The built CLI (flywheel.dll or the flywheel executable). Default: the Release (then Debug) build of src/Flywheel.Cli in this repository.", HelpName = "PATH" };
        var durability = new Option<string>("--durability") { Description = "Durability of the server's store.", DefaultValueFactory = _ => "process" };
        durability.AcceptOnlyFromAmong("process", "power");
        var minutes = new Option<int>("--minutes") { Description = "Length of the soak in minutes.", DefaultValueFactory = _ => 10 };
        var fraction = new Option<double>("--fraction") { Description = "Soak rate as a fraction of the measured capacity (decides/s).", DefaultValueFactory = _ => 0.7 };
        var capacity = new Option<double?>("--capacity") { Description = "Take this many decides/s as capacity instead of measuring it." };
        var clients = new Option<int>("--capacity-clients") { Description = "Concurrent clients of the closed-loop capacity phase.", DefaultValueFactory = _ => 64 };
        var capacityWarmup = new Option<double?>("--capacity-warmup-seconds") { Description = "Capacity phase warm-up (not measured). Default: the reward window + 10 s, so that windows close at their steady rate (and the learner learns at it) while capacity is measured." };
        var capacitySeconds = new Option<double>("--capacity-seconds") { Description = "Measured time of the capacity phase.", DefaultValueFactory = _ => 30 };
        var prewarm = new Option<double>("--prewarm-seconds") { Description = "Closed-loop decides after start-up, before the capacity phase (JIT, connections).", DefaultValueFactory = _ => 5 };
        var window = new Option<double>("--window-seconds") { Description = "The loop's reward window: short, so windows close and the learner runs during the soak.", DefaultValueFactory = _ => 30 };
        var sample = new Option<double>("--sample-seconds") { Description = "How often the server's memory and /metrics are sampled; must divide 60.", DefaultValueFactory = _ => 10 };
        var connections = new Option<int>("--connections") { Description = "HttpClient MaxConnectionsPerServer.", DefaultValueFactory = _ => 256 };
        var seed = new Option<int>("--seed") { Description = "Seed of the sessions (bodies, signals).", DefaultValueFactory = _ => 42 };
        var json = new Option<bool>("--json") { Description = "Print the results as JSON instead of Markdown." };
        var jsonFile = new Option<string?>("--json-file") { Description = "Also write the results, every sample included, as JSON to this file.", HelpName = "PATH" };
        var keepData = new Option<bool>("--keep-data") { Description = "Keep the temporary data directory." };
        var timeout = new Option<double>("--timeout-seconds") { Description = "Per-request timeout.", DefaultValueFactory = _ => 10 };
        var command = new Command("soak", "Soak test of flywheel serve: capacity measured with a decide-then-signals mix (closed loop), then an open loop at a fraction of it for N minutes, with a short reward window; per-minute rates, latencies, errors and server memory (RSS), and whether memory stays flat.")
        {
            cli, durability, minutes, fraction, capacity, clients, capacityWarmup, capacitySeconds, prewarm, window, sample, connections, seed, json, jsonFile, keepData, timeout,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            SoakSettings settings;
            try
            {
                settings = new SoakSettings
                {
                    Cli = ResolveCli(parse.GetValue(cli)),
                    Durability = parse.GetRequiredValue(durability),
                    Minutes = Range(parse.GetValue(minutes), "--minutes", 1, 1_440),
                    Fraction = parse.GetValue(fraction) is > 0 and <= 2 and var f ? f : throw new UsageException("--fraction must be in (0, 2]"),
                    Capacity = parse.GetValue(capacity) is { } given
                        ? given is > 0 and <= 1_000_000 ? given : throw new UsageException("--capacity must be in (0, 1000000] decides/s")
                        : null,
                    CapacityClients = Range(parse.GetValue(clients), "--capacity-clients", 1, 1_024),
                    CapacityWarmup = parse.GetValue(capacityWarmup) is { } warm
                        ? Seconds(warm, "--capacity-warmup-seconds", allowZero: true)
                        : TimeSpan.FromSeconds(Math.Min(parse.GetValue(window), 3_590) + 10),
                    CapacityDuration = Seconds(parse.GetValue(capacitySeconds), "--capacity-seconds"),
                    Prewarm = Seconds(parse.GetValue(prewarm), "--prewarm-seconds", allowZero: true),
                    WindowSeconds = parse.GetValue(window) is > 0 and <= 30 * 86_400 and var w ? w : throw new UsageException("--window-seconds must be in (0, 2592000]"),
                    SampleInterval = parse.GetValue(sample) is var sec && sec is > 0 and <= 60 && Math.Abs(60 / sec - Math.Round(60 / sec)) < 1e-9
                        ? TimeSpan.FromSeconds(sec)
                        : throw new UsageException("--sample-seconds must divide 60 (for example 5, 10, 15, 30 or 60)"),
                    Connections = Range(parse.GetValue(connections), "--connections", 1, 10_000),
                    Seed = parse.GetValue(seed),
                    Json = parse.GetValue(json),
                    JsonFile = parse.GetValue(jsonFile) is { } path
                        ? Directory.Exists(Path.GetDirectoryName(Path.GetFullPath(path))) ? Path.GetFullPath(path) : throw new UsageException($"--json-file '{path}': its folder does not exist")
                        : null,
                    KeepData = parse.GetValue(keepData),
                    RequestTimeout = Seconds(parse.GetValue(timeout), "--timeout-seconds"),
                };
            }
            catch (UsageException ex)
            {
                await Console.Error.WriteLineAsync("Flywheel.LoadTest soak: " + ex.Message);
                return 2;
            }
            try
            {
                var report = await SoakTest.RunAsync(settings, Console.Error, cancellationToken);
                if (settings.JsonFile is { } file)
                {
                    await File.WriteAllTextAsync(file, Report.Json(report), cancellationToken);
                }
                await Console.Out.WriteAsync(settings.Json ? Report.Json(report) : SoakMarkdown.Render(report));
                return 0;
            }
            catch (OperationCanceledException)
            {
                await Console.Error.WriteLineAsync("Flywheel.LoadTest soak: cancelled");
                return 130;
            }
            catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or HttpRequestException or IOException)
            {
                await Console.Error.WriteLineAsync("Flywheel.LoadTest soak: " + ex.Message);
                return 1;
            }
        });
        return command;
    }

    private static List<T> List<T>(string text, string option, Func<string, T> parse)
    {
        var items = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (items.Length == 0)
        {
            throw new UsageException($"{option} is empty");
        }
        try
        {
            return items.Select(parse).ToList();
        }
        catch (FormatException ex)
        {
            throw new UsageException($"{option} '{text}': each item must be {ex.Message}");
        }
    }

    private static int Positive(string s)
        => int.TryParse(s.Replace("_", "", StringComparison.Ordinal), NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : throw new FormatException("a positive integer");

    private static int Range(int value, string option, int min, int max)
        => value >= min && value <= max ? value : throw new UsageException($"{option} must be between {min} and {max}; got {value}");

    private static TimeSpan Seconds(double value, string option, bool allowZero = false)
        => double.IsFinite(value) && (value > 0 || (allowZero && value == 0)) && value <= 3_600
            ? TimeSpan.FromSeconds(value)
            : throw new UsageException($"{option} must be {(allowZero ? "between 0" : "above 0")} and at most 3600 seconds; got {value}");

    /// <summary>The given path, or the Release (then Debug) build output of src/Flywheel.Cli in the repository this program was built from.</summary>
    private static string ResolveCli(string? given)
    {
        if (given is not null)
        {
            return File.Exists(given) ? Path.GetFullPath(given) : throw new UsageException($"--cli '{given}' does not exist");
        }
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Flywheel.slnx")))
            {
                foreach (var configuration in new[] { "Release", "Debug" })
                {
                    var dll = Path.Combine(dir.FullName, "src", "Flywheel.Cli", "bin", configuration, "net10.0", "flywheel.dll");
                    if (File.Exists(dll))
                    {
                        return dll;
                    }
                }
                throw new UsageException($"no built CLI under {Path.Combine(dir.FullName, "src", "Flywheel.Cli", "bin")}: run `dotnet build -c Release src/Flywheel.Cli` or pass --cli PATH");
            }
        }
        throw new UsageException("cannot find the repository (Flywheel.slnx) above this program: pass --cli PATH to flywheel.dll");
    }
}

internal sealed class UsageException(string message) : Exception(message);

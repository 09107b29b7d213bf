using System.CommandLine;
using System.Globalization;
using Flywheel.Simulation;
using Flywheel.Simulation.Search;
using Flywheel.Simulation.Summarise;
using Flywheel.Simulation.Tutor;

namespace Flywheel.Cli.Commands;

/// <summary>
/// <c>flywheel simulate SCENARIO</c>: runs a world with known truth through the real engine and store, and
/// prints each product's monthly figures, or every daily and monthly figure with <c>--json</c>. The <c>search</c> scenario
/// (<see cref="SimulateSearch"/>) runs a stream of queries instead of days: it takes <c>--queries</c> and refuses
/// <c>--days</c> and <c>--users</c>, which the feed scenarios take and which refuse <c>--queries</c>. The <c>tutor</c>
/// scenario (<see cref="SimulateTutor"/>) runs days of learners: it takes <c>--days</c> and <c>--learners</c> (which only it
/// takes) and refuses <c>--users</c> and <c>--queries</c>. The <c>summarise</c> scenario (<see cref="SimulateSummarise"/>)
/// takes <c>--days</c> and <c>--users</c> with defaults of its own.
/// </summary>
internal static class SimulateCommand
{
    private const string CommandName = FlywheelCli.Name + " simulate";

    public static Command Create(CliContext context)
    {
        string[] names = [.. Scenarios.Names, SearchSimulation.Name, TutorSimulation.Name, SummariseSimulation.Name];
        var scenario = new Argument<string>("SCENARIO")
        {
            Description = "The world to run: " + string.Join(", ", names) + ".",
        };
        scenario.AcceptOnlyFromAmong(names);
        var days = SimulationCli.DaysOption();
        var users = SimulationCli.UsersOption();
        var queries = SimulateSearch.QueriesOption();
        var learners = SimulateTutor.LearnersOption();
        var seed = SimulationCli.SeedOption();
        var json = SimulationCli.JsonOption();
        var dataDir = new Option<string?>("--data-dir")
        {
            Description = "Keep each product's (or loop's) store in DIR/<key> (emptied first); by default a temporary folder, removed afterwards.",
            HelpName = "DIR",
        };
        var command = new Command("simulate", "Run a simulated world with known truth through the real engine and report what each product's loop did.")
        {
            scenario, days, users, queries, learners, seed, json, dataDir,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var name = parse.GetRequiredValue(scenario);
            // Options the scenario has no use for are refused rather than ignored: a run must be what was asked for.
            string? misplaced = name == SearchSimulation.Name
                ? parse.GetResult(days) is { Implicit: false } ? "--days" : parse.GetResult(users) is { Implicit: false } ? "--users" : null
                : name == TutorSimulation.Name
                    ? parse.GetResult(users) is { Implicit: false } ? "--users" : parse.GetResult(queries) is { Implicit: false } ? "--queries" : null
                    : parse.GetResult(queries) is { Implicit: false } ? "--queries" : null;
            if (misplaced is null && name != TutorSimulation.Name && parse.GetResult(learners) is { Implicit: false })
            {
                misplaced = "--learners";
            }
            var sizes = new SizeArguments(
                parse.GetValue(learners),
                parse.GetResult(days) is { Implicit: false } ? parse.GetValue(days) : null,
                parse.GetResult(users) is { Implicit: false } ? parse.GetValue(users) : null);
            return RunAsync(
                context,
                name,
                parse.GetValue(days),
                parse.GetValue(users),
                parse.GetValue(queries),
                misplaced,
                parse.GetValue(seed),
                parse.GetValue(json),
                parse.GetValue(dataDir),
                sizes,
                cancellationToken);
        });
        return command;
    }

    /// <summary>
    /// The tutor and summarise scenarios' sizes as given: <c>--learners</c>, and <c>--days</c> and <c>--users</c> only when
    /// given (their defaults differ from the feed's).
    /// </summary>
    private sealed record SizeArguments(int? Learners, int? Days, int? Users);

    private static async Task<int> RunAsync(CliContext context, string name, int days, int users, int? queries, string? misplaced, ulong seed, bool json, string? dataDir, SizeArguments sizes, CancellationToken cancellationToken)
    {
        var search = name == SearchSimulation.Name;
        var tutor = name == TutorSimulation.Name;
        var summarise = name == SummariseSimulation.Name;
        int searchQueries;
        (int Learners, int Days) tutorSize = default;
        (int Users, int Days) summariseSize = default;
        try
        {
            if (misplaced is not null)
            {
                throw new UsageException(search
                    ? $"{misplaced} does not apply to the search scenario, which runs a stream of queries: use --queries"
                    : tutor
                        ? $"{misplaced} does not apply to the tutor scenario, which runs days (--days) of learners (--learners)"
                        : misplaced == "--learners"
                            ? $"--learners applies only to the tutor scenario; '{name}' runs days (--days) of users (--users)"
                            : $"{misplaced} applies only to the search scenario; '{name}' runs days (--days) of users (--users)");
            }
            searchQueries = SimulateSearch.CheckQueries(queries);
            if (tutor)
            {
                tutorSize = SimulateTutor.Check(sizes.Learners, sizes.Days);
            }
            else if (summarise)
            {
                summariseSize = SimulateSummarise.Check(sizes.Users, sizes.Days);
            }
            else
            {
                SimulationCli.Check(days, users);
            }
            if (dataDir is not null && string.IsNullOrWhiteSpace(dataDir))
            {
                throw new UsageException("--data-dir needs a directory");
            }
        }
        catch (UsageException ex)
        {
            context.ErrorLine(CommandName, ex.Message);
            return ExitCodes.Usage;
        }
        var temporary = dataDir is null;
        var directory = dataDir ?? Path.Combine(Path.GetTempPath(), "flywheel-simulate-" + Guid.NewGuid().ToString("N"));
        try
        {
            if (search)
            {
                var run = new SearchOptions { Queries = searchQueries, Seed = seed, DataDirectory = directory };
                await SimulateSearch.RunAsync(context, run, json, keepStores: !temporary, cancellationToken).ConfigureAwait(false);
                return ExitCodes.Success;
            }
            if (tutor)
            {
                var run = new TutorOptions { Learners = tutorSize.Learners, Days = tutorSize.Days, Seed = seed, DataDirectory = directory };
                await SimulateTutor.RunAsync(context, run, json, keepStores: !temporary, cancellationToken).ConfigureAwait(false);
                return ExitCodes.Success;
            }
            if (summarise)
            {
                var run = new SummariseOptions { Users = summariseSize.Users, Days = summariseSize.Days, Seed = seed, DataDirectory = directory };
                await SimulateSummarise.RunAsync(context, run, json, keepStores: !temporary, cancellationToken).ConfigureAwait(false);
                return ExitCodes.Success;
            }
            var scenario = Scenarios.Get(name);
            var options = new SimulationOptions { Days = days, Users = users, Seed = seed, DataDirectory = directory };
            var result = await SimulationCli.RunAsync(context, "simulate " + name, scenario, options, quiet: false, cancellationToken).ConfigureAwait(false);
            if (json)
            {
                SimulationCli.WriteJson(context.Out, result);
            }
            else
            {
                context.Out.WriteLine($"{name}: {scenario.Description}");
                foreach (var p in result.Products)
                {
                    context.Out.WriteLine($"  {p.Spec.Name}: {p.Spec.Description}");
                }
                context.Out.WriteLine();
                MonthTable.Write(context.Out, result);
                var last = result.MonthCount;
                context.Out.WriteLine();
                foreach (var p in result.Products)
                {
                    context.Out.WriteLine($"{p.Spec.Name} in {SimulationCalendar.MonthName(last)}: {SimulationCli.Figures(p, last)}");
                }
                if (!temporary)
                {
                    context.Out.WriteLine($"Stores: {Path.GetFullPath(directory)}/<product> (flywheel serve --data-dir … serves one).");
                }
            }
            context.Out.Flush();
            return ExitCodes.Success;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            context.ErrorLine(CommandName, $"cannot use the data directory '{directory}': {ex.Message}");
            return ExitCodes.Usage;
        }
        finally
        {
            if (temporary)
            {
                try
                {
                    Directory.Delete(directory, recursive: true);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    // A temporary folder left behind must not turn the run's result into a failure.
                }
            }
        }
    }
}

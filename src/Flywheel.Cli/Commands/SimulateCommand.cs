using System.CommandLine;
using System.Globalization;
using Flywheel.Simulation;

namespace Flywheel.Cli.Commands;

/// <summary>
/// <c>flywheel simulate SCENARIO</c>: runs a world with known truth through the real engine and store, and
/// prints each product's monthly figures, or every daily and monthly figure with <c>--json</c>.
/// </summary>
internal static class SimulateCommand
{
    private const string CommandName = FlywheelCli.Name + " simulate";

    public static Command Create(CliContext context)
    {
        var scenario = new Argument<string>("SCENARIO")
        {
            Description = "The world to run: " + string.Join(", ", Scenarios.Names) + ".",
        };
        scenario.AcceptOnlyFromAmong([.. Scenarios.Names]);
        var days = SimulationCli.DaysOption();
        var users = SimulationCli.UsersOption();
        var seed = SimulationCli.SeedOption();
        var json = SimulationCli.JsonOption();
        var dataDir = new Option<string?>("--data-dir")
        {
            Description = "Keep each product's store in DIR/<product> (emptied first); by default a temporary folder, removed afterwards.",
            HelpName = "DIR",
        };
        var command = new Command("simulate", "Run a simulated world with known truth through the real engine and report what each product's loop did.")
        {
            scenario, days, users, seed, json, dataDir,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(
            context,
            parse.GetRequiredValue(scenario),
            parse.GetValue(days),
            parse.GetValue(users),
            parse.GetValue(seed),
            parse.GetValue(json),
            parse.GetValue(dataDir),
            cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(CliContext context, string name, int days, int users, ulong seed, bool json, string? dataDir, CancellationToken cancellationToken)
    {
        try
        {
            SimulationCli.Check(days, users);
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

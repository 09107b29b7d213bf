using System.CommandLine;
using Flywheel.Simulation;
using Flywheel.Simulation.Reporting;

namespace Flywheel.Cli.Commands;

/// <summary>
/// <c>flywheel demo</c>: a simulated year of three feed products launched on the same model (A a loop, B the straight
/// line cloned by rivals, C A's loop six months later) through the real engine and store; prints the month table and
/// what happened, and writes a self-contained HTML report.
/// </summary>
internal static class DemoCommand
{
    private const string CommandName = FlywheelCli.Name + " demo";

    public static Command Create(CliContext context)
    {
        var days = SimulationCli.DaysOption();
        var users = SimulationCli.UsersOption();
        var seed = SimulationCli.SeedOption();
        var json = SimulationCli.JsonOption();
        var output = new Option<string>("--out")
        {
            Description = "Where the report (index.html) and the three products' stores (data/a, data/b, data/c) go.",
            HelpName = "DIR",
            DefaultValueFactory = _ => "flywheel-demo",
        };
        var command = new Command("demo", "Watch a loop pull away from a straight line: a simulated year of three products on the real engine, with an HTML report.")
        {
            days, users, seed, output, json,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(
            context, parse.GetValue(days), parse.GetValue(users), parse.GetValue(seed), parse.GetRequiredValue(output), parse.GetValue(json), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(CliContext context, int days, int users, ulong seed, string output, bool json, CancellationToken cancellationToken)
    {
        string report;
        SimulationResult result;
        try
        {
            SimulationCli.Check(days, users);
            if (string.IsNullOrWhiteSpace(output))
            {
                throw new UsageException("--out needs a directory");
            }
            if (File.Exists(output))
            {
                throw new UsageException($"--out '{output}' is a file; give a directory");
            }
            var options = new SimulationOptions { Days = days, Users = users, Seed = seed, DataDirectory = Path.Combine(output, "data") };
            result = await SimulationCli.RunAsync(context, "demo", Scenarios.Feed(withLateLoop: true), options, quiet: false, cancellationToken).ConfigureAwait(false);
            report = DemoReport.Write(result, output, DemoStory.Summarize(result));
        }
        catch (UsageException ex)
        {
            context.ErrorLine(CommandName, ex.Message);
            return ExitCodes.Usage;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            context.ErrorLine(CommandName, $"cannot write to '{output}': {ex.Message}");
            return ExitCodes.Usage;
        }

        if (json)
        {
            SimulationCli.WriteJson(context.Out, result);
            return ExitCodes.Success;
        }
        var o = context.Out;
        o.WriteLine("Three feed products on the same model (A and B launch on 1 January 2027, C on 1 July):");
        foreach (var p in result.Products)
        {
            o.WriteLine($"  {p.Spec.Name}: {p.Spec.Description}");
        }
        o.WriteLine();
        MonthTable.Write(o, result);
        o.WriteLine();
        foreach (var paragraph in DemoStory.Summarize(result).Split("\n\n"))
        {
            o.WriteLine(paragraph);
            o.WriteLine();
        }
        o.WriteLine($"Report: {report}");
        o.WriteLine($"Stores: {Path.GetFullPath(Path.Combine(output, "data"))}/{{a,b,c}}; explore one with: flywheel serve --data-dir {Path.Combine(output, "data", "a")}");
        o.Flush();
        return ExitCodes.Success;
    }
}

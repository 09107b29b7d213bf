using System.CommandLine;
using Flywheel.Server;
using Flywheel.Server.Dashboard;
using Flywheel.Storage.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Flywheel.Simulation;
using Flywheel.Simulation.Reporting;

namespace Flywheel.Cli.Commands;

/// <summary>
/// <c>flywheel demo</c>: a simulated year of three feed products launched on the same model (A a loop, B the straight
/// line cloned by rivals, C A's loop six months later) through the real engine and store; prints the month table and
/// what happened, and writes a self-contained HTML report. With <c>--serve</c> it then keeps a server up on the demo's
/// stores, with the live dashboard showing all three products.
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
        var serve = new Option<bool>("--serve")
        {
            Description = "Afterwards keep a server up on the demo's stores: the API on product A's, the dashboard at / showing all three (Ctrl+C stops).",
        };
        var urls = new Option<string>("--urls")
        {
            Description = "Where the server listens with --serve, separated by ';'.",
            HelpName = "URL",
            DefaultValueFactory = _ => "http://127.0.0.1:5005",
        };
        var command = new Command("demo", "Watch a loop pull away from a straight line: a simulated year of three products on the real engine, with an HTML report.")
        {
            days, users, seed, output, json, serve, urls,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(
            context, parse.GetValue(days), parse.GetValue(users), parse.GetValue(seed), parse.GetRequiredValue(output), parse.GetValue(json),
            parse.GetValue(serve) ? parse.GetRequiredValue(urls) : null, cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(CliContext context, int days, int users, ulong seed, string output, bool json, string? serveUrls, CancellationToken cancellationToken)
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
            if (serveUrls is not null && ServeCommand.CheckUrls(serveUrls) is { } bad)
            {
                throw new UsageException($"--urls {bad}");
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
            return serveUrls is null ? ExitCodes.Success : await ServeAsync(context, result, output, serveUrls, context.Error, cancellationToken).ConfigureAwait(false);
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
        return serveUrls is null ? ExitCodes.Success : await ServeAsync(context, result, output, serveUrls, o, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Serves the demo's stores until Ctrl+C: the first product's store behind the API (<c>/v1</c>), and every product's
    /// loops on the dashboard, the others read from their own stores (<c>/loops/home-feed?store=B</c>).
    /// </summary>
    private static Task<int> ServeAsync(CliContext context, SimulationResult result, string output, string urls, TextWriter say, CancellationToken cancellationToken)
    {
        var stores = result.Products.Select(p => (p.Spec.Name, Directory: Path.GetFullPath(Path.Combine(output, "data", p.Spec.Key)))).ToList();
        var options = new FlywheelServerOptions { DataDirectory = stores[0].Directory, Urls = urls };
        return ServeCommand.RunAsync(
            context,
            CommandName,
            options,
            SqliteDurability.Process,
            store: null,
            builder => builder.Services.Configure<FlywheelDashboardOptions>(d =>
            {
                d.ServedStoreName = stores[0].Name;
                foreach (var (name, directory) in stores.Skip(1))
                {
                    d.ExtraStores[name] = directory;
                }
            }),
            addresses =>
            {
                var url = addresses.FirstOrDefault() ?? urls.Split(';')[0];
                say.WriteLine($"Dashboard: {url.TrimEnd('/')}/ (products {string.Join(", ", stores.Select(s => s.Name))}; the API at /v1 serves product {stores[0].Name}'s store). Ctrl+C stops.");
                say.Flush();
            },
            cancellationToken);
    }
}

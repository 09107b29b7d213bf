using System.CommandLine;
using System.Globalization;
using Flywheel.Simulation;
using Flywheel.Simulation.Search;

namespace Flywheel.Cli.Commands;

/// <summary>
/// <c>flywheel simulate search</c>: two <c>rank</c> loops, one correcting for position bias and one not, through the same
/// stream of search queries on the real engine; prints a table by block of queries, the closing comparison and the
/// examination table, or the same figures as JSON.
/// </summary>
internal static class SimulateSearch
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public static Option<int?> QueriesOption() => new("--queries")
    {
        Description = $"Queries in the search scenario's stream, each asked of both loops (1 to {SearchOptions.MaxQueries:N0}; default {SearchOptions.DefaultQueries:N0}). Search only.",
        HelpName = "N",
    };

    /// <summary>Checks <c>--queries</c>; throws <see cref="UsageException"/>.</summary>
    public static int CheckQueries(int? queries)
    {
        var n = queries ?? SearchOptions.DefaultQueries;
        if (n is < 1 or > SearchOptions.MaxQueries)
        {
            throw new UsageException(string.Create(C, $"--queries must be from 1 to {SearchOptions.MaxQueries:N0}; got {n}"));
        }
        return n;
    }

    /// <summary>Runs the scenario with a progress bar on a terminal (a line per tenth otherwise) and prints its figures.</summary>
    public static async Task RunAsync(CliContext context, SearchOptions options, bool json, bool keepStores, CancellationToken cancellationToken)
    {
        var result = await SimulationCli.WithProgressAsync(context, "simulate search", "loop-queries", quiet: false, progress => SearchSimulation.RunAsync(options, progress, cancellationToken)).ConfigureAwait(false);
        if (json)
        {
            SimulationCli.WriteJson(context.Out, stream => SearchReport.WriteJson(stream, result));
        }
        else
        {
            var o = context.Out;
            SearchReport.WriteDescription(o, result);
            o.WriteLine();
            o.WriteLine("Share of the oracle ranking's expected clicks on relevant results, by block of queries:");
            SearchReport.WriteBlocks(o, result);
            o.WriteLine();
            SearchReport.WriteFinal(o, result);
            o.WriteLine();
            o.WriteLine("Examination probability by slot (relative to slot 1), the world's and each loop's estimate from its shuffled decisions:");
            SearchReport.WriteExamination(o, result);
            if (keepStores)
            {
                o.WriteLine($"Stores: {Path.GetFullPath(options.DataDirectory)}/<loop> (flywheel serve --data-dir … serves one).");
            }
        }
        context.Out.Flush();
    }
}

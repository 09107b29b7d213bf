using System.CommandLine;
using System.Globalization;
using Flywheel.Simulation;
using Flywheel.Simulation.Search;
using Spectre.Console;

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
        SearchResult result;
        if (!context.Interactive)
        {
            result = await SearchSimulation.RunAsync(options, new PlainProgress(context.Error), cancellationToken).ConfigureAwait(false);
        }
        else
        {
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(context.Error) });
            SearchResult? run = null;
            await console.Progress()
                .AutoClear(true)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                .StartAsync(async progress =>
                {
                    var task = progress.AddTask("simulate search", autoStart: true, maxValue: 1);
                    run = await SearchSimulation.RunAsync(options, new SyncProgress(task), cancellationToken).ConfigureAwait(false);
                }).ConfigureAwait(false);
            result = run!;
        }
        if (json)
        {
            using var buffer = new MemoryStream();
            SearchReport.WriteJson(buffer, result);
            context.Out.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
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

    private sealed class SyncProgress(ProgressTask task) : IProgress<SimulationProgress>
    {
        public void Report(SimulationProgress value) => task.Value = value.Fraction;
    }

    /// <summary>One line per tenth of the run: deterministic, whatever the machine's speed.</summary>
    private sealed class PlainProgress(TextWriter error) : IProgress<SimulationProgress>
    {
        private int _tenths;

        public void Report(SimulationProgress value)
        {
            var tenths = (int)(value.Fraction * 10);
            if (tenths <= Volatile.Read(ref _tenths))
            {
                return;
            }
            lock (this)
            {
                if (tenths <= _tenths)
                {
                    return;
                }
                _tenths = tenths;
                error.WriteLine(string.Create(C, $"simulate search: {tenths * 10}% ({value.Total * tenths / 10:N0} of {value.Total:N0} loop-queries)"));
                error.Flush();
            }
        }
    }
}

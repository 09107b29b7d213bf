using System.Globalization;
using Flywheel.Simulation.Summarise;

namespace Flywheel.Cli.Commands;

/// <summary>
/// <c>flywheel simulate summarise</c>: a generation loop and its frozen twin pick prompt variants for the same users'
/// summary requests on the real engine; prints the closing comparison with 95% intervals, the learning curve and the
/// variants each arm served, or the same figures as JSON.
/// </summary>
internal static class SimulateSummarise
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>Checks <c>--users</c> and <c>--days</c> (null when not given: this scenario's defaults differ from the feed's); throws <see cref="UsageException"/>.</summary>
    public static (int Users, int Days) Check(int? users, int? days)
    {
        var n = users ?? SummariseOptions.DefaultUsers;
        if (n is < 1 or > SummariseOptions.MaxUsers)
        {
            throw new UsageException(string.Create(C, $"--users must be from 1 to {SummariseOptions.MaxUsers:N0} in the summarise scenario; got {n}"));
        }
        var d = days ?? SummariseOptions.DefaultDays;
        if (d is < 1 or > SummariseOptions.MaxDays)
        {
            throw new UsageException(string.Create(C, $"--days must be from 1 to {SummariseOptions.MaxDays} in the summarise scenario; got {d}"));
        }
        return (n, d);
    }

    /// <summary>Runs the scenario with a progress bar on a terminal (a line per tenth otherwise) and prints its figures.</summary>
    public static async Task RunAsync(CliContext context, SummariseOptions options, bool json, bool keepStores, CancellationToken cancellationToken)
    {
        var result = await SimulationCli.WithProgressAsync(context, "simulate summarise", "arm-days", quiet: false, progress => SummariseSimulation.RunAsync(options, progress, cancellationToken)).ConfigureAwait(false);
        if (json)
        {
            SimulationCli.WriteJson(context.Out, stream => SummariseReport.WriteJson(stream, result));
        }
        else
        {
            var o = context.Out;
            SummariseReport.WriteDescription(o, result);
            o.WriteLine();
            SummariseReport.WriteFinal(o, result);
            o.WriteLine();
            o.WriteLine("By block of days: each arm's mean edit distance and share kept without edits; the distance each arm's first outputs left;");
            o.WriteLine("and, from the truth, the distance the best variant for each request, the best single variant for everyone and a random variant would leave:");
            SummariseReport.WriteBlocks(o, result);
            o.WriteLine();
            o.WriteLine("Variants served over the last generations:");
            SummariseReport.WriteVariants(o, result);
            if (keepStores)
            {
                o.WriteLine($"Stores: {Path.GetFullPath(options.DataDirectory)}/<arm> (flywheel serve --data-dir … serves one).");
            }
        }
        context.Out.Flush();
    }
}

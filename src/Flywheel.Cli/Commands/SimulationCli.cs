using System.CommandLine;
using System.Globalization;
using Flywheel.Simulation;
using Spectre.Console;

namespace Flywheel.Cli.Commands;

/// <summary>What <c>flywheel simulate</c> and <c>flywheel demo</c> share: their options, progress, and the month table.</summary>
internal static class SimulationCli
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public static Option<int> DaysOption() => new("--days")
    {
        Description = "Days to simulate, from 1 January 2027 (1 to 3,650).",
        HelpName = "N",
        DefaultValueFactory = _ => 365,
    };

    public static Option<int> UsersOption() => new("--users")
    {
        Description = "Users each product has at launch; its market grows from there (1 to 1,000,000).",
        HelpName = "N",
        DefaultValueFactory = _ => SimulationOptions.DefaultUsers,
    };

    public static Option<ulong> SeedOption() => new("--seed")
    {
        Description = "Seed of the world: the same seed gives the same figures.",
        HelpName = "S",
        DefaultValueFactory = _ => 1UL,
    };

    public static Option<bool> JsonOption() => new("--json")
    {
        Description = "Print one JSON object with the daily and monthly figures of every product to stdout.",
    };

    /// <summary>Checks the size options; throws <see cref="UsageException"/> naming the bad one.</summary>
    public static void Check(int days, int users)
    {
        if (days is < 1 or > 3650)
        {
            throw new UsageException($"--days must be from 1 to 3,650; got {days.ToString(C)}");
        }
        if (users is < 1 or > 1_000_000)
        {
            throw new UsageException($"--users must be from 1 to 1,000,000; got {users.ToString(C)}");
        }
    }

    /// <summary>Runs the scenario with a progress bar on a terminal, or a plain line every tenth of the run otherwise.</summary>
    public static Task<SimulationResult> RunAsync(CliContext context, string label, Scenario scenario, SimulationOptions options, bool quiet, CancellationToken cancellationToken)
        => WithProgressAsync(context, label, "product-days", quiet, progress => Simulation.Simulation.RunAsync(scenario, options, progress, cancellationToken));

    /// <summary>
    /// Runs a simulation with a progress bar on a terminal, or a plain line every tenth of the run otherwise
    /// (<paramref name="unit"/> names what the run counts, such as <c>product-days</c>); <paramref name="quiet"/> prints none.
    /// </summary>
    public static async Task<T> WithProgressAsync<T>(CliContext context, string label, string unit, bool quiet, Func<IProgress<SimulationProgress>, Task<T>> run)
    {
        if (!context.Interactive || quiet)
        {
            return await run(new PlainProgress(context.Error, label, unit, quiet)).ConfigureAwait(false);
        }
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(context.Error) });
        T? result = default;
        await console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .StartAsync(async progress =>
            {
                var task = progress.AddTask(label, autoStart: true, maxValue: 1);
                result = await run(new SyncProgress(task)).ConfigureAwait(false);
            }).ConfigureAwait(false);
        return result!;
    }

    /// <summary>Prints the run's JSON object (<see cref="SimulationJson"/>) as one line.</summary>
    public static void WriteJson(TextWriter output, SimulationResult result) => WriteJson(output, stream => SimulationJson.Write(stream, result));

    /// <summary>Prints the JSON object <paramref name="write"/> writes as one line.</summary>
    public static void WriteJson(TextWriter output, Action<Stream> write)
    {
        using var buffer = new MemoryStream();
        write(buffer);
        output.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
        output.Flush();
    }

    /// <summary>Figures of one product in one month, for closing paragraphs.</summary>
    public static string Figures(ProductResult product, int month)
    {
        var m = product.Months[month - 1];
        var reward = m.MeanReward is { } r ? string.Create(C, $"mean reward {r.Value:F3} [{r.Lower:F3}, {r.Upper:F3}]") : "no decisions";
        return string.Create(C, $"{m.ActiveUsers:N0} active users, {reward}");
    }

    private sealed class SyncProgress(ProgressTask task) : IProgress<SimulationProgress>
    {
        public void Report(SimulationProgress value) => task.Value = value.Fraction;
    }

    /// <summary>One line per tenth of the run: deterministic, whatever the machine's speed.</summary>
    private sealed class PlainProgress(TextWriter error, string label, string unit, bool quiet) : IProgress<SimulationProgress>
    {
        private int _tenths;

        public void Report(SimulationProgress value)
        {
            var tenths = (int)(value.Fraction * 10);
            if (quiet || tenths <= Volatile.Read(ref _tenths))
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
                // The tenth's own count, not value.Done: reports from parallel runs may arrive out of order.
                error.WriteLine(string.Create(C, $"{label}: {tenths * 10}% ({value.Total * tenths / 10:N0} of {value.Total:N0} {unit})"));
                error.Flush();
            }
        }
    }
}

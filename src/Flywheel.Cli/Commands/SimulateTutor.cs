using System.CommandLine;
using System.Globalization;
using Flywheel.Simulation;
using Flywheel.Simulation.Tutor;
using Spectre.Console;

namespace Flywheel.Cli.Commands;

/// <summary>
/// <c>flywheel simulate tutor</c>: the same learners served by the <c>ability</c> loop on the real engine, by random
/// exercises and by a fixed easy-to-hard curriculum, with a <c>reminders</c> loop for lapsed learners under each; prints
/// each policy's figures with 95% intervals, the loop against each baseline, block tables by day and the reminder
/// loop's policy, or the same figures as JSON.
/// </summary>
internal static class SimulateTutor
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public static Option<int?> LearnersOption() => new("--learners")
    {
        Description = $"Learners in the tutor scenario, the same people under every policy (1 to {TutorOptions.MaxLearners:N0}; default {TutorOptions.DefaultLearners}); its --days runs 1 to {TutorOptions.MaxDays}, default {TutorOptions.DefaultDays}. Tutor only.",
        HelpName = "N",
    };

    /// <summary>Checks <c>--learners</c> and <c>--days</c> (null when not given); throws <see cref="UsageException"/>.</summary>
    public static (int Learners, int Days) Check(int? learners, int? days)
    {
        var n = learners ?? TutorOptions.DefaultLearners;
        if (n is < 1 or > TutorOptions.MaxLearners)
        {
            throw new UsageException(string.Create(C, $"--learners must be from 1 to {TutorOptions.MaxLearners:N0}; got {n}"));
        }
        var d = days ?? TutorOptions.DefaultDays;
        if (d is < 1 or > TutorOptions.MaxDays)
        {
            throw new UsageException(string.Create(C, $"--days must be from 1 to {TutorOptions.MaxDays} in the tutor scenario; got {d}"));
        }
        return (n, d);
    }

    /// <summary>Runs the scenario with a progress bar on a terminal (a line per tenth otherwise) and prints its figures.</summary>
    public static async Task RunAsync(CliContext context, TutorOptions options, bool json, bool keepStores, CancellationToken cancellationToken)
    {
        TutorResult result;
        if (!context.Interactive)
        {
            result = await TutorSimulation.RunAsync(options, new PlainProgress(context.Error), cancellationToken).ConfigureAwait(false);
        }
        else
        {
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(context.Error) });
            TutorResult? run = null;
            await console.Progress()
                .AutoClear(true)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                .StartAsync(async progress =>
                {
                    var task = progress.AddTask("simulate tutor", autoStart: true, maxValue: 1);
                    run = await TutorSimulation.RunAsync(options, new SyncProgress(task), cancellationToken).ConfigureAwait(false);
                }).ConfigureAwait(false);
            result = run!;
        }
        if (json)
        {
            using var buffer = new MemoryStream();
            TutorReport.WriteJson(buffer, result);
            context.Out.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
        }
        else
        {
            var o = context.Out;
            TutorReport.WriteDescription(o, result);
            o.WriteLine();
            o.WriteLine(string.Create(C, $"Each policy over the run (95% intervals: percentile bootstrap over learners, {options.Bootstrap:N0} resamples; success after each learner's first {options.WarmUpAnswers} answers):"));
            TutorReport.WriteSummary(o, result);
            o.WriteLine();
            TutorReport.WriteComparisons(o, result);
            o.WriteLine();
            o.WriteLine("By block of days: success rate, mean ability gained since day 1, learners who quit so far:");
            TutorReport.WriteBlocks(o, result);
            if (options.Reminders)
            {
                o.WriteLine();
                o.WriteLine("Reminders by block of days: lapsed learners decided for, the loop's mean probability of the reminder at their own practice time, share sent none,");
                o.WriteLine("share back the same day;");
                o.WriteLine("then what each policy's reminders loop serves at the end (none / morning / evening):");
                TutorReport.WriteReminders(o, result);
            }
            if (keepStores)
            {
                o.WriteLine($"Stores: {Path.GetFullPath(options.DataDirectory)}/<policy> (flywheel serve --data-dir … serves one).");
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
                // The tenth's own count, not value.Done: reports from parallel policies may arrive out of order.
                error.WriteLine(string.Create(C, $"simulate tutor: {tenths * 10}% ({value.Total * tenths / 10:N0} of {value.Total:N0} policy-days)"));
                error.Flush();
            }
        }
    }
}

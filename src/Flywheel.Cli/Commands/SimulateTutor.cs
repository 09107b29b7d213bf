using System.CommandLine;
using System.Globalization;
using Flywheel.Simulation;
using Flywheel.Simulation.Tutor;

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
        var result = await SimulationCli.WithProgressAsync(context, "simulate tutor", "policy-days", quiet: false, progress => TutorSimulation.RunAsync(options, progress, cancellationToken)).ConfigureAwait(false);
        if (json)
        {
            SimulationCli.WriteJson(context.Out, stream => TutorReport.WriteJson(stream, result));
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
}

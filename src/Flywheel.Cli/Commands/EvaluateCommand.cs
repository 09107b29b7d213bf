using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Flywheel.Core;
using Flywheel.Evaluation;
using Spectre.Console;

namespace Flywheel.Cli.Commands;

/// <summary>
/// <c>flywheel evaluate FILE</c>: off-policy evaluation of logged decisions (docs/estimators.md) from
/// <c>.jsonl</c> or <c>.jsonl.gz</c>: IPS, IPS with the Clopper–Pearson interval, SNIPS, DM and DR with 95% intervals.
/// </summary>
internal static class EvaluateCommand
{
    private const string CommandName = FlywheelCli.Name + " evaluate";
    private static readonly string[] Policies = ["uniform"];
    private static readonly string AllEstimators = string.Join(",", OffPolicyEstimatorNames.All.Select(OffPolicyEstimatorNames.Name));

    public static Command Create(CliContext context)
    {
        var file = new Argument<string>("FILE")
        {
            Description = "Logged decisions, one JSON object a line (docs/estimators.md), plain or gzip.",
        };
        var estimators = new Option<string>("--estimators")
        {
            Description = "Comma-separated estimators to report: ips, ips-cp (only when every reward lies in [0, 1]), snips, dm, dr.",
            HelpName = "LIST",
            DefaultValueFactory = _ => AllEstimators,
        };
        var policy = new Option<string>("--policy")
        {
            Description = "The target policy for rows without targetProbabilities.",
            DefaultValueFactory = _ => "uniform",
        };
        policy.AcceptOnlyFromAmong(Policies);
        var json = new Option<bool>("--json")
        {
            Description = "Print one JSON object with the figures to stdout.",
        };
        var rewardMin = new Option<double?>("--reward-min")
        {
            Description = "The lowest reward possible (a loop's reward.min); with --reward-max it bounds the intervals, and a reward outside is an error. Default: the hull of [0, 1] and the rewards seen.",
            HelpName = "R",
        };
        var rewardMax = new Option<double?>("--reward-max")
        {
            Description = "The highest reward possible (a loop's reward.max); see --reward-min.",
            HelpName = "R",
        };

        var command = new Command("evaluate", "Estimate how a target policy would have done on logged decisions (off-policy evaluation).")
        {
            file, estimators, policy, json, rewardMin, rewardMax,
        };
        command.SetAction((parse, cancellationToken) => Task.FromResult(Run(
            context,
            new Settings(parse.GetRequiredValue(file), parse.GetRequiredValue(estimators), parse.GetRequiredValue(policy), parse.GetValue(json), parse.GetValue(rewardMin), parse.GetValue(rewardMax)),
            cancellationToken)));
        return command;
    }

    private sealed record Settings(string File, string Estimators, string Policy, bool Json, double? RewardMin = null, double? RewardMax = null);

    private static (double Min, double Max)? RewardRange(Settings settings) => (settings.RewardMin, settings.RewardMax) switch
    {
        (null, null) => null,
        ({ } min, { } max) when double.IsFinite(min) && double.IsFinite(max) && min < max => (min, max),
        ({ }, { }) => throw new UsageException($"--reward-min ({settings.RewardMin}) must be a finite number below --reward-max ({settings.RewardMax})"),
        _ => throw new UsageException("--reward-min and --reward-max go together"),
    };

    private static int Run(CliContext context, Settings settings, CancellationToken cancellationToken)
    {
        return context.RunFileVerb(CommandName, settings.File, () =>
        {
            var estimators = ParseEstimators(settings.Estimators);
            if (Directory.Exists(settings.File))
            {
                throw new UsageException($"'{settings.File}' is a directory, not a data file");
            }
            if (!File.Exists(settings.File))
            {
                throw new UsageException($"file '{settings.File}' not found");
            }
            var options = new OffPolicyEvaluatorOptions
            {
                FallbackPolicy = settings.Policy switch
                {
                    "uniform" => UniformPolicy.Instance,
                    _ => throw new UsageException($"--policy {settings.Policy} is unknown"),
                },
                RewardRange = RewardRange(settings),
            };
            var report = Evaluate(context, settings, options, cancellationToken);
            if (settings.Json)
            {
                WriteJson(context.Out, report, estimators);
            }
            else
            {
                WriteTable(context.Out, settings, report, estimators);
            }
            return ExitCodes.Success;
        });
    }

    private static HashSet<OffPolicyEstimator> ParseEstimators(string list)
    {
        var chosen = new HashSet<OffPolicyEstimator>();
        foreach (var name in list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!OffPolicyEstimatorNames.TryParse(name, out var estimator))
            {
                throw new UsageException($"--estimators: '{name}' is not an estimator; choose from {AllEstimators.Replace(",", ", ", StringComparison.Ordinal)}");
            }
            chosen.Add(estimator);
        }
        if (chosen.Count == 0)
        {
            throw new UsageException($"--estimators needs at least one of {AllEstimators.Replace(",", ", ", StringComparison.Ordinal)}");
        }
        return chosen;
    }

    private static OffPolicyReport Evaluate(CliContext context, Settings settings, OffPolicyEvaluatorOptions options, CancellationToken cancellationToken)
    {
        using var reader = LoggedDecisionReader.Open(settings.File);
        var evaluator = new OffPolicyEvaluator(options);
        if (!context.Interactive || settings.Json)
        {
            Read(reader, evaluator, new PlainProgress(context.Error, context.Time), cancellationToken);
        }
        else
        {
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(context.Error) });
            console.Progress()
                .AutoClear(true)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                .Start(progress =>
                {
                    var task = progress.AddTask("evaluate", autoStart: true, maxValue: 1);
                    Read(reader, evaluator, new BarProgress(task), cancellationToken);
                });
        }
        if (evaluator.Count == 0)
        {
            throw new UsageException($"'{settings.File}' holds no logged decisions");
        }
        return evaluator.GetReport();
    }

    private static void Read(LoggedDecisionReader reader, OffPolicyEvaluator evaluator, IProgress<(long Rows, double? Fraction)> progress, CancellationToken cancellationToken)
    {
        while (reader.Read() is { } decision)
        {
            try
            {
                evaluator.Add(decision);
            }
            catch (FlywheelValidationException ex) when (ex is not LoggedDataException)
            {
                throw new LoggedDataException(reader.LineNumber, ex.Field, ex.Problem);
            }
            if ((evaluator.Count & 4095) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                progress.Report((evaluator.Count, Fraction(reader)));
            }
        }
        progress.Report((evaluator.Count, Fraction(reader)));
    }

    private static double? Fraction(LoggedDecisionReader reader)
        => reader.TotalBytes > 0 ? Math.Clamp((double)reader.BytesRead / reader.TotalBytes, 0, 1) : null;

    /// <summary>
    /// <c>{ "n", "ess", "targetPolicy", "rewardEstimates", "estimators": { name: { "value", "lower", "upper" } },
    /// "maxWeight", "maxWeightShare", "warnings": [text] }</c>, and for a file of rankings
    /// <c>"rankings": { "sips" | "rips" | "snsips" | "snrips" | "cascade-dr": { "value", "lower", "upper" } }</c>;
    /// doubles round-trip, and bounds that do not exist (n ≤ 1) or values that do not (SNIPS with Σw = 0) are null.
    /// </summary>
    internal static void WriteJson(TextWriter output, OffPolicyReport report, IReadOnlySet<OffPolicyEstimator> chosen)
    {
        var e = report.Estimates;
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("n", e.Count);
            WriteNumberOrNull(w, "ess", e.EffectiveSampleSize);
            w.WriteString("targetPolicy", report.TargetPolicy);
            w.WriteString("rewardEstimates", report.RewardEstimates);
            w.WriteStartObject("estimators");
            foreach (var estimator in OffPolicyEstimatorNames.All)
            {
                if (!chosen.Contains(estimator) || e.Get(estimator) is not { } estimate)
                {
                    continue;
                }
                w.WriteStartObject(OffPolicyEstimatorNames.Name(estimator));
                WriteNumberOrNull(w, "value", estimate.Value);
                WriteNumberOrNull(w, "lower", estimate.Lower);
                WriteNumberOrNull(w, "upper", estimate.Upper);
                w.WriteEndObject();
            }
            w.WriteEndObject();
            WriteNumberOrNull(w, "maxWeight", e.MaxWeight);
            w.WriteNumber("maxWeightShare", e.MaxWeightShare);
            w.WriteStartArray("warnings");
            foreach (var warning in e.Warnings)
            {
                w.WriteStringValue(warning);
            }
            w.WriteEndArray();
            if (report.Rankings is { } rankings)
            {
                w.WriteStartObject("rankings");
                foreach (var (name, estimate) in rankings)
                {
                    w.WriteStartObject(name);
                    WriteNumberOrNull(w, "value", estimate.Value);
                    WriteNumberOrNull(w, "lower", estimate.Lower);
                    WriteNumberOrNull(w, "upper", estimate.Upper);
                    w.WriteEndObject();
                }
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        output.WriteLine(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
        output.Flush();
    }

    private static void WriteNumberOrNull(Utf8JsonWriter w, string name, double value)
    {
        if (double.IsFinite(value))
        {
            w.WriteNumber(name, value);
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private static void WriteTable(TextWriter output, Settings settings, OffPolicyReport report, IReadOnlySet<OffPolicyEstimator> chosen)
    {
        var c = CultureInfo.InvariantCulture;
        var e = report.Estimates;
        output.WriteLine(string.Create(c, $"evaluate {settings.File}: {e.Count:N0} logged decisions, effective sample size {e.EffectiveSampleSize:N1}"));
        output.WriteLine($"  target policy: {Describe(report.TargetPolicy, report.RowsWithTargetProbabilities, e.Count)}");
        output.WriteLine($"  reward estimates: {Describe(report.RewardEstimates, report.RowsWithRewardEstimates, e.Count)}");
        foreach (var warning in e.Warnings)
        {
            output.WriteLine($"  WARNING: {warning}");
        }
        output.Flush();
        var table = new Table().Border(TableBorder.Simple)
            .AddColumn("estimator")
            .AddColumn(new TableColumn("value").RightAligned())
            .AddColumn(new TableColumn("95% lower").RightAligned())
            .AddColumn(new TableColumn("95% upper").RightAligned());
        var notes = new List<string>();
        foreach (var estimator in OffPolicyEstimatorNames.All)
        {
            if (!chosen.Contains(estimator))
            {
                continue;
            }
            var name = OffPolicyEstimatorNames.Name(estimator);
            if (e.Get(estimator) is not { } estimate)
            {
                notes.Add(string.Create(c, $"{name}: not reported; rewards range over [{e.MinReward:G6}, {e.MaxReward:G6}], not within [0, 1]"));
                continue;
            }
            table.AddRow(name, Format(estimate.Value), Format(estimate.Lower), Format(estimate.Upper));
        }
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        });
        console.Write(table);
        foreach (var note in notes)
        {
            output.WriteLine($"  {note}");
        }
        if (report.Rankings is { } rankings)
        {
            output.WriteLine("  rankings: ips is RIPS, snips SNRIPS and dr the cascade doubly robust estimate (per ranking); every slate estimator, with bootstrap intervals:");
            var slates = new Table().Border(TableBorder.Simple)
                .AddColumn("slate estimator")
                .AddColumn(new TableColumn("value").RightAligned())
                .AddColumn(new TableColumn("95% lower").RightAligned())
                .AddColumn(new TableColumn("95% upper").RightAligned());
            foreach (var (name, estimate) in rankings)
            {
                slates.AddRow(name, Format(estimate.Value), Format(estimate.Lower), Format(estimate.Upper));
            }
            console.Write(slates);
        }
        if (report.Rankings is not null && report.RewardEstimates != OffPolicyReport.FromFile)
        {
            output.WriteLine("  dm and dr need slotRewardEstimates and slotExpectedRewards on every ranking; without them they are not computed.");
        }
        else if (report.RewardEstimates != OffPolicyReport.FromFile && (chosen.Contains(OffPolicyEstimator.Dm) || chosen.Contains(OffPolicyEstimator.Dr)))
        {
            output.WriteLine("  dm and dr use Flywheel's own reward model, cross-fitted over 5 folds: other tools will not reproduce them.");
        }
        output.Flush();
    }

    private static string Describe(string source, long rowsFromFile, long rows) => source switch
    {
        OffPolicyReport.FromFile => "from the file",
        OffPolicyReport.Mixed => string.Create(CultureInfo.InvariantCulture, $"mixed ({rowsFromFile:N0} of {rows:N0} rows from the file)"),
        OffPolicyReport.Fitted => "fitted (a reward model cross-fitted over 5 folds: each row scored by a model trained on the other folds)",
        _ => source,
    };

    private static string Format(double value) => value switch
    {
        double.PositiveInfinity => "+inf",
        double.NegativeInfinity => "-inf",
        double.NaN => "n/a",
        _ => value.ToString("F6", CultureInfo.InvariantCulture),
    };

    /// <summary>Plain progress lines on stderr, at most every few seconds, none for short runs.</summary>
    private sealed class PlainProgress(TextWriter error, TimeProvider time) : IProgress<(long Rows, double? Fraction)>
    {
        private readonly ProgressThrottle _throttle = new(time);

        public void Report((long Rows, double? Fraction) value)
        {
            if (!_throttle.Due())
            {
                return;
            }
            var c = CultureInfo.InvariantCulture;
            error.WriteLine(value.Fraction is { } f
                ? string.Create(c, $"evaluate: {value.Rows} decisions, {f * 100:F0}% of file")
                : string.Create(c, $"evaluate: {value.Rows} decisions"));
            error.Flush();
        }
    }

    /// <summary>Moves a Spectre.Console progress bar by the fraction of the file read.</summary>
    private sealed class BarProgress(ProgressTask task) : IProgress<(long Rows, double? Fraction)>
    {
        public void Report((long Rows, double? Fraction) value)
        {
            task.Description = string.Create(CultureInfo.InvariantCulture, $"evaluate {value.Rows:N0} decisions");
            if (value.Fraction is { } f)
            {
                task.Value = f;
            }
            else
            {
                task.IsIndeterminate = true;
            }
        }
    }
}

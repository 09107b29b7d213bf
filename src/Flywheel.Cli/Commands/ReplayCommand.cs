using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Flywheel.Core;
using Flywheel.Evaluation.Answers;
using Flywheel.Learning.Replay;
using Spectre.Console;

namespace Flywheel.Cli.Commands;

/// <summary>
/// <c>flywheel replay --cbify K FILE</c>: the supervised-to-bandit simulation (docs/estimators.md) over CSV or
/// Vowpal Wabbit multiclass text, plain or gzip. <c>flywheel replay --answers FILE</c>: the online ability estimates
/// checked on answer data against a batch Rasch fit (docs/ability-data.md).
/// </summary>
internal static class ReplayCommand
{
    private const int MaxClasses = 100_000;

    private static readonly string[] Algorithms = ["epsilon-greedy", "softmax", "squarecb", "bag", "none"];
    private static readonly string[] CbTypes = ["dm", "mtr", "ips", "dr"];
    private static readonly string[] Models = ["elo", "irt"];
    private const string Usage = "give exactly one of --cbify K FILE (a bandit simulation) or --answers FILE (the ability check)";

    public static Command Create(CliContext context)
    {
        var cbify = new Option<int>("--cbify")
        {
            Description = "Replay supervised data FILE with K classes (labels 1..K) as a K-action bandit.",
            HelpName = "K",
        };
        var file = new Argument<string?>("FILE")
        {
            Description = "With --cbify: CSV (header 'label,<feature names…>') or Vowpal Wabbit multiclass text ('label | name:value …'), plain or gzip.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var answers = new Option<string?>("--answers")
        {
            Description = "Check the online ability estimates on answer data: CSV, long ('user,item,correct[,at]') or wide (a column per item, cells 0/1/NA), plain or gzip.",
            HelpName = "FILE",
        };
        var holdout = new Option<double>("--holdout")
        {
            Description = "With --answers: the share of (user, item) pairs held out to score predictions on.",
            HelpName = "H",
            DefaultValueFactory = _ => new AnswerReplayOptions().Holdout,
        };
        var model = new Option<string>("--model")
        {
            Description = "With --answers: the online model.",
            DefaultValueFactory = _ => "elo",
        };
        model.AcceptOnlyFromAmong(Models);
        var guess = new Option<double>("--guess")
        {
            Description = "With --answers: the chance of a right answer by guessing (1/options for multiple choice).",
            HelpName = "G",
            DefaultValueFactory = _ => 0,
        };
        var algorithm = new Option<string>("--algorithm")
        {
            Description = "Exploration algorithm.",
            DefaultValueFactory = _ => LoopConfigJson.Name(new ExplorationConfig().Algorithm),
        };
        algorithm.AcceptOnlyFromAmong(Algorithms);
        var cbType = new Option<string>("--cb-type")
        {
            Description = "How a bandit example becomes a regression update.",
            DefaultValueFactory = _ => "dm",
        };
        cbType.AcceptOnlyFromAmong(CbTypes);
        var epsilon = new Option<double?>("--epsilon")
        {
            Description = "epsilon-greedy: the exploration probability (default 0.05). Other algorithms: the minimum-probability floor (default 0, as in VW).",
            HelpName = "E",
        };
        var lambda = new Option<double>("--lambda")
        {
            Description = "Softmax inverse temperature.",
            HelpName = "L",
            DefaultValueFactory = _ => new ExplorationConfig().Lambda,
        };
        var gamma = new Option<double>("--gamma")
        {
            Description = "SquareCB gamma scale.",
            HelpName = "G",
            DefaultValueFactory = _ => new ExplorationConfig().Gamma,
        };
        var bags = new Option<int>("--bags")
        {
            Description = "Number of bags.",
            HelpName = "N",
            DefaultValueFactory = _ => new ExplorationConfig().Bags,
        };
        var learningRate = new Option<double?>("--learning-rate")
        {
            Description = "Learning rate (default by cb type: dm 0.6, mtr 1.0, ips and dr 0.25).",
            HelpName = "R",
        };
        var powerT = new Option<double?>("--power-t")
        {
            Description = "Decay exponent of the adaptive rates (default by cb type: dm 0.65, the others 0.5).",
            HelpName = "P",
        };
        var seed = new Option<ulong>("--seed")
        {
            Description = "Seed of the action draws (with --answers: of the split and of the order of answers without times).",
            HelpName = "S",
            DefaultValueFactory = _ => 1UL,
        };
        var json = new Option<bool>("--json")
        {
            Description = "Print one JSON object with the figures to stdout.",
        };

        var command = new Command(
            "replay",
            "Replay supervised data as a contextual-bandit simulation (VW's --cbify) and report the progressive loss, or answers to check the online ability estimates against a batch Rasch fit.")
        {
            cbify, file, answers, algorithm, cbType, epsilon, lambda, gamma, bags, learningRate, powerT, holdout, model, guess, seed, json,
        };
        Option[] cbifyOnly = [algorithm, cbType, epsilon, lambda, gamma, bags, learningRate, powerT];
        Option[] answersOnly = [holdout, model, guess];
        command.SetAction((parse, cancellationToken) =>
        {
            const string name = FlywheelCli.Name + " replay";
            var answersFile = parse.GetValue(answers);
            var isCbify = parse.GetResult(cbify) is { Implicit: false };
            if (isCbify == (answersFile is not null))
            {
                context.ErrorLine(name, Usage);
                return Task.FromResult(ExitCodes.Usage);
            }
            var stray = (isCbify ? answersOnly : cbifyOnly).FirstOrDefault(o => parse.GetResult(o) is { Implicit: false });
            if (stray is not null)
            {
                context.ErrorLine(name, $"{stray.Name} applies to {(isCbify ? "--answers" : "--cbify")} only");
                return Task.FromResult(ExitCodes.Usage);
            }
            if (answersFile is not null)
            {
                if (parse.GetValue(file) is { } extra)
                {
                    context.ErrorLine(name, $"--answers FILE takes no other file; got '{extra}'");
                    return Task.FromResult(ExitCodes.Usage);
                }
                var check = new AnswerSettings(answersFile, parse.GetValue(holdout), parse.GetRequiredValue(model), parse.GetValue(guess), parse.GetValue(seed), parse.GetValue(json));
                return Task.FromResult(RunAnswers(context, check, cancellationToken));
            }
            if (parse.GetValue(file) is null)
            {
                context.ErrorLine(name, "--cbify K needs the data FILE");
                return Task.FromResult(ExitCodes.Usage);
            }
            var settings = new Settings(
                parse.GetValue(file)!,
                parse.GetValue(cbify),
                parse.GetRequiredValue(algorithm),
                parse.GetRequiredValue(cbType),
                parse.GetValue(epsilon),
                parse.GetValue(lambda),
                parse.GetValue(gamma),
                parse.GetValue(bags),
                parse.GetValue(learningRate),
                parse.GetValue(powerT),
                parse.GetValue(seed),
                parse.GetValue(json));
            return Task.FromResult(Run(context, settings, cancellationToken));
        });
        return command;
    }

    private sealed record Settings(
        string File, int Classes, string Algorithm, string CbType, double? Epsilon, double Lambda, double Gamma, int Bags,
        double? LearningRate, double? PowerT, ulong Seed, bool Json);

    private sealed record AnswerSettings(string File, double Holdout, string Model, double Guess, ulong Seed, bool Json);

    private static int RunAnswers(CliContext context, AnswerSettings s, CancellationToken cancellationToken)
    {
        const string command = FlywheelCli.Name + " replay";
        return context.RunFileVerb(command, s.File, () =>
        {
            var c = CultureInfo.InvariantCulture;
            if (!(s.Holdout is >= 0 and < 1))
            {
                throw new UsageException($"--holdout must lie in [0, 1); got {s.Holdout.ToString(c)}");
            }
            if (!(s.Guess is >= 0 and <= 0.5))
            {
                throw new UsageException($"--guess must lie in [0, 0.5]; got {s.Guess.ToString(c)}");
            }
            if (Directory.Exists(s.File))
            {
                throw new UsageException($"'{s.File}' is a directory, not a data file");
            }
            if (!File.Exists(s.File))
            {
                throw new UsageException($"file '{s.File}' not found");
            }
            var start = Stopwatch.GetTimestamp();
            var data = AnswerData.Load(s.File, cancellationToken);
            var readSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            if (data.Answers.Count == 0)
            {
                throw new UsageException($"'{s.File}' holds no answers");
            }
            var options = new AnswerReplayOptions
            {
                Holdout = s.Holdout,
                Seed = s.Seed,
                Model = s.Model == "irt" ? AbilityModel.Irt : AbilityModel.Elo,
                Guess = s.Guess,
            };
            var result = AnswerReplay.Run(data, options, cancellationToken);
            var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            if (s.Json)
            {
                WriteAnswersJson(context.Out, s, data, result, readSeconds, seconds);
            }
            else
            {
                WriteAnswersSummary(context.Out, s, data, result, readSeconds, seconds);
            }
            return ExitCodes.Success;
        });
    }

    private static void WriteAnswersJson(TextWriter output, AnswerSettings s, AnswerData data, AnswerReplayResult r, double readSeconds, double seconds)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("file", s.File);
            w.WriteString("format", data.Format == AnswerFileFormat.Long ? "long" : "wide");
            w.WriteBoolean("gzip", data.IsCompressed);
            w.WriteString("order", r.Order == AnswerOrder.Time ? "time" : "shuffled");
            w.WriteString("model", s.Model);
            w.WriteNumber("guess", s.Guess);
            w.WriteNumber("holdout", s.Holdout);
            w.WriteNumber("seed", s.Seed);
            w.WriteNumber("answers", r.Answers);
            w.WriteNumber("users", r.Users);
            w.WriteNumber("items", r.Items);
            w.WriteNumber("trainAnswers", r.TrainAnswers);
            w.WriteNumber("heldOutAnswers", r.HeldOutAnswers);
            w.WriteNumber("itemsCompared", r.ItemsCompared);
            NumberOrNull(w, "pearson", r.Pearson);
            NumberOrNull(w, "spearman", r.Spearman);
            NumberOrNull(w, "onlineLogLoss", r.OnlineLogLoss);
            NumberOrNull(w, "raschLogLoss", r.RaschLogLoss);
            NumberOrNull(w, "itemBaseRateLogLoss", r.ItemBaseRateLogLoss);
            NumberOrNull(w, "globalBaseRateLogLoss", r.GlobalBaseRateLogLoss);
            NumberOrNull(w, "progressiveLogLoss", r.ProgressiveLogLoss);
            NumberOrNull(w, "raschAbilitySpread", r.RaschAbilitySpread);
            w.WriteNumber("raschIterations", r.RaschIterations);
            w.WriteBoolean("raschConverged", r.RaschConverged);
            w.WriteNumber("readSeconds", Math.Round(readSeconds, 6));
            w.WriteNumber("onlineSeconds", Math.Round(r.OnlineSeconds, 6));
            w.WriteNumber("raschSeconds", Math.Round(r.RaschSeconds, 6));
            w.WriteNumber("seconds", Math.Round(seconds, 6));
            w.WriteEndObject();
        }
        output.WriteLine(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
        output.Flush();
    }

    private static void NumberOrNull(Utf8JsonWriter w, string name, double value)
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

    private static void WriteAnswersSummary(TextWriter o, AnswerSettings s, AnswerData data, AnswerReplayResult r, double readSeconds, double seconds)
    {
        var c = CultureInfo.InvariantCulture;
        static string F(double value) => double.IsFinite(value) ? value.ToString("F4", CultureInfo.InvariantCulture) : "n/a";
        var format = (data.Format == AnswerFileFormat.Long ? "long CSV" : "wide CSV") + (data.IsCompressed ? ", gzip" : "");
        var order = r.Order == AnswerOrder.Time ? "in time order" : "in a seeded shuffle (the file has no times)";
        o.WriteLine(string.Create(c, $"replay {s.File} ({format}): {r.Answers:N0} answers, {r.Users:N0} users, {r.Items:N0} items"));
        o.WriteLine(string.Create(c, $"  model {s.Model}, guess {s.Guess}; learned from {r.TrainAnswers:N0} answers {order}, {r.HeldOutAnswers:N0} held out (holdout {s.Holdout}, seed {s.Seed})"));
        o.WriteLine(string.Create(c, $"  difficulty, online vs batch Rasch ({r.ItemsCompared:N0} items)   Pearson {F(r.Pearson)}   Spearman {F(r.Spearman)}"));
        o.WriteLine("  log loss");
        o.WriteLine($"    online model, held out        {F(r.OnlineLogLoss)}");
        o.WriteLine($"    batch Rasch fit, held out     {F(r.RaschLogLoss)}");
        o.WriteLine($"    per-item base rate, held out  {F(r.ItemBaseRateLogLoss)}");
        o.WriteLine($"    global base rate, held out    {F(r.GlobalBaseRateLogLoss)}");
        o.WriteLine($"    online model, progressive     {F(r.ProgressiveLogLoss)}");
        o.WriteLine(string.Create(c, $"  Rasch fit: ability spread {r.RaschAbilitySpread:F3}, {r.RaschIterations} EM iterations{(r.RaschConverged ? "" : ", NOT converged")}"));
        o.WriteLine(string.Create(c, $"  {seconds:F2} s (reading {readSeconds:F2}, online pass {r.OnlineSeconds:F2}, Rasch fit {r.RaschSeconds:F2})"));
        o.Flush();
    }

    private static int Run(CliContext context, Settings settings, CancellationToken cancellationToken)
    {
        const string command = FlywheelCli.Name + " replay";
        return context.RunFileVerb(command, settings.File, () =>
        {
            var options = BuildOptions(settings);
            var result = Replay(context, settings, options, cancellationToken);
            if (settings.Json)
            {
                WriteJson(context.Out, settings, options, result);
            }
            else
            {
                WriteSummary(context.Out, settings, options, result);
            }
            return ExitCodes.Success;
        });
    }

    private static CbifyReplayOptions BuildOptions(Settings s)
    {
        if (s.Classes < 2 || s.Classes > MaxClasses)
        {
            throw new UsageException($"--cbify K needs K from 2 to {MaxClasses:N0}; got {s.Classes}");
        }
        var algorithm = s.Algorithm switch
        {
            "epsilon-greedy" => ExplorationAlgorithm.EpsilonGreedy,
            "softmax" => ExplorationAlgorithm.Softmax,
            "squarecb" => ExplorationAlgorithm.SquareCb,
            "bag" => ExplorationAlgorithm.Bag,
            "none" => ExplorationAlgorithm.None,
            _ => throw new UsageException($"--algorithm {s.Algorithm} is unknown"),
        };
        var reduction = s.CbType switch
        {
            "dm" => Reduction.Dm,
            "mtr" => Reduction.Mtr,
            "ips" => Reduction.Ips,
            "dr" => Reduction.Dr,
            _ => throw new UsageException($"--cb-type {s.CbType} is unknown"),
        };
        if (s.Epsilon is { } e && !(e is >= 0 and <= 1))
        {
            throw new UsageException($"--epsilon must lie in [0, 1]; got {e.ToString(CultureInfo.InvariantCulture)}");
        }
        if (!double.IsFinite(s.Lambda) || s.Lambda < 0)
        {
            throw new UsageException($"--lambda must be a finite number ≥ 0; got {s.Lambda.ToString(CultureInfo.InvariantCulture)}");
        }
        if (!double.IsFinite(s.Gamma) || s.Gamma <= 0)
        {
            throw new UsageException($"--gamma must be a finite number > 0; got {s.Gamma.ToString(CultureInfo.InvariantCulture)}");
        }
        if (s.Bags is < 1 or > 64)
        {
            throw new UsageException($"--bags must be from 1 to 64; got {s.Bags}");
        }
        if (s.LearningRate is { } rate && !(rate is > 0 and <= 100))
        {
            throw new UsageException($"--learning-rate must be greater than 0 and at most 100; got {rate.ToString(CultureInfo.InvariantCulture)}");
        }
        if (s.PowerT is { } p && !(p is >= 0 and <= 1))
        {
            throw new UsageException($"--power-t must lie in [0, 1]; got {p.ToString(CultureInfo.InvariantCulture)}");
        }
        if (Directory.Exists(s.File))
        {
            throw new UsageException($"'{s.File}' is a directory, not a data file");
        }
        if (!File.Exists(s.File))
        {
            throw new UsageException($"file '{s.File}' not found");
        }
        return new CbifyReplayOptions
        {
            Classes = s.Classes,
            Learner = new LearnerConfig { Reduction = reduction, LearningRate = s.LearningRate, PowerT = s.PowerT },
            Exploration = new ExplorationConfig { Algorithm = algorithm, Epsilon = s.Epsilon, Lambda = s.Lambda, Gamma = s.Gamma, Bags = s.Bags },
            Seed = s.Seed,
        };
    }

    private static CbifyReplayResult Replay(CliContext context, Settings settings, CbifyReplayOptions options, CancellationToken cancellationToken)
    {
        var replay = new CbifyReplay(options);
        if (!context.Interactive || settings.Json)
        {
            return replay.Run(settings.File, new PlainProgress(context.Error, context.Time), cancellationToken);
        }
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(context.Error) });
        return console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(progress =>
            {
                var task = progress.AddTask("replay", autoStart: true, maxValue: 1);
                return replay.Run(settings.File, new BarProgress(task), cancellationToken);
            });
    }

    private static void WriteJson(TextWriter output, Settings s, CbifyReplayOptions options, CbifyReplayResult r)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("file", s.File);
            w.WriteNumber("k", s.Classes);
            w.WriteString("format", r.Format == MulticlassFormat.Csv ? "csv" : "vw");
            w.WriteBoolean("gzip", r.Compressed);
            w.WriteString("algorithm", s.Algorithm);
            w.WriteString("cbType", s.CbType);
            w.WriteNumber("epsilon", options.Exploration.EffectiveEpsilon);
            w.WriteNumber("lambda", s.Lambda);
            w.WriteNumber("gamma", s.Gamma);
            w.WriteNumber("bags", s.Bags);
            w.WriteNumber("learningRate", options.Learner.EffectiveLearningRate);
            w.WriteNumber("powerT", options.Learner.EffectivePowerT);
            w.WriteNumber("seed", s.Seed);
            w.WriteNumber("examples", r.Examples);
            w.WriteNumber("progressiveLoss", r.ProgressiveLoss);
            w.WriteNumber("greedyLoss", r.GreedyLoss);
            w.WriteNumber("seconds", Math.Round(r.Seconds, 6));
            w.WriteNumber("examplesPerSecond", Math.Round(r.ExamplesPerSecond, 1));
            w.WriteEndObject();
        }
        output.WriteLine(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
        output.Flush();
    }

    private static void WriteSummary(TextWriter output, Settings s, CbifyReplayOptions options, CbifyReplayResult r)
    {
        var c = CultureInfo.InvariantCulture;
        var format = (r.Format == MulticlassFormat.Csv ? "CSV" : "VW text") + (r.Compressed ? ", gzip" : "");
        var exploration = s.Algorithm == "epsilon-greedy" ? string.Create(c, $"epsilon-greedy (epsilon {options.Exploration.EffectiveEpsilon})") : s.Algorithm;
        output.WriteLine(string.Create(c, $"replay {s.File} ({format}): {r.Examples:N0} examples, K = {s.Classes}"));
        output.WriteLine(string.Create(c, $"  {exploration}, cb type {s.CbType}, learning rate {options.Learner.EffectiveLearningRate}, power_t {options.Learner.EffectivePowerT}, seed {s.Seed}"));
        output.WriteLine(string.Create(c, $"  progressive loss  {r.ProgressiveLoss:F4}"));
        output.WriteLine(string.Create(c, $"  greedy loss       {r.GreedyLoss:F4}"));
        output.WriteLine(string.Create(c, $"  {r.Seconds:F2} s, {r.ExamplesPerSecond:N0} examples/s"));
        output.Flush();
    }

    /// <summary>Plain progress lines on stderr, at most every few seconds, none for short runs.</summary>
    private sealed class PlainProgress(TextWriter error, TimeProvider time) : IProgress<ReplayProgress>
    {
        private readonly ProgressThrottle _throttle = new(time);

        public void Report(ReplayProgress value)
        {
            if (!_throttle.Due())
            {
                return;
            }
            var c = CultureInfo.InvariantCulture;
            var line = value.Fraction is { } f
                ? string.Create(c, $"replay: {value.Examples} examples, {f * 100:F0}% of file")
                : string.Create(c, $"replay: {value.Examples} examples");
            error.WriteLine(line);
            error.Flush();
        }
    }

    /// <summary>Moves a Spectre.Console progress bar by the fraction of the file read.</summary>
    private sealed class BarProgress(ProgressTask task) : IProgress<ReplayProgress>
    {
        public void Report(ReplayProgress value)
        {
            task.Description = string.Create(CultureInfo.InvariantCulture, $"replay {value.Examples:N0} examples");
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

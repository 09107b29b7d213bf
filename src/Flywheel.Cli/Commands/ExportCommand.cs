using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Flywheel.Client;
using Flywheel.Core;

namespace Flywheel.Cli.Commands;

/// <summary>
/// <c>flywheel export LOOP --format jsonl|vw [--from T] [--to T] [--policy P] [--mismatches] [--out FILE]</c>: a loop's rewarded
/// decisions from a running server, streamed to stdout or a file (written whole or not at all). A generation loop also
/// exports fine-tuning data: <c>--format sft|dpo|kto [--style openai|trl] [--min-reward R] [--max-reward R] [--variant ID ...]</c>.
/// </summary>
internal static class ExportCommand
{
    private const string CommandName = FlywheelCli.Name + " export";

    public static Command Create(CliContext context)
    {
        var loop = new Argument<string>("LOOP") { Description = "The loop id." };
        var format = new Option<string>("--format")
        {
            Description = "jsonl: one logged decision a line, what `flywheel evaluate` reads; vw: Vowpal Wabbit --cb_adf text; "
                + "for a generation loop, fine-tuning JSON lines: sft (prompt and kept or corrected answer), dpo (preferred and rejected answers), kto (an answer and whether it was wanted).",
            Required = true,
        };
        format.AcceptOnlyFromAmong("jsonl", "vw", "sft", "dpo", "kto");
        var style = new Option<string>("--style")
        {
            Description = "sft, dpo, kto: openai (OpenAI's fine-tuning files; default for sft and dpo) or trl (Hugging Face TRL's conversational datasets; the only style of kto).",
        };
        style.AcceptOnlyFromAmong("openai", "trl");
        var minReward = new Option<string>("--min-reward") { Description = "sft, dpo, kto: only decisions whose reward is at least R (open ones are left out).", HelpName = "R" };
        var maxReward = new Option<string>("--max-reward") { Description = "sft, dpo, kto: only decisions whose reward is at most R (open ones are left out).", HelpName = "R" };
        var variant = new Option<string[]>("--variant")
        {
            Description = "sft, dpo, kto: only decisions that served this variant (repeat for several).",
            HelpName = "ID",
        };
        var from = new Option<string>("--from") { Description = "Earliest decision time, inclusive, ISO 8601 (default: the start of the log).", HelpName = "T" };
        var to = new Option<string>("--to") { Description = "Latest decision time, exclusive, ISO 8601 (default: now).", HelpName = "T" };
        var policy = new Option<string>("--policy")
        {
            Description = "champion or a model version (v3): each jsonl row carries its probabilities and reward estimates, so `flywheel evaluate` reproduces the server's figures.",
            HelpName = "champion|vN",
        };
        var mismatches = new Option<bool>("--mismatches") { Description = "Only the shadow mismatches: decisions where a shadow disagreed and the reward shows one side was clearly wrong." };
        var output = new Option<string>("--out") { Description = "Write to this file instead of stdout.", HelpName = "FILE" };
        var server = ServerCommand.ServerOption();
        var key = ServerCommand.KeyOption();

        var command = new Command("export", "Stream a loop's rewarded decisions (joined training data) as JSON lines or Vowpal Wabbit text, or a generation loop's fine-tuning data.")
        {
            loop, format, from, to, policy, mismatches, style, minReward, maxReward, variant, output, server, key,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var formatName = parse.GetRequiredValue(format);
            var vw = formatName == "vw";
            ExportRequest request;
            TrainingExportRequest? training = null;
            try
            {
                if (formatName is "sft" or "dpo" or "kto")
                {
                    training = TrainingRequest(formatName, parse.GetValue(style), parse.GetValue(from), parse.GetValue(to), parse.GetValue(minReward), parse.GetValue(maxReward), parse.GetValue(variant));
                    foreach (var (name, given) in new[] { ("--policy", parse.GetValue(policy) is not null), ("--mismatches", parse.GetValue(mismatches)) })
                    {
                        if (given)
                        {
                            throw new UsageException($"{name} applies to --format jsonl and vw, not to {formatName}");
                        }
                    }
                }
                else
                {
                    foreach (var (name, given) in new[]
                    {
                        ("--style", parse.GetValue(style) is not null),
                        ("--min-reward", parse.GetValue(minReward) is not null),
                        ("--max-reward", parse.GetValue(maxReward) is not null),
                        ("--variant", parse.GetValue(variant) is { Length: > 0 }),
                    })
                    {
                        if (given)
                        {
                            throw new UsageException($"{name} applies to --format sft, dpo and kto, not to {formatName}");
                        }
                    }
                }
                request = new ExportRequest
                {
                    From = FlywheelJson.ParseTime(parse.GetValue(from), "--from"),
                    To = FlywheelJson.ParseTime(parse.GetValue(to), "--to"),
                    Policy = CheckPolicy(parse.GetValue(policy)),
                    MismatchesOnly = parse.GetValue(mismatches),
                };
                if (request.From is { } f && request.To is { } t && t < f)
                {
                    throw new UsageException("--to must not be before --from");
                }
            }
            catch (Exception ex) when (ex is FlywheelValidationException or UsageException)
            {
                context.ErrorLine(CommandName, ex.Message);
                return Task.FromResult(ExitCodes.Usage);
            }
            var settings = new Settings(parse.GetRequiredValue(loop), vw ? FlywheelExportFormat.Vw : FlywheelExportFormat.Jsonl, request, parse.GetValue(output), training);
            return ServerCommand.RunAsync(context, CommandName, parse.GetValue(server), parse.GetValue(key), client => RunAsync(context, client, settings, cancellationToken));
        });
        return command;
    }

    private sealed record Settings(string Loop, FlywheelExportFormat Format, ExportRequest Request, string? Out, TrainingExportRequest? Training)
    {
        /// <summary>What one exported line (jsonl, training) or block (vw) is, for progress and the summary.</summary>
        public string Unit => Training is null ? "decisions" : "examples";

        public Task<long> ExportToAsync(FlywheelClient client, Stream destination, CancellationToken cancellationToken)
            => Training is { } training
                ? client.ExportTrainingToAsync(Loop, training, destination, cancellationToken)
                : client.ExportToAsync(Loop, Format, Request, destination, cancellationToken);
    }

    private static TrainingExportRequest TrainingRequest(string format, string? style, string? from, string? to, string? minReward, string? maxReward, string[]? variants)
    {
        var trainingFormat = format switch
        {
            "sft" => TrainingFormat.Sft,
            "dpo" => TrainingFormat.Dpo,
            _ => TrainingFormat.Kto,
        };
        TrainingStyle? trainingStyle = style switch
        {
            null => null,
            "openai" => TrainingStyle.OpenAi,
            _ => TrainingStyle.Trl,
        };
        if (trainingFormat == TrainingFormat.Kto && trainingStyle == TrainingStyle.OpenAi)
        {
            throw new UsageException("--style openai has no kto shape; kto is written in TRL's (prompt, completion, label): use --style trl or leave it out");
        }
        var request = new TrainingExportRequest
        {
            Format = trainingFormat,
            Style = trainingStyle,
            From = FlywheelJson.ParseTime(from, "--from"),
            To = FlywheelJson.ParseTime(to, "--to"),
            MinReward = ParseReward(minReward, "--min-reward"),
            MaxReward = ParseReward(maxReward, "--max-reward"),
            Variants = variants is { Length: > 0 } ? variants : null,
        };
        if (request.MinReward > request.MaxReward)
        {
            throw new UsageException("--max-reward must not be below --min-reward");
        }
        if (variants?.Any(string.IsNullOrWhiteSpace) == true)
        {
            throw new UsageException("--variant must not be empty");
        }
        return request;
    }

    private static double? ParseReward(string? text, string option)
    {
        if (text is null)
        {
            return null;
        }
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)
            ? value
            : throw new UsageException($"{option} '{text}' is not a finite number");
    }

    private static string? CheckPolicy(string? policy)
    {
        if (string.IsNullOrEmpty(policy) || policy == "champion")
        {
            return string.IsNullOrEmpty(policy) ? null : policy;
        }
        ServerCommand.ParseVersion(policy, "--policy");
        return policy.StartsWith('v') ? policy : "v" + policy;
    }

    private static async Task RunAsync(CliContext context, FlywheelClient client, Settings settings, CancellationToken cancellationToken)
    {
        if (settings.Out is null)
        {
            // Straight to the process's stdout when it is the console; through the writer otherwise (in-process callers).
            var toConsole = ReferenceEquals(context.Out, Console.Out);
            var raw = toConsole ? Console.OpenStandardOutput() : new TextWriterStream(context.Out);
            await using (raw)
            {
                var weights = WeightWatch.For(settings);
                var counting = new CountingStream(raw, settings.Format, context.Error, context.Time, settings.Unit, weights);
                await settings.ExportToAsync(client, counting, cancellationToken);
                await counting.FlushAsync(cancellationToken);
                weights?.Warn(context);
            }
            return;
        }

        if (Directory.Exists(settings.Out))
        {
            throw new UsageException($"--out '{settings.Out}' is a directory, not a file");
        }
        var path = Path.GetFullPath(settings.Out);
        // Written beside the target and moved into place at the end, so a failed export never leaves a short file.
        var partial = path + ".partial";
        try
        {
            long bytes;
            CountingStream counting;
            var weights = WeightWatch.For(settings);
            var file = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
            await using (file)
            {
                counting = new CountingStream(file, settings.Format, context.Error, context.Time, settings.Unit, weights);
                bytes = await settings.ExportToAsync(client, counting, cancellationToken);
                await counting.FlushAsync(cancellationToken);
            }
            File.Move(partial, path, overwrite: true);
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"exported {counting.Decisions:N0} {settings.Unit} ({bytes:N0} bytes) to {settings.Out}"));
            weights?.Warn(context);
        }
        finally
        {
            if (File.Exists(partial))
            {
                File.Delete(partial);
            }
        }
    }

    /// <summary>Passes bytes through, counting decisions (jsonl: lines; vw: blank lines) and printing plain progress lines on stderr.</summary>
    private sealed class CountingStream(Stream inner, FlywheelExportFormat format, TextWriter progress, TimeProvider time, string unit, WeightWatch? weights = null) : Stream
    {
        private readonly ProgressThrottle _throttle = new(time);
        private byte _previous;

        public long Decisions { get; private set; }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Count(buffer.Span);
            await inner.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count)
        {
            Count(buffer.AsSpan(offset, count));
            inner.Write(buffer, offset, count);
        }

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        private void Count(ReadOnlySpan<byte> bytes)
        {
            weights?.Add(bytes);
            foreach (var b in bytes)
            {
                if (b == (byte)'\n' && (format == FlywheelExportFormat.Jsonl || _previous == (byte)'\n'))
                {
                    Decisions++;
                }
                _previous = b;
            }
            if (_throttle.Due())
            {
                progress.WriteLine(string.Create(CultureInfo.InvariantCulture, $"export: {Decisions:N0} {unit}"));
                progress.Flush();
            }
        }
    }

    /// <summary>
    /// Reads the importance weight w = π(chosen)/p of each exported JSON line that carries target probabilities, and
    /// warns on stderr when one decision's weight is extreme (<see cref="OffPolicyEstimates.IsExtreme"/>),
    /// as <c>evaluate</c> would on the file.
    /// </summary>
    private sealed class WeightWatch
    {
        private readonly List<byte> _line = [];
        private double _sum;
        private double _max;
        private long _rows;

        public static WeightWatch? For(Settings settings)
            => settings.Format == FlywheelExportFormat.Jsonl && settings.Request.Policy is not null ? new WeightWatch() : null;

        public void Add(ReadOnlySpan<byte> bytes)
        {
            while (bytes.Length > 0)
            {
                var end = bytes.IndexOf((byte)'\n');
                if (end < 0)
                {
                    _line.AddRange(bytes);
                    return;
                }
                _line.AddRange(bytes[..end]);
                Read(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_line));
                _line.Clear();
                bytes = bytes[(end + 1)..];
            }
        }

        private void Read(ReadOnlySpan<byte> json)
        {
            if (json.IsEmpty)
            {
                return;
            }
            using var row = JsonDocument.Parse(json.ToArray());
            var root = row.RootElement;
            if (root.TryGetProperty("probability", out var p) && root.TryGetProperty("chosenActionId", out var chosen)
                && root.TryGetProperty("targetProbabilities", out var target) && p.GetDouble() > 0)
            {
                var pi = target.TryGetProperty(chosen.GetString()!, out var value) ? value.GetDouble() : 0;
                var w = pi / p.GetDouble();
                _rows++;
                _sum += w;
                _max = Math.Max(_max, w);
            }
        }

        public void Warn(CliContext context)
        {
            if (_sum > 0 && OffPolicyEstimates.IsExtreme(_max / _sum, _rows))
            {
                context.ErrorLine(CommandName, "warning: " + OffPolicyEstimates.ExtremeWeightWarning(_max, _max / _sum));
            }
        }
    }

    /// <summary>A write-only stream that decodes UTF-8 into a <see cref="TextWriter"/>.</summary>
    private sealed class TextWriterStream(TextWriter writer) : Stream
    {
        private readonly Decoder _decoder = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetDecoder();
        private char[] _chars = new char[4096];

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            var needed = _decoder.GetCharCount(buffer, flush: false);
            if (_chars.Length < needed)
            {
                _chars = new char[Math.Max(needed, _chars.Length * 2)];
            }
            var written = _decoder.GetChars(buffer, _chars, flush: false);
            writer.Write(_chars, 0, written);
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Write(buffer.AsSpan(offset, count));
            return Task.CompletedTask;
        }

        public override void Flush() => writer.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => writer.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}

using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Flywheel.Client;
using Flywheel.Core;

namespace Flywheel.Cli.Commands;

/// <summary>
/// <c>flywheel export LOOP --format jsonl|vw [--from T] [--to T] [--policy P] [--mismatches] [--out FILE]</c>: a loop's rewarded
/// decisions from a running server, streamed to stdout or a file (written whole or not at all).
/// </summary>
internal static class ExportCommand
{
    private const string CommandName = FlywheelCli.Name + " export";

    public static Command Create(CliContext context)
    {
        var loop = new Argument<string>("LOOP") { Description = "The loop id." };
        var format = new Option<string>("--format")
        {
            Description = "jsonl: one logged decision a line, what `flywheel evaluate` reads; vw: Vowpal Wabbit --cb_adf text.",
            Required = true,
        };
        format.AcceptOnlyFromAmong("jsonl", "vw");
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

        var command = new Command("export", "Stream a loop's rewarded decisions (joined training data) as JSON lines or Vowpal Wabbit text.")
        {
            loop, format, from, to, policy, mismatches, output, server, key,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var vw = parse.GetRequiredValue(format) == "vw";
            ExportRequest request;
            try
            {
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
            var settings = new Settings(parse.GetRequiredValue(loop), vw ? FlywheelExportFormat.Vw : FlywheelExportFormat.Jsonl, request, parse.GetValue(output));
            return ServerCommand.RunAsync(context, CommandName, parse.GetValue(server), parse.GetValue(key), client => RunAsync(context, client, settings, cancellationToken));
        });
        return command;
    }

    private sealed record Settings(string Loop, FlywheelExportFormat Format, ExportRequest Request, string? Out);

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
                var counting = new CountingStream(raw, settings.Format, context.Error, context.Time, weights);
                await client.ExportToAsync(settings.Loop, settings.Format, settings.Request, counting, cancellationToken);
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
                counting = new CountingStream(file, settings.Format, context.Error, context.Time, weights);
                bytes = await client.ExportToAsync(settings.Loop, settings.Format, settings.Request, counting, cancellationToken);
                await counting.FlushAsync(cancellationToken);
            }
            File.Move(partial, path, overwrite: true);
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"exported {counting.Decisions:N0} decisions ({bytes:N0} bytes) to {settings.Out}"));
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
    private sealed class CountingStream(Stream inner, FlywheelExportFormat format, TextWriter progress, TimeProvider time, WeightWatch? weights = null) : Stream
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
                progress.WriteLine(string.Create(CultureInfo.InvariantCulture, $"export: {Decisions:N0} decisions"));
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

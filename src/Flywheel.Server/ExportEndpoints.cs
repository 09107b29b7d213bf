using System.Buffers;
using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Flywheel.Server;

/// <summary><c>GET …/export</c>: joined training data, streamed row by row.</summary>
internal static class ExportEndpoints
{
    /// <summary>The content type of <c>format=jsonl</c>.</summary>
    public const string JsonLinesContentType = "application/x-ndjson";

    /// <summary>The content type of <c>format=vw</c>.</summary>
    public const string VwContentType = "text/plain; charset=utf-8";

    /// <summary>Bytes written before the response is flushed to the network.</summary>
    private const int ExportFlushBytes = 64 * 1024;

    /// <summary>Longest time written rows wait before they are flushed.</summary>
    private static readonly TimeSpan ExportFlushInterval = TimeSpan.FromMilliseconds(250);

    private static readonly string[] ExportParameters = ["format", "from", "to", "policy", "mismatches", "style", "minReward", "maxReward", "variant"];

    public static void Map(RouteGroupBuilder v1)
    {
        v1.MapGet("/loops/{loop}/export", ExportAsync)
            .WithName("Export")
            .WithSummary("Rewarded decisions made in [from, to), in learning order, streamed: format=jsonl (one logged decision a line, "
                + "the format `flywheel evaluate` reads) or format=vw (Vowpal Wabbit --cb_adf text). With policy, each jsonl row "
                + "carries that policy's targetProbabilities and rewardEstimates; with mismatches=true, only the shadow mismatches. "
                + "A generation loop also exports fine-tuning data as JSON lines: format=sft (prompt and the answer the user kept "
                + "or wrote), dpo (preferred and rejected answers) or kto (an answer and whether it was wanted), in style=openai "
                + "or trl, filtered by minReward, maxReward and variant (docs/training-exports.md).")
            .Produces(200, typeof(string), JsonLinesContentType, "text/plain")
            .ProducesProblems(401, 403, 404, 409, 422)
            .RequireFlywheelScope(ApiKeyScopes.Read);
    }

    private static async Task ExportAsync(
        HttpContext http,
        string loop,
        IFlywheelEngine engine,
        [Description("jsonl, vw, or for a generation loop sft, dpo or kto (required).")] string? format,
        [Description("Earliest decision time, inclusive, ISO 8601 (default: the start of the log).")] string? from,
        [Description("Latest decision time, exclusive, ISO 8601 (default: now).")] string? to,
        [Description("jsonl and vw: champion or a model version such as v3: rows carry its probabilities and reward estimates.")] string? policy,
        [Description("jsonl and vw: true: only the shadow mismatches (decisions where a shadow disagreed and the reward shows one side was clearly wrong).")] string? mismatches,
        [Description("sft, dpo and kto: openai (OpenAI's fine-tuning files; the default for sft and dpo) or trl (Hugging Face TRL's conversational datasets; the only style of kto).")] string? style,
        [Description("sft, dpo and kto: only decisions whose reward is at least this (decisions still open are left out).")] string? minReward,
        [Description("sft, dpo and kto: only decisions whose reward is at most this (decisions still open are left out).")] string? maxReward,
        [Description("sft, dpo and kto: only decisions that served one of these variants: repeat the parameter, or separate ids with commas (a variant matches a value whole or one of its comma-separated parts).")] string[]? variant)
    {
        await Requests.EnsureLoopAsync(engine, loop, http.RequestAborted);
        CheckQuery(http.Request.Query);
        TrainingFormat? training = format switch
        {
            "jsonl" or "vw" => null,
            "sft" => TrainingFormat.Sft,
            "dpo" => TrainingFormat.Dpo,
            "kto" => TrainingFormat.Kto,
            null or "" => throw new FlywheelValidationException("format", "is required: jsonl, vw, sft, dpo or kto"),
            _ => throw new FlywheelValidationException("format", $"'{format}' is not a format; use jsonl, vw, sft, dpo or kto"),
        };
        if (training is { } trainingFormat)
        {
            foreach (var (name, value) in new[] { ("policy", policy), ("mismatches", mismatches) })
            {
                if (!string.IsNullOrEmpty(value))
                {
                    throw new FlywheelValidationException(name, $"applies to the jsonl and vw exports, not to {format}");
                }
            }
            var trainingRequest = new TrainingExportRequest
            {
                Format = trainingFormat,
                Style = style switch
                {
                    null or "" => null,
                    "openai" => TrainingStyle.OpenAi,
                    "trl" => TrainingStyle.Trl,
                    _ => throw new FlywheelValidationException("style", $"'{style}' is not a style; use openai or trl"),
                },
                From = FlywheelJson.ParseTime(from, "from"),
                To = FlywheelJson.ParseTime(to, "to"),
                MinReward = ParseReward(minReward, "minReward"),
                MaxReward = ParseReward(maxReward, "maxReward"),
                Variants = ParseVariants(variant),
            };
            if (trainingRequest.MinReward > trainingRequest.MaxReward)
            {
                throw new FlywheelValidationException("maxReward", $"is below minReward ({trainingRequest.MinReward?.ToString(CultureInfo.InvariantCulture)})");
            }
            var resolved = TrainingDataWriter.ResolveStyle(trainingFormat, trainingRequest.Style);
            var examples = engine.ExportTrainingAsync(loop, trainingRequest, http.RequestAborted);
            await StreamAsync(http, examples, ExportMode.Training, $"{loop}.{format}.jsonl", (sink, example) => sink.Write(example, trainingFormat, resolved));
            return;
        }

        foreach (var (name, value) in new[] { ("style", style), ("minReward", minReward), ("maxReward", maxReward) })
        {
            if (!string.IsNullOrEmpty(value))
            {
                throw new FlywheelValidationException(name, $"applies to a generation loop's sft, dpo and kto exports, not to {format}");
            }
        }
        if (variant is { Length: > 0 })
        {
            throw new FlywheelValidationException("variant", $"applies to a generation loop's sft, dpo and kto exports, not to {format}");
        }
        var vw = format == "vw";
        if (vw && (await engine.GetLoopAsync(loop, http.RequestAborted))?.Kind == LoopKind.Rank)
        {
            throw new FlywheelValidationException("format", $"vw writes single choices (--cb_adf); loop '{loop}' ranks, and its rankings export as jsonl")
            {
                Kind = ValidationKind.NotSupported,
            };
        }
        var request = new ExportRequest
        {
            From = FlywheelJson.ParseTime(from, "from"),
            To = FlywheelJson.ParseTime(to, "to"),
            Policy = string.IsNullOrEmpty(policy) ? null : policy,
            MismatchesOnly = mismatches switch
            {
                null or "" or "false" => false,
                "true" => true,
                _ => throw new FlywheelValidationException("mismatches", $"'{mismatches}' is not true or false"),
            },
        };
        var rows = engine.ExportAsync(loop, request, http.RequestAborted);
        await StreamAsync(http, rows, vw ? ExportMode.Vw : ExportMode.Jsonl, $"{loop}.{(vw ? "vw" : "jsonl")}", (sink, row) => sink.Write(row));
    }

    /// <summary>Refuses unknown query parameters, and repeated ones but <c>variant</c>, naming them.</summary>
    private static void CheckQuery(IQueryCollection query)
    {
        foreach (var (name, values) in query)
        {
            if (!ExportParameters.Contains(name, StringComparer.Ordinal))
            {
                throw new FlywheelValidationException(name, $"is not a query parameter of export; use {string.Join(", ", ExportParameters)}");
            }
            if (values.Count > 1 && name != "variant")
            {
                throw new FlywheelValidationException(name, "is given more than once");
            }
        }
    }

    private static double? ParseReward(string? text, string field)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)
            ? value
            : throw new FlywheelValidationException(field, $"'{text}' is not a finite number");
    }

    private static string[]? ParseVariants(string[]? values)
    {
        if (values is not { Length: > 0 })
        {
            return null;
        }
        if (values.Any(string.IsNullOrWhiteSpace))
        {
            throw new FlywheelValidationException("variant", "holds an empty variant id");
        }
        // Each value whole as well as its comma-separated parts: action ids may themselves hold commas.
        return values.SelectMany(v => v.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Append(v)).Distinct(StringComparer.Ordinal).ToArray();
    }

    /// <summary>
    /// Answers 200 and streams <paramref name="source"/>. The first step runs before the status line is sent: it checks
    /// the request against the loop, and its refusals still get a problem+json answer.
    /// </summary>
    private static async Task StreamAsync<T>(HttpContext http, IAsyncEnumerable<T> source, ExportMode mode, string fileName, Action<ExportSink, T> write)
    {
        var cancellationToken = http.RequestAborted;
        await using var rows = source.GetAsyncEnumerator(cancellationToken);
        var more = await rows.MoveNextAsync();

        var response = http.Response;
        response.StatusCode = 200;
        response.ContentType = mode == ExportMode.Vw ? VwContentType : JsonLinesContentType;
        response.Headers.CacheControl = "no-store";
        response.Headers.ContentDisposition = $"inline; filename=\"{fileName}\"";
        try
        {
            using var sink = new ExportSink(response.BodyWriter, mode);
            // Send the status line and headers now: the caller knows the export is under way however long the rows take.
            await response.StartAsync(cancellationToken);
            await sink.FlushAsync(cancellationToken);
            while (more)
            {
                write(sink, rows.Current);
                if (sink.FlushDue && !await sink.FlushAsync(cancellationToken))
                {
                    return; // the caller went away
                }
                more = await rows.MoveNextAsync();
            }
            sink.Complete();
            await sink.FlushAsync(cancellationToken);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // The status line is gone: end the connection abruptly so that the caller sees a broken stream rather than
            // a short export that looks complete.
            http.Abort();
            throw;
        }
    }

    private enum ExportMode
    {
        Jsonl,
        Vw,
        Training,
    }

    /// <summary>Writes export rows straight into the response pipe and says when to flush.</summary>
    private sealed class ExportSink : IDisposable
    {
        private static readonly byte[] NewLine = "\n"u8.ToArray();

        private readonly PipeWriter _pipe;
        private readonly bool _vw;
        private readonly Utf8JsonWriter? _json;
        private readonly StringWriter? _text;
        private readonly Encoder? _encoder;
        private long _unflushed;
        private long _lastFlush = Stopwatch.GetTimestamp();

        public ExportSink(PipeWriter pipe, ExportMode mode)
        {
            _pipe = pipe;
            _vw = mode == ExportMode.Vw;
            if (_vw)
            {
                _text = new StringWriter(System.Globalization.CultureInfo.InvariantCulture) { NewLine = "\n" };
                _encoder = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetEncoder();
            }
            else
            {
                // Training lines are mostly prose: non-ASCII text stays as UTF-8 rather than tripling into \u escapes.
                _json = new Utf8JsonWriter(pipe, mode == ExportMode.Training ? new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping } : default);
            }
        }

        public bool FlushDue => _unflushed >= ExportFlushBytes || (_unflushed > 0 && Stopwatch.GetElapsedTime(_lastFlush) >= ExportFlushInterval);

        public void Write(LoggedDecision row)
        {
            if (_vw)
            {
                var text = _text!.GetStringBuilder().Clear();
                VwTextWriter.Write(_text, row);
                foreach (var chunk in text.GetChunks())
                {
                    _encoder!.Convert(chunk.Span, _pipe, flush: false, out var bytes, out _);
                    _unflushed += bytes;
                }
            }
            else
            {
                LoggedDecisionJson.Write(_json!, row);
                EndLine();
            }
        }

        public void Write(TrainingExample example, TrainingFormat format, TrainingStyle style)
        {
            TrainingDataWriter.Write(_json!, example, format, style);
            EndLine();
        }

        private void EndLine()
        {
            var json = _json!;
            json.Flush();
            _unflushed += json.BytesCommitted;
            json.Reset();
            _pipe.Write(NewLine);
            _unflushed += NewLine.Length;
        }

        /// <summary>Writes what the encoder still holds (only a lone surrogate at the very end could leave anything).</summary>
        public void Complete()
        {
            if (_encoder is not null)
            {
                _encoder.Convert([], _pipe, flush: true, out var bytes, out _);
                _unflushed += bytes;
            }
        }

        public void Dispose()
        {
            _json?.Dispose();
            _text?.Dispose();
        }

        /// <summary>Sends what is written; false when the connection has gone and nothing more can be sent.</summary>
        public async ValueTask<bool> FlushAsync(CancellationToken cancellationToken)
        {
            var result = await _pipe.FlushAsync(cancellationToken);
            _unflushed = 0;
            _lastFlush = Stopwatch.GetTimestamp();
            return !(result.IsCompleted || result.IsCanceled);
        }
    }
}

using System.Buffers;
using System.ComponentModel;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Text;
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

    private static readonly string[] ExportParameters = ["format", "from", "to", "policy", "mismatches"];

    public static void Map(RouteGroupBuilder v1)
    {
        v1.MapGet("/loops/{loop}/export", ExportAsync)
            .WithName("Export")
            .WithSummary("Rewarded decisions made in [from, to), in learning order, streamed: format=jsonl (one logged decision a line, "
                + "the format `flywheel evaluate` reads) or format=vw (Vowpal Wabbit --cb_adf text). With policy, each jsonl row "
                + "carries that policy's targetProbabilities and rewardEstimates; with mismatches=true, only the shadow mismatches.")
            .Produces(200, typeof(string), JsonLinesContentType, "text/plain")
            .ProducesProblems(401, 403, 404, 409, 422)
            .RequireFlywheelScope(ApiKeyScopes.Read);
    }

    private static async Task ExportAsync(
        HttpContext http,
        string loop,
        IFlywheelEngine engine,
        [Description("jsonl or vw (required).")] string? format,
        [Description("Earliest decision time, inclusive, ISO 8601 (default: the start of the log).")] string? from,
        [Description("Latest decision time, exclusive, ISO 8601 (default: now).")] string? to,
        [Description("champion or a model version such as v3: rows carry its probabilities and reward estimates.")] string? policy,
        [Description("true: only the shadow mismatches (decisions where a shadow disagreed and the reward shows one side was clearly wrong).")] string? mismatches)
    {
        await Requests.EnsureLoopAsync(engine, loop, http.RequestAborted);
        Requests.CheckQuery(http.Request.Query, "export", ExportParameters);
        var vw = format switch
        {
            "jsonl" => false,
            "vw" => true,
            null or "" => throw new FlywheelValidationException("format", "is required: jsonl or vw"),
            _ => throw new FlywheelValidationException("format", $"'{format}' is not a format; use jsonl or vw"),
        };
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

        var cancellationToken = http.RequestAborted;
        await using var rows = engine.ExportAsync(loop, request, cancellationToken).GetAsyncEnumerator(cancellationToken);
        // The first step checks the range and opens the policy: refusals still get a problem+json answer.
        var more = await rows.MoveNextAsync();

        var response = http.Response;
        response.StatusCode = 200;
        response.ContentType = vw ? VwContentType : JsonLinesContentType;
        response.Headers.CacheControl = "no-store";
        response.Headers.ContentDisposition = $"inline; filename=\"{loop}.{(vw ? "vw" : "jsonl")}\"";
        try
        {
            using var sink = new ExportSink(response.BodyWriter, vw);
            // Send the status line and headers now: the caller knows the export is under way however long the rows take.
            await response.StartAsync(cancellationToken);
            await sink.FlushAsync(cancellationToken);
            while (more)
            {
                sink.Write(rows.Current);
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

        public ExportSink(PipeWriter pipe, bool vw)
        {
            _pipe = pipe;
            _vw = vw;
            if (vw)
            {
                _text = new StringWriter(System.Globalization.CultureInfo.InvariantCulture) { NewLine = "\n" };
                _encoder = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetEncoder();
            }
            else
            {
                _json = new Utf8JsonWriter(pipe);
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
                var json = _json!;
                LoggedDecisionJson.Write(json, row);
                json.Flush();
                _unflushed += json.BytesCommitted;
                json.Reset();
                _pipe.Write(NewLine);
                _unflushed += NewLine.Length;
            }
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

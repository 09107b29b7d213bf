using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Flywheel.Core;

namespace Flywheel.Client;

/// <summary>The formats of <c>GET /v1/loops/{loop}/export</c>.</summary>
public enum FlywheelExportFormat
{
    /// <summary>One logged decision a line (docs/estimators.md), the format <c>flywheel evaluate</c> reads (<c>application/x-ndjson</c>).</summary>
    Jsonl,

    /// <summary>Vowpal Wabbit <c>--cb_adf</c> text: a <c>shared</c> line, one line per action, a blank line (<c>text/plain</c>).</summary>
    Vw,
}

// Export: joined training data, streamed.
public sealed partial class FlywheelClient
{
    /// <summary>Longest export line the client reads, in bytes; a longer one means the answer is not an export.</summary>

    private static readonly MediaTypeWithQualityHeaderValue AcceptJsonLines = new("application/x-ndjson");
    private static readonly MediaTypeWithQualityHeaderValue AcceptText = new("text/plain");

    /// <summary>
    /// Streams a loop's rewarded decisions in a time range (<c>GET /v1/loops/{loop}/export?format=jsonl</c>), one row
    /// at a time as it arrives: memory stays flat whatever the range.
    /// </summary>
    /// <param name="loop">The loop's id.</param>
    /// <param name="request">
    /// The range and, optionally, a policy (<c>champion</c> or <c>v</c>N) whose probabilities and reward estimates each
    /// row carries, so that evaluating the rows reproduces <see cref="EvaluateAsync"/>.
    /// </param>
    /// <param name="cancellationToken">Cancels the request and the enumeration.</param>
    /// <returns>The rows, in learning order.</returns>
    /// <exception cref="FlywheelValidationException">The loop or policy does not exist, or the range is invalid; the field is named. Thrown by the first <c>MoveNextAsync</c>.</exception>
    /// <exception cref="FlywheelApiException">The stream broke off or held a row that is not a logged decision.</exception>
    /// <remarks>
    /// Retries transient failures until the answer starts; a stream that breaks off later is not resumed (rows
    /// already returned would come again), it throws.
    /// </remarks>
    public async IAsyncEnumerable<LoggedDecision> ExportAsync(string loop, ExportRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(loop);
        ArgumentNullException.ThrowIfNull(request);
        using var response = await SendCoreAsync(ExportCall(loop, FlywheelExportFormat.Jsonl, request), cancellationToken).ConfigureAwait(false);
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            await foreach (var row in ExportLines.ReadAsync(stream, cancellationToken).ConfigureAwait(false))
            {
                yield return row;
            }
        }
    }

    /// <summary>
    /// Copies a loop's export as the server writes it (<c>GET /v1/loops/{loop}/export</c>) into
    /// <paramref name="destination"/>, without holding it in memory: JSON lines or Vowpal Wabbit text.
    /// </summary>
    /// <param name="loop">The loop's id.</param>
    /// <param name="format">JSON lines or Vowpal Wabbit text.</param>
    /// <param name="request">The range and, optionally, the policy whose probabilities and reward estimates the rows carry.</param>
    /// <param name="destination">Where the bytes go; left open.</param>
    /// <param name="cancellationToken">Cancels the request and the copy.</param>
    /// <returns>The bytes copied.</returns>
    /// <exception cref="FlywheelValidationException">The loop or policy does not exist, or the range is invalid; the field is named. Nothing was written.</exception>
    /// <exception cref="FlywheelApiException">The stream broke off; what arrived before was written.</exception>
    public async Task<long> ExportToAsync(string loop, FlywheelExportFormat format, ExportRequest request, Stream destination, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(loop);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(destination);
        return await CopyExportAsync(ExportCall(loop, format, request), destination, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Streams a generation loop's fine-tuning data (<c>GET /v1/loops/{loop}/export?format=sft|dpo|kto</c>), one JSON
    /// line at a time as it arrives, in the shape of the request's style (docs/training-exports.md): the lines to write
    /// into a <c>.jsonl</c> file for OpenAI's fine-tuning or Hugging Face TRL.
    /// </summary>
    /// <param name="loop">The loop's id.</param>
    /// <param name="request">The dataset, its style, the range and the filters by reward and variant.</param>
    /// <param name="cancellationToken">Cancels the request and the enumeration.</param>
    /// <returns>The lines (each one JSON object, without its line end), in decision order.</returns>
    /// <exception cref="FlywheelValidationException">
    /// The loop does not exist or has no <c>generation</c> section, kto was asked for in the openai style, or the range or
    /// a filter is invalid; the field is named. Thrown by the first <c>MoveNextAsync</c>.
    /// </exception>
    /// <exception cref="FlywheelApiException">The stream broke off or held a line that is not a JSON object.</exception>
    public async IAsyncEnumerable<string> ExportTrainingAsync(string loop, TrainingExportRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(loop);
        ArgumentNullException.ThrowIfNull(request);
        using var response = await SendCoreAsync(TrainingExportCall(loop, request), cancellationToken).ConfigureAwait(false);
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            await foreach (var line in ExportLines.ReadTrainingAsync(stream, cancellationToken).ConfigureAwait(false))
            {
                yield return line;
            }
        }
    }

    /// <summary>
    /// Copies a generation loop's fine-tuning data as the server writes it (<c>GET /v1/loops/{loop}/export?format=sft|dpo|kto</c>)
    /// into <paramref name="destination"/>, without holding it in memory.
    /// </summary>
    /// <param name="loop">The loop's id.</param>
    /// <param name="request">The dataset, its style, the range and the filters by reward and variant.</param>
    /// <param name="destination">Where the bytes go; left open.</param>
    /// <param name="cancellationToken">Cancels the request and the copy.</param>
    /// <returns>The bytes copied.</returns>
    /// <exception cref="FlywheelValidationException">The loop is not a generation loop, or the request is invalid; the field is named. Nothing was written.</exception>
    /// <exception cref="FlywheelApiException">The stream broke off; what arrived before was written.</exception>
    public async Task<long> ExportTrainingToAsync(string loop, TrainingExportRequest request, Stream destination, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(loop);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(destination);
        return await CopyExportAsync(TrainingExportCall(loop, request), destination, cancellationToken).ConfigureAwait(false);
    }

    private async Task<long> CopyExportAsync(Call call, Stream destination, CancellationToken cancellationToken)
    {
        using var response = await SendCoreAsync(call, cancellationToken).ConfigureAwait(false);
        var source = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (source.ConfigureAwait(false))
        {
            var buffer = ArrayPool<byte>.Shared.Rent(81920);
            try
            {
                long copied = 0;
                while (true)
                {
                    int read;
                    try
                    {
                        read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is IOException or HttpRequestException)
                    {
                        throw new FlywheelApiException(200, null, $"The Flywheel server's export broke off after {copied} bytes: {ex.Message}", ex);
                    }
                    if (read == 0)
                    {
                        return copied;
                    }
                    await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    copied += read;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private static Call TrainingExportCall(string loop, TrainingExportRequest request)
    {
        var query = new StringBuilder("?format=").Append(LoopConfigJson.Name(request.Format));
        if (request.Style is { } style)
        {
            query.Append("&style=").Append(LoopConfigJson.Name(style));
        }
        AppendTime(query, "from", request.From);
        AppendTime(query, "to", request.To);
        if (request.MinReward is { } min)
        {
            query.Append("&minReward=").Append(min.ToString("R", CultureInfo.InvariantCulture));
        }
        if (request.MaxReward is { } max)
        {
            query.Append("&maxReward=").Append(max.ToString("R", CultureInfo.InvariantCulture));
        }
        foreach (var variant in request.Variants ?? [])
        {
            query.Append("&variant=").Append(Uri.EscapeDataString(variant));
        }
        return new Call(HttpMethod.Get, LoopPath(loop) + "/export" + query)
        {
            Streamed = true,
            LongRunning = true,
            Accept = AcceptJsonLines,
        };
    }

    private static Call ExportCall(string loop, FlywheelExportFormat format, ExportRequest request)
    {
        var query = new StringBuilder("?format=").Append(format switch
        {
            FlywheelExportFormat.Jsonl => "jsonl",
            FlywheelExportFormat.Vw => "vw",
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, "must be Jsonl or Vw"),
        });
        AppendTime(query, "from", request.From);
        AppendTime(query, "to", request.To);
        if (request.Policy is { Length: > 0 } policy)
        {
            query.Append("&policy=").Append(Uri.EscapeDataString(policy));
        }
        if (request.MismatchesOnly)
        {
            query.Append("&mismatches=true");
        }
        return new Call(HttpMethod.Get, LoopPath(loop) + "/export" + query)
        {
            Streamed = true,
            LongRunning = true,
            Accept = format == FlywheelExportFormat.Vw ? AcceptText : AcceptJsonLines,
        };
    }

    private static void AppendTime(StringBuilder query, string name, DateTimeOffset? time)
    {
        if (time is { } t)
        {
            query.Append('&').Append(name).Append('=').Append(Uri.EscapeDataString(t.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)));
        }
    }
}

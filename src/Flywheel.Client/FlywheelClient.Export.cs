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
    /// <summary>One logged decision a line (ALGORITHMS §0), the format <c>flywheel evaluate</c> reads (<c>application/x-ndjson</c>).</summary>
    Jsonl,

    /// <summary>Vowpal Wabbit <c>--cb_adf</c> text: a <c>shared</c> line, one line per action, a blank line (<c>text/plain</c>).</summary>
    Vw,
}

// Export: joined training data, streamed.
public sealed partial class FlywheelClient
{
    /// <summary>Longest export line the client reads, in bytes; a longer one means the answer is not an export.</summary>
    internal const int MaxExportLineBytes = 64 * 1024 * 1024;

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
            var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));
            long line = 0;
            try
            {
                while (true)
                {
                    ReadResult result;
                    try
                    {
                        result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is IOException or HttpRequestException)
                    {
                        throw Broken(line, ex);
                    }
                    var buffer = result.Buffer;
                    while (TryTakeLine(ref buffer, out var text))
                    {
                        line++;
                        if (!IsBlank(text))
                        {
                            yield return ParseRow(text, line);
                        }
                    }
                    if (result.IsCompleted)
                    {
                        if (!IsBlank(buffer))
                        {
                            yield return ParseRow(buffer, line + 1);
                        }
                        break;
                    }
                    if (buffer.Length > MaxExportLineBytes)
                    {
                        throw new FlywheelApiException(200, null, $"The Flywheel server's export line {line + 1} is longer than {MaxExportLineBytes} bytes.");
                    }
                    reader.AdvanceTo(buffer.Start, buffer.End);
                }
            }
            finally
            {
                await reader.CompleteAsync().ConfigureAwait(false);
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
        using var response = await SendCoreAsync(ExportCall(loop, format, request), cancellationToken).ConfigureAwait(false);
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

    /// <summary>Takes the next line (without its <c>\n</c>, and without a <c>\r</c> before it) off the front of <paramref name="buffer"/>.</summary>
    private static bool TryTakeLine(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> line)
    {
        if (buffer.PositionOf((byte)'\n') is not { } end)
        {
            line = default;
            return false;
        }
        line = buffer.Slice(0, end);
        buffer = buffer.Slice(buffer.GetPosition(1, end));
        if (!line.IsEmpty && line.Slice(line.Length - 1).FirstSpan[0] == (byte)'\r')
        {
            line = line.Slice(0, line.Length - 1);
        }
        return true;
    }

    private static bool IsBlank(ReadOnlySequence<byte> line)
    {
        foreach (var segment in line)
        {
            foreach (var b in segment.Span)
            {
                if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r'))
                {
                    return false;
                }
            }
        }
        return true;
    }

    private static LoggedDecision ParseRow(ReadOnlySequence<byte> text, long line)
    {
        try
        {
            return LoggedDecisionJson.Read(text.IsSingleSegment ? text.FirstSpan : text.ToArray());
        }
        catch (Exception ex) when (ex is JsonException or FlywheelValidationException)
        {
            throw new FlywheelApiException(200, null, $"The Flywheel server's export line {line} is not a logged decision: {ex.Message}", ex);
        }
    }

    private static FlywheelApiException Broken(long rows, Exception ex)
        => new(200, null, $"The Flywheel server's export broke off after {rows} lines: {ex.Message}", ex);
}

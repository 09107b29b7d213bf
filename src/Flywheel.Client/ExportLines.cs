using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Flywheel.Core;

namespace Flywheel.Client;

/// <summary>Reads an export's JSON lines as they arrive (logged decisions, or training examples), blank lines skipped.</summary>
internal static class ExportLines
{
    /// <summary>The longest line read; a longer one is a broken stream, not a row to buffer without end.</summary>
    internal const int MaxExportLineBytes = 64 * 1024 * 1024;

    /// <summary>Yields the rows of <paramref name="stream"/> (left open) as their lines complete.</summary>
    public static IAsyncEnumerable<LoggedDecision> ReadAsync(Stream stream, CancellationToken cancellationToken)
        => ReadAsync(stream, ParseRow, cancellationToken);

    /// <summary>Yields the lines of a training export (<paramref name="stream"/>, left open), each checked to be one JSON object.</summary>
    public static IAsyncEnumerable<string> ReadTrainingAsync(Stream stream, CancellationToken cancellationToken)
        => ReadAsync(stream, ParseTrainingLine, cancellationToken);

    private static async IAsyncEnumerable<T> ReadAsync<T>(Stream stream, Func<ReadOnlySequence<byte>, long, T> parse, [EnumeratorCancellation] CancellationToken cancellationToken)
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
                        yield return parse(text, line);
                    }
                }
                if (result.IsCompleted)
                {
                    if (!IsBlank(buffer))
                    {
                        yield return parse(buffer, line + 1);
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

    private static string ParseTrainingLine(ReadOnlySequence<byte> text, long line)
    {
        var reader = new Utf8JsonReader(text);
        try
        {
            if (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
            {
                reader.Skip();
                if (!reader.Read())
                {
                    return System.Text.EncodingExtensions.GetString(System.Text.Encoding.UTF8, text);
                }
            }
        }
        catch (JsonException ex)
        {
            throw new FlywheelApiException(200, null, $"The Flywheel server's export line {line} is not a JSON object: {ex.Message}", ex);
        }
        throw new FlywheelApiException(200, null, $"The Flywheel server's export line {line} is not one JSON object.");
    }

    private static FlywheelApiException Broken(long rows, Exception ex)
        => new(200, null, $"The Flywheel server's export broke off after {rows} lines: {ex.Message}", ex);
}

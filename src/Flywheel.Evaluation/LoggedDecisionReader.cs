using System.IO.Compression;
using System.Text.Json;
using Flywheel.Core;
using Flywheel.Learning.Replay;

namespace Flywheel.Evaluation;

/// <summary>
/// Streams logged decisions (docs/estimators.md, <see cref="LoggedDecisionJson"/>) from JSON Lines, plain or
/// gzip-compressed (detected by the magic bytes 1F 8B, whatever the file is called), one line at a time: the file is
/// never held in memory as a whole. Blank lines are skipped. A bad row throws a <see cref="LoggedDataException"/>
/// naming its 1-based line and the field; a corrupt gzip stream throws <see cref="InvalidDataException"/>.
/// Not thread-safe, except <see cref="BytesRead"/>, which progress displays may read from another thread.
/// </summary>
public sealed class LoggedDecisionReader : IDisposable
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64 };

    private readonly SourceStream _source;
    private readonly Stream _text;
    private readonly Utf8LineReader _lines;
    private readonly FlywheelLimits _limits;

    /// <summary>Reads <paramref name="stream"/> from its current position; it is disposed with the reader unless <paramref name="leaveOpen"/>.</summary>
    /// <param name="stream">JSON Lines, plain or gzip.</param>
    /// <param name="leaveOpen">Leave <paramref name="stream"/> open when the reader is disposed.</param>
    /// <param name="limits">Limits on features and ids. <value>Default <see cref="FlywheelLimits.Unlimited"/>.</value></param>
    public LoggedDecisionReader(Stream stream, bool leaveOpen = false, FlywheelLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _limits = limits ?? FlywheelLimits.Unlimited;
        TotalBytes = stream.CanSeek ? stream.Length - stream.Position : -1;
        _source = new SourceStream(stream, leaveOpen);
        Span<byte> magic = stackalloc byte[2];
        IsCompressed = _source.Peek(magic) == 2 && magic[0] == 0x1F && magic[1] == 0x8B;
        _text = IsCompressed ? new GZipStream(_source, CompressionMode.Decompress) : _source;
        _lines = new Utf8LineReader(_text);
    }

    /// <summary>Opens a <c>.jsonl</c> or <c>.jsonl.gz</c> file.</summary>
    public static LoggedDecisionReader Open(string path, FlywheelLimits? limits = null)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.SequentialScan);
        try
        {
            return new LoggedDecisionReader(file, leaveOpen: false, limits);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>True when the input is gzip-compressed.</summary>
    public bool IsCompressed { get; }

    /// <summary>The input's size in bytes (compressed, for gzip), or −1 when the stream cannot tell.</summary>
    public long TotalBytes { get; }

    /// <summary>Bytes of the input read so far (compressed, for gzip).</summary>
    public long BytesRead => _source.BytesRead;

    /// <summary>The 1-based line number of the last line read (0 before the first).</summary>
    public long LineNumber => _lines.LineNumber;

    /// <summary>Decisions returned so far.</summary>
    public long Count { get; private set; }

    /// <summary>Reads the next decision; null at the end of the input.</summary>
    public LoggedDecision? Read()
    {
        while (_lines.TryReadLine(out var line))
        {
            if (line.Span.Trim(" \t\r"u8).IsEmpty)
            {
                continue;
            }
            var decision = Parse(line, _lines.LineNumber);
            Count++;
            return decision;
        }
        return null;
    }

    /// <summary>Reads every remaining decision, lazily.</summary>
    public IEnumerable<LoggedDecision> ReadAll()
    {
        while (Read() is { } decision)
        {
            yield return decision;
        }
    }

    private LoggedDecision Parse(ReadOnlyMemory<byte> line, long lineNumber)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line, DocumentOptions);
        }
        catch (JsonException ex)
        {
            throw new LoggedDataException(lineNumber, "", $"is not valid JSON: {Describe(ex)}");
        }
        using (document)
        {
            try
            {
                return LoggedDecisionJson.Read(document.RootElement, _limits);
            }
            catch (FlywheelValidationException ex)
            {
                throw new LoggedDataException(lineNumber, ex.Field, ex.Problem);
            }
            catch (InvalidOperationException ex)
            {
                // Text that is not valid UTF-16 (an unpaired surrogate escape) inside feature values.
                throw new LoggedDataException(lineNumber, "", $"holds text that is not valid UTF-16: {ex.Message}");
            }
        }
    }

    // System.Text.Json's message ends with " LineNumber: 0 | BytePositionInLine: 17."; the line is ours to report.
    private static string Describe(JsonException ex)
    {
        var message = ex.Message;
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut >= 0)
        {
            message = message[..cut].TrimEnd(' ', '|', '.');
            var path = message.IndexOf(" Path:", StringComparison.Ordinal);
            if (path >= 0)
            {
                message = message[..path].TrimEnd(' ', '|', '.');
            }
        }
        return ex.BytePositionInLine is { } position ? $"{message} (at byte {position + 1})" : message;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _text.Dispose();
        _source.Dispose();
    }
}

using System.Runtime.CompilerServices;
using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace Flywheel.Learning.Replay;

/// <summary>The text formats <see cref="MulticlassReader"/> reads.</summary>
public enum MulticlassFormat
{
    /// <summary>CSV: a header <c>label,&lt;feature names…&gt;</c>, then one row per example.</summary>
    Csv,

    /// <summary>Vowpal Wabbit multiclass text: <c>label | name:value name2 …</c>, namespaces allowed.</summary>
    VowpalWabbit,
}

/// <summary>
/// Streams supervised multiclass examples (labels 1..K) for <c>replay --cbify K</c>, one line at a time, from CSV or
/// Vowpal Wabbit text, plain or gzip-compressed. The format is detected by content: gzip by its magic bytes
/// <c>1F 8B</c>; VW when the first non-empty line holds a <c>|</c>, CSV with a header otherwise. Each example's
/// features go into one reused namespace named <see cref="ContextNamespace"/>, hashed by feature name (the CSV column
/// name or the VW feature name); VW namespaces are flattened into it, their scale (<c>|ns:2</c>) applied.
/// Blank lines are skipped. Malformed input throws <see cref="ReplayDataException"/> naming the line.
/// Reading allocates nothing per example in steady state. Not thread-safe.
/// </summary>
public sealed class MulticlassReader : IDisposable
{
    /// <summary>The name of the namespace that holds every example's features.</summary>
    public const string ContextNamespace = "x";

    // Caps the VW name cache so files with unbounded vocabularies do not grow memory without limit.
    private const int MaxCachedNames = 1 << 20;

    private readonly SourceStream _source;
    private readonly LineReader _lines;
    private readonly ulong[] _columnHashes = [];
    private readonly string[] _columnNames = [];
    private readonly Dictionary<string, ulong> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ulong>.AlternateLookup<ReadOnlySpan<char>> _nameLookup;

    /// <summary>Opens a file; the caller disposes the reader.</summary>
    /// <param name="path">The file: CSV or VW text, plain or gzip.</param>
    /// <param name="classes">K: labels must lie in 1..K.</param>
    public static MulticlassReader Open(string path, int classes)
    {
        ArgumentNullException.ThrowIfNull(path);
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16, FileOptions.SequentialScan);
        try
        {
            return new MulticlassReader(file, classes, leaveOpen: false, totalBytes: file.Length);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Reads from a stream, which need not be seekable.</summary>
    /// <param name="stream">CSV or VW text, plain or gzip.</param>
    /// <param name="classes">K: labels must lie in 1..K.</param>
    /// <param name="leaveOpen">When true, disposing the reader leaves <paramref name="stream"/> open.</param>
    public MulticlassReader(Stream stream, int classes, bool leaveOpen = false)
        : this(stream, classes, leaveOpen, stream is { CanSeek: true } ? stream.Length - stream.Position : -1)
    {
    }

    private MulticlassReader(Stream stream, int classes, bool leaveOpen, long totalBytes)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        Classes = classes;
        TotalBytes = totalBytes;
        _nameLookup = _names.GetAlternateLookup<ReadOnlySpan<char>>();
        _source = new SourceStream(stream, leaveOpen);
        Span<byte> magic = stackalloc byte[2];
        IsCompressed = _source.Peek(magic) == 2 && magic[0] == 0x1F && magic[1] == 0x8B;
        Stream text = IsCompressed ? new GZipStream(_source, CompressionMode.Decompress, leaveOpen: false) : _source;
        _lines = new LineReader(new StreamReader(text, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16));
        try
        {
            ReadOnlySpan<char> first;
            do
            {
                if (!_lines.TryReadLine(out first))
                {
                    throw new ReplayDataException(Math.Max(1, _lines.LineNumber), "the file is empty; expected a CSV header 'label,<feature names…>' or Vowpal Wabbit lines 'label | name:value …'");
                }
            }
            while (first.IsWhiteSpace());
            if (first.Contains('|'))
            {
                Format = MulticlassFormat.VowpalWabbit;
                _lines.PushBack();
            }
            else
            {
                Format = MulticlassFormat.Csv;
                (_columnNames, _columnHashes) = ParseHeader(first, _lines.LineNumber, Features.Hash);
            }
        }
        catch
        {
            _lines.Dispose();
            throw;
        }
    }

    /// <summary>K: labels lie in 1..K.</summary>
    public int Classes { get; }

    /// <summary>The detected text format.</summary>
    public MulticlassFormat Format { get; }

    /// <summary>True when the input was gzip-compressed.</summary>
    public bool IsCompressed { get; }

    /// <summary>The CSV feature column names in order (empty for VW).</summary>
    public IReadOnlyList<string> FeatureNames => _columnNames;

    /// <summary>The current example's features (namespace <see cref="ContextNamespace"/>); the same instance throughout.</summary>
    public HashedNamespace Features { get; } = new(ContextNamespace, 64);

    /// <summary>The current example's label, 1..K.</summary>
    public int Label { get; private set; }

    /// <summary>Examples read so far.</summary>
    public long Examples { get; private set; }

    /// <summary>The 1-based file line of the current example.</summary>
    public long LineNumber => _lines.LineNumber;

    /// <summary>Bytes read from the underlying file or stream (compressed bytes for gzip); safe to read from another thread.</summary>
    public long BytesRead => _source.BytesRead;

    /// <summary>The size of the input in bytes (compressed for gzip), or −1 when unknown.</summary>
    public long TotalBytes { get; }

    /// <summary>Moves to the next example; false at the end of the input.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Read()
    {
        ReadOnlySpan<char> line;
        do
        {
            if (!_lines.TryReadLine(out line))
            {
                return false;
            }
        }
        while (line.IsWhiteSpace());
        Features.Clear();
        if (Format == MulticlassFormat.Csv)
        {
            ParseCsv(line);
        }
        else
        {
            ParseVw(line);
        }
        Examples++;
        return true;
    }

    /// <summary>Closes the input.</summary>
    public void Dispose() => _lines.Dispose();

    private static (string[] Names, ulong[] Hashes) ParseHeader(ReadOnlySpan<char> line, long lineNumber, ulong seed)
    {
        var names = new List<string>();
        foreach (var range in line.Split(','))
        {
            names.Add(line[range].Trim().ToString());
        }
        if (!names[0].Equals("label", StringComparison.OrdinalIgnoreCase))
        {
            throw new ReplayDataException(lineNumber, $"expected a CSV header 'label,<feature names…>'; the first column is '{Shorten(names[0])}'");
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var j = 1; j < names.Count; j++)
        {
            if (names[j].Length == 0)
            {
                throw new ReplayDataException(lineNumber, $"column {j + 1} of the header has no name");
            }
            if (!seen.Add(names[j]))
            {
                throw new ReplayDataException(lineNumber, $"the header names column '{Shorten(names[j])}' twice");
            }
        }
        var featureNames = names.Skip(1).ToArray();
        return (featureNames, featureNames.Select(n => FeatureHashing.Hash(n, seed)).ToArray());
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ParseCsv(ReadOnlySpan<char> line)
    {
        var rest = line;
        var comma = rest.IndexOf(',');
        var field = comma < 0 ? rest : rest[..comma];
        Label = ParseLabel(field);
        for (var j = 0; j < _columnHashes.Length; j++)
        {
            if (comma < 0)
            {
                throw WrongFieldCount(line);
            }
            rest = rest[(comma + 1)..];
            comma = rest.IndexOf(',');
            field = comma < 0 ? rest : rest[..comma];
            Features.Add(_columnHashes[j], ParseValue(field, _columnNames[j]));
        }
        if (comma >= 0)
        {
            throw WrongFieldCount(line);
        }
    }

    private ReplayDataException WrongFieldCount(ReadOnlySpan<char> line)
        => new(LineNumber, $"expected {_columnHashes.Length + 1} comma-separated fields as in the header, found {line.Count(',') + 1}");

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ParseVw(ReadOnlySpan<char> line)
    {
        var bar = line.IndexOf('|');
        if (bar < 0)
        {
            throw new ReplayDataException(LineNumber, "expected a Vowpal Wabbit line 'label | name:value …' (no '|' found)");
        }
        var head = line[..bar];
        var labelSeen = false;
        for (var token = NextToken(ref head); !token.IsEmpty; token = NextToken(ref head))
        {
            if (token[0] == '\'')
            {
                continue; // a tag
            }
            if (labelSeen)
            {
                throw new ReplayDataException(LineNumber, $"unexpected '{Shorten(token)}' after the label (importance weights are not supported)");
            }
            Label = ParseLabel(token);
            labelSeen = true;
        }
        if (!labelSeen)
        {
            throw new ReplayDataException(LineNumber, "the line has no label before '|'");
        }
        var rest = line[(bar + 1)..];
        while (true)
        {
            var next = rest.IndexOf('|');
            var segment = next < 0 ? rest : rest[..next];
            ParseVwNamespace(segment);
            if (next < 0)
            {
                break;
            }
            rest = rest[(next + 1)..];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ParseVwNamespace(ReadOnlySpan<char> segment)
    {
        var scale = 1.0;
        if (!segment.IsEmpty && segment[0] is not (' ' or '\t'))
        {
            // A token touching the '|' names the namespace, optionally with a scale: "|ns" or "|ns:2".
            var ns = NextToken(ref segment);
            var colon = ns.IndexOf(':');
            if (colon >= 0)
            {
                scale = ParseNumber(ns[(colon + 1)..], "namespace scale");
            }
        }
        for (var token = NextToken(ref segment); !token.IsEmpty; token = NextToken(ref segment))
        {
            var separator = token.IndexOf(':');
            var name = separator < 0 ? token : token[..separator];
            if (name.IsEmpty)
            {
                throw new ReplayDataException(LineNumber, $"feature '{Shorten(token)}' has no name");
            }
            var value = separator < 0 ? 1.0 : ParseNumber(token[(separator + 1)..], name);
            Features.Add(HashName(name), ToFloat(value * scale, token));
        }
    }

    // The next space- or tab-separated token of rest (empty at the end); rest moves past it.
    private static ReadOnlySpan<char> NextToken(ref ReadOnlySpan<char> rest)
    {
        var start = 0;
        while (start < rest.Length && rest[start] is ' ' or '\t')
        {
            start++;
        }
        rest = rest[start..];
        var end = rest.IndexOfAny(' ', '\t');
        if (end < 0)
        {
            var all = rest;
            rest = default;
            return all;
        }
        var token = rest[..end];
        rest = rest[end..];
        return token;
    }

    private ulong HashName(ReadOnlySpan<char> name)
    {
        if (_nameLookup.TryGetValue(name, out var hash))
        {
            return hash;
        }
        var text = name.ToString();
        hash = FeatureHashing.Hash(text, Features.Hash);
        if (_names.Count < MaxCachedNames)
        {
            _names.Add(text, hash);
        }
        return hash;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int ParseLabel(ReadOnlySpan<char> field)
    {
        var trimmed = field.Trim();
        if (!int.TryParse(trimmed, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var label))
        {
            throw new ReplayDataException(LineNumber, trimmed.IsEmpty ? "the label is missing" : $"label '{Shorten(trimmed)}' is not an integer in 1..{Classes}");
        }
        if (label < 1 || label > Classes)
        {
            throw new ReplayDataException(LineNumber, $"label '{Shorten(trimmed)}' is outside 1..{Classes}");
        }
        return label;
    }

    private float ParseValue(ReadOnlySpan<char> field, string column)
        => ToFloat(ParseNumber(field, column), field);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private double ParseNumber(ReadOnlySpan<char> field, ReadOnlySpan<char> what)
    {
        if (DecimalText.TryParsePlain(field, out var value))
        {
            return value;
        }
        if (!double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out value))
        {
            throw new ReplayDataException(LineNumber, $"value '{Shorten(field.Trim())}' of '{Shorten(what)}' is not a number");
        }
        return value;
    }

    private float ToFloat(double value, ReadOnlySpan<char> source)
    {
        var f = (float)value;
        if (!float.IsFinite(f))
        {
            throw new ReplayDataException(LineNumber, $"value '{Shorten(source.Trim())}' is not a finite single-precision number");
        }
        return f;
    }

    private static string Shorten(ReadOnlySpan<char> text)
        => text.Length <= 40 ? text.ToString() : string.Concat(text[..37], "...");
}

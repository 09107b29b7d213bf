using System.Globalization;
using System.IO.Compression;
using System.Text;
using Flywheel.Core;
using Flywheel.Learning.Replay;

namespace Flywheel.Evaluation.Answers;

/// <summary>One answer: a learner's attempt at an item, right or wrong.</summary>
/// <param name="UserId">The learner.</param>
/// <param name="ItemId">The item (exercise, question).</param>
/// <param name="Correct">Whether the answer was right.</param>
/// <param name="At">When it was given, when the data says.</param>
public readonly record struct Answer(string UserId, string ItemId, bool Correct, DateTimeOffset? At = null);

/// <summary>The layout of an answer file (docs/ability-data.md).</summary>
public enum AnswerFileFormat
{
    /// <summary>One answer a line: columns <c>user</c>, <c>item</c>, <c>correct</c>, optionally <c>at</c>, any others describe the item.</summary>
    Long,

    /// <summary>One learner a line, one column an item, cells 0, 1 or missing; optionally a first column with the learner's id.</summary>
    Wide,
}

/// <summary>
/// An answer file holds a bad line: <see cref="LineNumber"/> is its 1-based line in the file, <see cref="Column"/> the
/// 1-based column (0 when the line as a whole is bad). The message reads
/// <c>line 17, column 3: correct must be 0, 1, true or false; got 'yes'</c>, ready for one line of command-line output.
/// </summary>
public sealed class AnswerDataException : FormatException
{
    /// <summary>Creates the exception for one column of one line.</summary>
    /// <param name="lineNumber">The 1-based line of the file.</param>
    /// <param name="column">The 1-based column, or 0 for the whole line.</param>
    /// <param name="problem">What is wrong, without the place.</param>
    public AnswerDataException(long lineNumber, int column, string problem)
        : base(column > 0 ? $"line {lineNumber}, column {column}: {problem}" : $"line {lineNumber}: {problem}")
    {
        LineNumber = lineNumber;
        Column = column;
        Problem = problem;
    }

    /// <summary>The 1-based line of the file.</summary>
    public long LineNumber { get; }

    /// <summary>The 1-based column, or 0 when the line as a whole is bad.</summary>
    public int Column { get; }

    /// <summary>What is wrong, without the place.</summary>
    public string Problem { get; }
}

/// <summary>
/// Streams answers from a CSV file, plain or gzip-compressed (detected by the magic bytes 1F 8B, whatever the file is
/// called), in either layout of <see cref="AnswerFileFormat"/>, told apart by the header: a header that names
/// <c>user</c>, <c>item</c> and <c>correct</c> columns is the long layout, any other the wide one. Fields are separated
/// by commas (or by tabs or semicolons when the header holds no comma), may be quoted as in RFC 4180 (a quoted field
/// stays on one line), and blank lines are skipped. A bad line throws an <see cref="AnswerDataException"/> naming its
/// line and column; a corrupt gzip stream throws <see cref="InvalidDataException"/>. Only the current line is held,
/// plus one copy of each distinct learner and item id. Not thread-safe.
/// </summary>
public sealed class AnswerReader : IDisposable
{
    private static readonly string[] UserNames = ["user", "user_id", "userid"];
    private static readonly string[] ItemNames = ["item", "item_id", "itemid"];
    private static readonly string[] WideIdNames = ["", "id", "user", "user_id", "userid"];
    private static readonly string[] Missing = ["", "na", "nan", "null"];

    private readonly SourceStream _source;
    private readonly StreamReader _text;
    private readonly List<string> _fields = [];
    private readonly Dictionary<string, string> _users = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _itemIds = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Features> _itemFeatures = new(StringComparer.Ordinal);
    private readonly string[] _header;
    private readonly char _delimiter;

    // Long layout: the columns that hold each field (−1 when absent) and the item-describing rest.
    private readonly int _user = -1;
    private readonly int _item = -1;
    private readonly int _correct = -1;
    private readonly int _at = -1;
    private readonly int[] _featureColumns = [];

    // Wide layout: whether the first column is the learner's id, and the answers of the current row still to hand out.
    private readonly bool _idColumn;
    private readonly string[] _wideItems = [];
    private readonly Queue<Answer> _pending = new();
    private long _rows;

    /// <summary>Reads <paramref name="stream"/> from its current position, header first; it is disposed with the reader unless <paramref name="leaveOpen"/>.</summary>
    /// <param name="stream">CSV text, plain or gzip.</param>
    /// <param name="leaveOpen">Leave <paramref name="stream"/> open when the reader is disposed.</param>
    /// <exception cref="AnswerDataException">The header is missing or bad.</exception>
    public AnswerReader(Stream stream, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _source = new SourceStream(stream, leaveOpen);
        Span<byte> magic = stackalloc byte[2];
        IsCompressed = _source.Peek(magic) == 2 && magic[0] == 0x1F && magic[1] == 0x8B;
        Stream text = IsCompressed ? new GZipStream(_source, CompressionMode.Decompress) : _source;
        _text = new StreamReader(text, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 64 * 1024);

        if (!TryReadLine(out var headerLine))
        {
            throw new AnswerDataException(Math.Max(1, LineNumber), 0, "the file is empty: it needs a header line");
        }
        _delimiter = headerLine.Contains(',', StringComparison.Ordinal) ? ','
            : headerLine.Contains('\t', StringComparison.Ordinal) ? '\t'
            : headerLine.Contains(';', StringComparison.Ordinal) ? ';' : ',';
        Split(headerLine);
        _header = [.. _fields];
        var names = _header.Select(h => h.Trim().ToLowerInvariant()).ToArray();
        for (var i = 0; i < names.Length; i++)
        {
            var twin = Array.IndexOf(names, names[i], i + 1);
            if (twin >= 0 && names[i].Length > 0)
            {
                throw new AnswerDataException(LineNumber, twin + 1, $"the header names '{_header[i]}' twice");
            }
        }

        _user = IndexOfAny(names, UserNames);
        _item = IndexOfAny(names, ItemNames);
        _correct = Array.IndexOf(names, "correct");
        if (_user >= 0 && _item >= 0 && _correct >= 0)
        {
            Format = AnswerFileFormat.Long;
            _at = Array.IndexOf(names, "at");
            HasTimes = _at >= 0;
            _featureColumns = [.. Enumerable.Range(0, names.Length).Where(i => i != _user && i != _item && i != _correct && i != _at)];
            for (var i = 0; i < _featureColumns.Length; i++)
            {
                if (names[_featureColumns[i]].Length == 0)
                {
                    throw new AnswerDataException(LineNumber, _featureColumns[i] + 1, "the header leaves this column unnamed");
                }
            }
            FeatureColumns = [.. _featureColumns.Select(i => _header[i].Trim())];
            return;
        }

        Format = AnswerFileFormat.Wide;
        _idColumn = WideIdNames.Contains(names[0]);
        var first = _idColumn ? 1 : 0;
        if (names.Length <= first)
        {
            throw new AnswerDataException(LineNumber, 0,
                "the header names no items: a long file needs user, item and correct columns, a wide one a column per item");
        }
        for (var i = first; i < names.Length; i++)
        {
            if (names[i].Length == 0)
            {
                throw new AnswerDataException(LineNumber, i + 1, "the header leaves this item column unnamed");
            }
        }
        _wideItems = [.. _header.Skip(first).Select(h => Intern(_itemIds, h.Trim()))];
    }

    /// <summary>Opens a CSV file, plain or gzip.</summary>
    /// <exception cref="AnswerDataException">The header is missing or bad.</exception>
    public static AnswerReader Open(string path)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.SequentialScan);
        try
        {
            return new AnswerReader(file, leaveOpen: false);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>The layout, told by the header.</summary>
    public AnswerFileFormat Format { get; }

    /// <summary>True when the input is gzip-compressed.</summary>
    public bool IsCompressed { get; }

    /// <summary>True when every answer carries its time (a long file with an <c>at</c> column).</summary>
    public bool HasTimes { get; }

    /// <summary>The long layout's extra columns, which describe the item (empty for the wide layout).</summary>
    public IReadOnlyList<string> FeatureColumns { get; } = [];

    /// <summary>
    /// Each item's features, from the extra columns of its first line in a long file (a number stays a number, other text
    /// is a category; an empty cell is left out). Empty for the wide layout or a long file without extra columns.
    /// </summary>
    public IReadOnlyDictionary<string, Features> ItemFeatures => _itemFeatures;

    /// <summary>The 1-based line number of the last line read.</summary>
    public long LineNumber { get; private set; }

    /// <summary>Reads the next answer; false at the end of the input.</summary>
    /// <exception cref="AnswerDataException">A line is bad.</exception>
    public bool TryRead(out Answer answer)
    {
        if (_pending.TryDequeue(out answer))
        {
            return true;
        }
        while (TryReadLine(out var line))
        {
            Split(line);
            if (Format == AnswerFileFormat.Long)
            {
                answer = ParseLong();
                return true;
            }
            ParseWide();
            if (_pending.TryDequeue(out answer))
            {
                return true;
            }
        }
        answer = default;
        return false;
    }

    /// <summary>Reads every remaining answer, lazily.</summary>
    public IEnumerable<Answer> ReadAll()
    {
        while (TryRead(out var answer))
        {
            yield return answer;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _text.Dispose();
        _source.Dispose();
    }

    private Answer ParseLong()
    {
        CheckFieldCount();
        var user = Required(_user, "user");
        var item = Required(_item, "item");
        var correct = ParseCorrect(_correct, allowMissing: false)
            ?? throw new AnswerDataException(LineNumber, _correct + 1, "correct is missing");
        DateTimeOffset? at = null;
        if (_at >= 0)
        {
            var text = _fields[_at].Trim();
            if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
            {
                throw new AnswerDataException(LineNumber, _at + 1, $"at must be a time in ISO 8601 (2025-03-01T09:30:00Z); got '{Shorten(text)}'");
            }
            at = parsed;
        }
        var itemId = Intern(_itemIds, item);
        if (_featureColumns.Length > 0 && !_itemFeatures.ContainsKey(itemId))
        {
            _itemFeatures[itemId] = ParseFeatures();
        }
        return new Answer(Intern(_users, user), itemId, correct, at);
    }

    private void ParseWide()
    {
        CheckFieldCount();
        _rows++;
        string user;
        if (_idColumn)
        {
            user = Required(0, _header[0].Trim().Length == 0 ? "the id" : _header[0].Trim());
        }
        else
        {
            user = _rows.ToString(CultureInfo.InvariantCulture);
        }
        user = Intern(_users, user);
        var first = _idColumn ? 1 : 0;
        for (var i = 0; i < _wideItems.Length; i++)
        {
            if (ParseCorrect(first + i, allowMissing: true) is { } correct)
            {
                _pending.Enqueue(new Answer(user, _wideItems[i], correct));
            }
        }
    }

    private void CheckFieldCount()
    {
        if (_fields.Count != _header.Length)
        {
            throw new AnswerDataException(LineNumber, Math.Min(_fields.Count, _header.Length) + 1,
                $"the line has {_fields.Count} fields where the header has {_header.Length}");
        }
    }

    private string Required(int column, string name)
    {
        var value = _fields[column].Trim();
        if (value.Length == 0)
        {
            throw new AnswerDataException(LineNumber, column + 1, $"{name} is empty");
        }
        return value;
    }

    private bool? ParseCorrect(int column, bool allowMissing)
    {
        var text = _fields[column].AsSpan().Trim();
        if (text.SequenceEqual("1") || text.Equals("true", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        if (text.SequenceEqual("0") || text.Equals("false", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        // Exports that write numbers as 1.0 and 0.0.
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && number is 0 or 1)
        {
            return number == 1;
        }
        if (allowMissing)
        {
            foreach (var missing in Missing)
            {
                if (text.Equals(missing, StringComparison.OrdinalIgnoreCase))
                {
                    return null;
                }
            }
        }
        var name = _header[column].Trim();
        throw new AnswerDataException(LineNumber, column + 1, allowMissing
            ? $"the answer to '{name}' must be 0, 1, true, false, NA or empty; got '{Shorten(text.ToString())}' (read as a wide file: the header names no user, item and correct columns)"
            : $"correct must be 0, 1, true or false; got '{Shorten(text.ToString())}'");
    }

    private Features ParseFeatures()
    {
        var item = new FeatureNamespace();
        for (var i = 0; i < _featureColumns.Length; i++)
        {
            var text = _fields[_featureColumns[i]].Trim();
            if (text.Length == 0)
            {
                continue;
            }
            item[FeatureColumns[i]] = double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number)
                ? FeatureValue.FromNumber(number)
                : FeatureValue.FromString(text);
        }
        return new Features { ["item"] = item };
    }

    /// <summary>The next line that is not blank.</summary>
    private bool TryReadLine(out string line)
    {
        while (_text.ReadLine() is { } next)
        {
            LineNumber++;
            if (!string.IsNullOrWhiteSpace(next))
            {
                line = next;
                return true;
            }
        }
        line = "";
        return false;
    }

    /// <summary>Splits a line into <see cref="_fields"/>: RFC 4180 quoting, doubled quotes inside quotes, no line breaks in a field.</summary>
    private void Split(string line)
    {
        _fields.Clear();
        var builder = new StringBuilder();
        var i = 0;
        while (true)
        {
            var start = i;
            while (i < line.Length && line[i] != _delimiter && line[i] is ' ' or '\t')
            {
                i++;
            }
            if (i < line.Length && line[i] == '"')
            {
                builder.Clear();
                i++;
                while (true)
                {
                    if (i >= line.Length)
                    {
                        throw new AnswerDataException(LineNumber, _fields.Count + 1, "a quoted field has no closing quote");
                    }
                    if (line[i] == '"')
                    {
                        if (i + 1 < line.Length && line[i + 1] == '"')
                        {
                            builder.Append('"');
                            i += 2;
                            continue;
                        }
                        i++;
                        break;
                    }
                    builder.Append(line[i++]);
                }
                while (i < line.Length && line[i] != _delimiter)
                {
                    if (line[i] is not (' ' or '\t'))
                    {
                        throw new AnswerDataException(LineNumber, _fields.Count + 1, "text follows a quoted field's closing quote");
                    }
                    i++;
                }
                _fields.Add(builder.ToString());
            }
            else
            {
                i = start;
                var end = line.IndexOf(_delimiter, start);
                end = end < 0 ? line.Length : end;
                _fields.Add(line[start..end]);
                i = end;
            }
            if (i >= line.Length)
            {
                return;
            }
            i++; // the delimiter
        }
    }

    private static int IndexOfAny(string[] names, string[] wanted)
    {
        for (var i = 0; i < names.Length; i++)
        {
            if (wanted.Contains(names[i]))
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>One string per distinct id, however many lines repeat it.</summary>
    private static string Intern(Dictionary<string, string> ids, string id)
    {
        if (ids.TryGetValue(id, out var known))
        {
            return known;
        }
        ids[id] = id;
        return id;
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";
}

/// <summary>
/// The answers of one file, in file order, with what the reader learned about them (docs/ability-data.md). Load it with
/// <see cref="Load"/>; build one in memory with <see cref="FromAnswers"/>.
/// </summary>
public sealed class AnswerData
{
    private AnswerData(List<Answer> answers, AnswerFileFormat format, bool compressed, bool hasTimes, IReadOnlyDictionary<string, Features> itemFeatures)
    {
        Answers = answers;
        Format = format;
        IsCompressed = compressed;
        HasTimes = hasTimes;
        ItemFeatures = itemFeatures;
        UserCount = answers.Select(a => a.UserId).Distinct(StringComparer.Ordinal).Count();
        ItemCount = answers.Select(a => a.ItemId).Distinct(StringComparer.Ordinal).Count();
    }

    /// <summary>The answers, in file order.</summary>
    public IReadOnlyList<Answer> Answers { get; }

    /// <summary>The file's layout.</summary>
    public AnswerFileFormat Format { get; }

    /// <summary>True when the file was gzip-compressed.</summary>
    public bool IsCompressed { get; }

    /// <summary>True when every answer carries its time, so the answers can be replayed in the order they were given.</summary>
    public bool HasTimes { get; }

    /// <summary>Learners with at least one answer.</summary>
    public int UserCount { get; }

    /// <summary>Items with at least one answer.</summary>
    public int ItemCount { get; }

    /// <summary>Each item's features (see <see cref="AnswerReader.ItemFeatures"/>); empty when the file describes no items.</summary>
    public IReadOnlyDictionary<string, Features> ItemFeatures { get; }

    /// <summary>Reads a CSV answer file, plain or gzip.</summary>
    /// <exception cref="AnswerDataException">A line is bad.</exception>
    public static AnswerData Load(string path, CancellationToken cancellationToken = default)
    {
        using var reader = AnswerReader.Open(path);
        return Read(reader, cancellationToken);
    }

    /// <summary>Reads CSV answers from <paramref name="stream"/>, plain or gzip; the stream is disposed unless <paramref name="leaveOpen"/>.</summary>
    /// <exception cref="AnswerDataException">A line is bad.</exception>
    public static AnswerData Read(Stream stream, bool leaveOpen = false, CancellationToken cancellationToken = default)
    {
        using var reader = new AnswerReader(stream, leaveOpen);
        return Read(reader, cancellationToken);
    }

    /// <summary>Answers held in memory (simulations, tests); times count when every answer has one.</summary>
    public static AnswerData FromAnswers(IEnumerable<Answer> answers, IReadOnlyDictionary<string, Features>? itemFeatures = null)
    {
        ArgumentNullException.ThrowIfNull(answers);
        var list = answers.ToList();
        foreach (var a in list)
        {
            ArgumentException.ThrowIfNullOrEmpty(a.UserId, nameof(answers));
            ArgumentException.ThrowIfNullOrEmpty(a.ItemId, nameof(answers));
        }
        var hasTimes = list.Count > 0 && list.TrueForAll(a => a.At is not null);
        return new AnswerData(list, AnswerFileFormat.Long, compressed: false, hasTimes,
            itemFeatures ?? new Dictionary<string, Features>(StringComparer.Ordinal));
    }

    private static AnswerData Read(AnswerReader reader, CancellationToken cancellationToken)
    {
        var answers = new List<Answer>();
        while (reader.TryRead(out var answer))
        {
            if ((answers.Count & 0xFFFF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }
            answers.Add(answer);
        }
        return new AnswerData(answers, reader.Format, reader.IsCompressed, reader.HasTimes, reader.ItemFeatures);
    }
}

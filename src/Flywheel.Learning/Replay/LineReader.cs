using System.Runtime.CompilerServices;
namespace Flywheel.Learning.Replay;

/// <summary>
/// Reads lines from text into one growing buffer and hands them out as spans, so steady-state reading allocates
/// nothing. A returned line is valid until the next call. Accepts <c>\n</c> and <c>\r\n</c> line ends.
/// </summary>
internal sealed class LineReader : IDisposable
{
    /// <summary>The longest line accepted, in characters.</summary>
    public const int MaxLineLength = 64 * 1024 * 1024;

    private readonly TextReader _reader;
    private char[] _buffer = new char[64 * 1024];
    private int _start;      // first character not yet handed out
    private int _end;        // end of the valid characters
    private int _scanFrom;   // where to resume looking for '\n'
    private int _lastStart = -1;
    private bool _eof;

    public LineReader(TextReader reader) => _reader = reader;

    /// <summary>The 1-based number of the line last returned (0 before the first).</summary>
    public long LineNumber { get; private set; }

    /// <summary>Reads the next line, without its line end; false at the end of the text.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryReadLine(out ReadOnlySpan<char> line)
    {
        while (true)
        {
            var newline = _buffer.AsSpan(_scanFrom, _end - _scanFrom).IndexOf('\n');
            if (newline >= 0)
            {
                var stop = _scanFrom + newline;
                line = Trim(_buffer.AsSpan(_start, stop - _start));
                Advance(stop + 1);
                return true;
            }
            _scanFrom = _end;
            if (_eof)
            {
                if (_start < _end)
                {
                    line = Trim(_buffer.AsSpan(_start, _end - _start));
                    Advance(_end);
                    return true;
                }
                line = default;
                _lastStart = -1;
                return false;
            }
            Fill();
        }
    }

    /// <summary>Makes the line last returned the next one again.</summary>
    public void PushBack()
    {
        if (_lastStart < 0)
        {
            throw new InvalidOperationException("Nothing to push back.");
        }
        _start = _lastStart;
        _scanFrom = _lastStart;
        _lastStart = -1;
        LineNumber--;
    }

    public void Dispose() => _reader.Dispose();

    private void Advance(int next)
    {
        _lastStart = _start;
        _start = next;
        _scanFrom = next;
        LineNumber++;
    }

    private static ReadOnlySpan<char> Trim(ReadOnlySpan<char> line)
        => line.Length > 0 && line[^1] == '\r' ? line[..^1] : line;

    private void Fill()
    {
        // Move the unfinished line to the front, growing the buffer when it fills the whole of it.
        var pending = _end - _start;
        if (_start > 0)
        {
            _buffer.AsSpan(_start, pending).CopyTo(_buffer);
            _scanFrom -= _start;
            _start = 0;
            _end = pending;
        }
        _lastStart = -1;
        if (_end == _buffer.Length)
        {
            if (_buffer.Length >= MaxLineLength)
            {
                throw new ReplayDataException(LineNumber + 1, $"the line is longer than {MaxLineLength} characters");
            }
            Array.Resize(ref _buffer, Math.Min(_buffer.Length * 2, MaxLineLength));
        }
        var n = _reader.Read(_buffer.AsSpan(_end));
        if (n == 0)
        {
            _eof = true;
        }
        _end += n;
    }
}

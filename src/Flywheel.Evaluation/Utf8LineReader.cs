namespace Flywheel.Evaluation;

/// <summary>
/// Splits a UTF-8 stream into lines held in one growing buffer, so steady-state reading allocates nothing. A line
/// (without its <c>\n</c> or <c>\r\n</c>) is valid until the next call. A leading UTF-8 byte-order mark is skipped.
/// </summary>
internal sealed class Utf8LineReader
{
    /// <summary>The longest line accepted, in bytes.</summary>
    public const int MaxLineLength = 256 * 1024 * 1024;

    private readonly Stream _stream;
    private byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;
    private int _scanFrom;
    private bool _eof;
    private bool _checkedBom;

    public Utf8LineReader(Stream stream) => _stream = stream;

    /// <summary>The 1-based number of the line last returned (0 before the first).</summary>
    public long LineNumber { get; private set; }

    public bool TryReadLine(out ReadOnlyMemory<byte> line)
    {
        while (true)
        {
            var newline = _buffer.AsSpan(_scanFrom, _end - _scanFrom).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                var stop = _scanFrom + newline;
                line = Take(stop, stop + 1);
                return true;
            }
            _scanFrom = _end;
            if (_eof)
            {
                if (_start < _end)
                {
                    line = Take(_end, _end);
                    return true;
                }
                line = default;
                return false;
            }
            Fill();
        }
    }

    private ReadOnlyMemory<byte> Take(int stop, int next)
    {
        var length = stop - _start;
        if (length > 0 && _buffer[stop - 1] == (byte)'\r')
        {
            length--;
        }
        var line = new ReadOnlyMemory<byte>(_buffer, _start, length);
        _start = next;
        _scanFrom = next;
        LineNumber++;
        return line;
    }

    private void Fill()
    {
        var pending = _end - _start;
        if (_start > 0)
        {
            _buffer.AsSpan(_start, pending).CopyTo(_buffer);
            _scanFrom -= _start;
            _start = 0;
            _end = pending;
        }
        if (_end == _buffer.Length)
        {
            if (_buffer.Length >= MaxLineLength)
            {
                throw new LoggedDataException(LineNumber + 1, "", $"the line is longer than {MaxLineLength:N0} bytes");
            }
            Array.Resize(ref _buffer, Math.Min(_buffer.Length * 2, MaxLineLength));
        }
        var n = _stream.Read(_buffer.AsSpan(_end));
        if (n == 0)
        {
            _eof = true;
        }
        _end += n;
        if (!_checkedBom && (_end >= 3 || _eof))
        {
            _checkedBom = true;
            if (_end >= 3 && _buffer[0] == 0xEF && _buffer[1] == 0xBB && _buffer[2] == 0xBF)
            {
                _start = 3;
                _scanFrom = Math.Max(_scanFrom, 3);
            }
        }
    }
}

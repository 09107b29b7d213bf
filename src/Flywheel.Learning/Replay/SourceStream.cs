namespace Flywheel.Learning.Replay;

/// <summary>
/// A read-only wrapper that counts the bytes read from the underlying stream (for progress) and replays bytes that
/// were peeked for format detection, so detection works on streams that cannot seek.
/// </summary>
internal sealed class SourceStream : Stream
{
    private readonly Stream _inner;
    private readonly bool _leaveOpen;
    private readonly byte[] _prefix;
    private int _prefixLength;
    private int _prefixPosition;
    private long _bytesRead;

    public SourceStream(Stream inner, bool leaveOpen)
    {
        _inner = inner;
        _leaveOpen = leaveOpen;
        _prefix = new byte[2];
    }

    /// <summary>Bytes read from the underlying stream so far (peeked bytes included).</summary>
    public long BytesRead => Volatile.Read(ref _bytesRead);

    /// <summary>Reads up to two bytes ahead and keeps them to be read again; returns how many were read.</summary>
    public int Peek(Span<byte> destination)
    {
        var want = Math.Min(destination.Length, _prefix.Length);
        while (_prefixLength < want)
        {
            var n = _inner.Read(_prefix.AsSpan(_prefixLength, want - _prefixLength));
            if (n == 0)
            {
                break;
            }
            _prefixLength += n;
            Volatile.Write(ref _bytesRead, _bytesRead + n);
        }
        _prefix.AsSpan(0, _prefixLength).CopyTo(destination);
        return _prefixLength;
    }

    public override int Read(Span<byte> buffer)
    {
        if (_prefixPosition < _prefixLength)
        {
            var n = Math.Min(buffer.Length, _prefixLength - _prefixPosition);
            _prefix.AsSpan(_prefixPosition, n).CopyTo(buffer);
            _prefixPosition += n;
            return n;
        }
        var read = _inner.Read(buffer);
        Volatile.Write(ref _bytesRead, _bytesRead + read);
        return read;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_leaveOpen)
        {
            _inner.Dispose();
        }
        base.Dispose(disposing);
    }
}

namespace Flywheel.Evaluation;

/// <summary>
/// A read-only stream over another that can look at its first bytes without consuming them (to detect gzip by its
/// magic bytes on streams that cannot seek) and counts the bytes read from the inner stream (for progress).
/// </summary>
internal sealed class PeekableStream(Stream inner, bool leaveOpen) : Stream
{
    private readonly byte[] _peeked = new byte[4];
    private int _peekedLength;
    private int _peekedPosition;
    private long _bytesRead;

    /// <summary>Bytes read from the inner stream so far; safe to read from another thread.</summary>
    public long BytesRead => Interlocked.Read(ref _bytesRead);

    /// <summary>Fills <paramref name="destination"/> (at most 4 bytes) with the next bytes, which later reads return again.</summary>
    public int Peek(Span<byte> destination)
    {
        var want = Math.Min(destination.Length, _peeked.Length);
        while (_peekedLength < want)
        {
            var n = inner.Read(_peeked.AsSpan(_peekedLength, want - _peekedLength));
            if (n == 0)
            {
                break;
            }
            _peekedLength += n;
            Interlocked.Add(ref _bytesRead, n);
        }
        var count = Math.Min(want, _peekedLength - _peekedPosition);
        _peeked.AsSpan(_peekedPosition, count).CopyTo(destination);
        return count;
    }

    public override int Read(Span<byte> buffer)
    {
        if (_peekedPosition < _peekedLength)
        {
            var n = Math.Min(buffer.Length, _peekedLength - _peekedPosition);
            _peeked.AsSpan(_peekedPosition, n).CopyTo(buffer);
            _peekedPosition += n;
            return n;
        }
        var read = inner.Read(buffer);
        Interlocked.Add(ref _bytesRead, read);
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
        if (disposing && !leaveOpen)
        {
            inner.Dispose();
        }
        base.Dispose(disposing);
    }
}

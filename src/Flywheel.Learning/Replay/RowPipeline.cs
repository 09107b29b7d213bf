using System.Runtime.CompilerServices;
using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

namespace Flywheel.Learning.Replay;

/// <summary>
/// Reads and parses rows on a second thread while the caller learns, as Vowpal Wabbit does: parsing (and gunzip) no
/// longer adds to the learner's time. Rows arrive in file order in recycled batches, so there is no allocation per row
/// in steady state and results are identical to reading inline. A parse error surfaces after the rows before it.
/// </summary>
internal sealed class RowPipeline : IDisposable
{
    private const int RowsPerBatch = 512;
    private const int BatchesInFlight = 8;

    internal sealed class Batch
    {
        public int[] Labels = new int[RowsPerBatch];
        public int[] Offsets = new int[RowsPerBatch + 1];
        public ulong[] Hashes = new ulong[RowsPerBatch * 32];
        public float[] Values = new float[RowsPerBatch * 32];
        public int Count;
        public long BytesRead;
        public ExceptionDispatchInfo? Error;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Add(int label, HashedNamespace features)
        {
            var start = Offsets[Count];
            var n = features.Count;
            if (start + n > Hashes.Length)
            {
                Array.Resize(ref Hashes, Math.Max(Hashes.Length * 2, start + n));
                Array.Resize(ref Values, Hashes.Length);
            }
            features.Hashes.CopyTo(Hashes.AsSpan(start));
            features.Values.CopyTo(Values.AsSpan(start));
            Labels[Count] = label;
            Count++;
            Offsets[Count] = start + n;
        }
    }

    private readonly BlockingCollection<Batch> _full = new(BatchesInFlight);
    private readonly ConcurrentBag<Batch> _free = [];
    private readonly CancellationTokenSource _stop;
    private readonly Task _producer;

    public RowPipeline(MulticlassReader reader, CancellationToken cancellationToken)
    {
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var token = _stop.Token;
        _producer = Task.Factory.StartNew(() => Produce(reader, token), token, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Produce(MulticlassReader reader, CancellationToken token)
    {
        var batch = Rent();
        try
        {
            while (reader.Read())
            {
                batch.Add(reader.Label, reader.Features);
                if (batch.Count == RowsPerBatch)
                {
                    batch.BytesRead = reader.BytesRead;
                    _full.Add(batch, token);
                    batch = Rent();
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            return;
        }
        catch (Exception ex)
        {
            batch.Error = ExceptionDispatchInfo.Capture(ex);
        }
        batch.BytesRead = reader.BytesRead;
        try
        {
            _full.Add(batch, token);
            _full.CompleteAdding();
        }
        catch (OperationCanceledException)
        {
        }
    }

    private Batch Rent()
    {
        if (!_free.TryTake(out var batch))
        {
            batch = new Batch();
        }
        batch.Count = 0;
        batch.Offsets[0] = 0;
        batch.Error = null;
        return batch;
    }

    /// <summary>The next batch in file order, or null at the end. Rethrows a parse error once its batch is reached.</summary>
    public Batch? Next(CancellationToken cancellationToken)
    {
        foreach (var batch in _full.GetConsumingEnumerable(cancellationToken))
        {
            return batch;
        }
        return null;
    }

    /// <summary>Hands a consumed batch back for reuse.</summary>
    public void Return(Batch batch) => _free.Add(batch);

    public void Dispose()
    {
        _stop.Cancel();
        try
        {
            _producer.Wait();
        }
        catch (AggregateException)
        {
        }
        _full.Dispose();
        _stop.Dispose();
    }
}

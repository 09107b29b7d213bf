using System.Globalization;
using System.Threading.Channels;
using Flywheel.Core;
using Microsoft.Extensions.Logging;

namespace Flywheel.Client;

/// <summary>
/// Queues signals (and the outputs of generation loops) for one loop and sends them in the background, in batches: when
/// <see cref="FlywheelClientOptions.BatchSize"/> signals are queued, when the oldest has waited
/// <see cref="FlywheelClientOptions.FlushInterval"/>, on <see cref="FlushAsync"/> and on dispose. Create it with
/// <see cref="FlywheelClient.CreateBatcher"/> or register it with <c>AddFlywheelClient(…).AddSignalBatcher(loop)</c>.
/// </summary>
/// <remarks>
/// <para>Thread-safe. Each signal gets its signal id when it is queued, so a batch resent after a failure is stored
/// once. The queue is bounded by <see cref="FlywheelClientOptions.MaxQueuedSignals"/>: when it is full,
/// <see cref="TryEnqueue"/> returns false and <see cref="EnqueueAsync"/> waits.</para>
/// <para>A send that fails after the client's retries (server down, overloaded, loop not found yet) is reported through
/// <see cref="SendFailed"/> and its signals stay queued; the batcher tries again after a growing pause. Only signals
/// the server refuses as invalid are dropped, one by one when the server names the signal, each reported through
/// <see cref="SendFailed"/> with <see cref="SignalSendFailedEventArgs.Dropped"/> set and counted in <see cref="Failed"/>.</para>
/// <para>Outputs (<see cref="TryEnqueueOutput"/>) share the queue and its order: an output is sent, alone, after the
/// signals queued before it and before those queued after it, so an <c>edited</c> signal that follows its output is
/// measured against it. A failed output send is retried like a batch of signals, and holds back what follows it; an
/// output the server refuses (invalid, too large, another output already stored, unknown decision) is dropped and
/// reported through <see cref="SendFailed"/> with <see cref="SignalSendFailedEventArgs.Outputs"/> naming it.</para>
/// <para><see cref="DisposeAsync"/> sends everything still queued, making one attempt (with the client's retries);
/// what it cannot deliver is reported as dropped.</para>
/// </remarks>
public sealed partial class FlywheelSignalBatcher : IAsyncDisposable, IDisposable
{
    private readonly FlywheelClient _client;
    private readonly Channel<Queued> _channel;
    private readonly int _batchSize;
    private readonly TimeSpan _flushInterval;
    private readonly TimeSpan _maxBackoff;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly Task _worker;
    private List<TaskCompletionSource>? _flushWaiters;
    private TaskCompletionSource _wake = NewSignal();
    private volatile bool _disposing;
    private long _pending;
    private long _sent;
    private long _failed;
    private long _failedSends;
    private long _outputsSent;

    // Exactly one of Signal and Output is set.
    private readonly record struct Queued(SignalInput? Signal, QueuedOutput? Output, long EnqueuedAt);

    internal FlywheelSignalBatcher(FlywheelClient client, string loop)
    {
        var options = client.Options;
        _client = client;
        Loop = loop;
        _batchSize = options.BatchSize;
        _flushInterval = options.FlushInterval;
        _maxBackoff = options.MaxBackoff > options.FlushInterval ? options.MaxBackoff : options.FlushInterval;
        _time = options.TimeProvider;
        _logger = client.Logger;
        _channel = Channel.CreateBounded<Queued>(new BoundedChannelOptions(options.MaxQueuedSignals)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _worker = Task.Run(RunAsync);
    }

    /// <summary>
    /// Raised on the batcher's background task when a send fails: after the client's retries for transient failures
    /// (the signals stay queued), or when the server refuses signals as invalid (they are dropped). Handlers should be
    /// quick; exceptions they throw are logged and ignored.
    /// </summary>
    public event EventHandler<SignalSendFailedEventArgs>? SendFailed;

    /// <summary>The loop the signals are sent to.</summary>
    public string Loop { get; }

    /// <summary>Signals the server has acknowledged (new ones and duplicates alike).</summary>
    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>Signals and outputs queued or in flight, not yet acknowledged or dropped.</summary>
    public long Pending => Interlocked.Read(ref _pending);

    /// <summary>Outputs the server has acknowledged (new ones and duplicates alike).</summary>
    public long OutputsSent => Interlocked.Read(ref _outputsSent);

    /// <summary>Signals and outputs dropped: refused by the server, or undeliverable when the batcher was disposed.</summary>
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Sends that failed, whether their signals were kept for another attempt or dropped.</summary>
    public long FailedSends => Interlocked.Read(ref _failedSends);

    /// <summary>Queues a signal without waiting. A signal without an id gets one now.</summary>
    /// <param name="signal">The signal.</param>
    /// <returns>False when the queue is full (<see cref="FlywheelClientOptions.MaxQueuedSignals"/>).</returns>
    /// <exception cref="ObjectDisposedException">The batcher is disposed or being disposed.</exception>
    public bool TryEnqueue(SignalInput signal)
    {
        ArgumentNullException.ThrowIfNull(signal);
        return TryWrite(Prepare(signal));
    }

    /// <summary>
    /// Queues what a decision of a generation loop produced, without waiting; it is sent after everything queued before
    /// it (see <see cref="FlywheelClient.RecordOutputAsync"/> for what the server checks).
    /// </summary>
    /// <param name="decisionId">The decision that produced the output.</param>
    /// <param name="output">The text, the prompt, and the decision it replaced, if any.</param>
    /// <returns>False when the queue is full (<see cref="FlywheelClientOptions.MaxQueuedSignals"/>).</returns>
    /// <exception cref="ObjectDisposedException">The batcher is disposed or being disposed.</exception>
    public bool TryEnqueueOutput(string decisionId, OutputInput output)
        => TryWrite(PrepareOutput(decisionId, output));

    /// <summary>Queues what a decision of a generation loop produced, waiting while the queue is full.</summary>
    /// <param name="decisionId">The decision that produced the output.</param>
    /// <param name="output">The text, the prompt, and the decision it replaced, if any.</param>
    /// <param name="cancellationToken">Stops waiting for room; the output is then not queued.</param>
    /// <returns>A task that completes once the output is queued (not sent: see <see cref="FlushAsync"/>).</returns>
    /// <exception cref="ObjectDisposedException">The batcher is disposed or being disposed.</exception>
    public ValueTask EnqueueOutputAsync(string decisionId, OutputInput output, CancellationToken cancellationToken = default)
        => WriteAsync(PrepareOutput(decisionId, output), cancellationToken);

    private bool TryWrite(Queued item)
    {
        ObjectDisposedException.ThrowIf(_disposing, this);
        Interlocked.Increment(ref _pending);
        if (_channel.Writer.TryWrite(item))
        {
            return true;
        }
        Interlocked.Decrement(ref _pending);
        ObjectDisposedException.ThrowIf(_disposing, this);
        return false;
    }

    /// <summary>Queues a signal, waiting while the queue is full. A signal without an id gets one now.</summary>
    /// <param name="signal">The signal.</param>
    /// <param name="cancellationToken">Stops waiting for room; the signal is then not queued.</param>
    /// <returns>A task that completes once the signal is queued (not sent: see <see cref="FlushAsync"/>).</returns>
    /// <exception cref="ObjectDisposedException">The batcher is disposed or being disposed.</exception>
    public ValueTask EnqueueAsync(SignalInput signal, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(signal);
        return WriteAsync(Prepare(signal), cancellationToken);
    }

    private async ValueTask WriteAsync(Queued item, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposing, this);
        Interlocked.Increment(ref _pending);
        try
        {
            await _channel.Writer.WriteAsync(item, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            Interlocked.Decrement(ref _pending);
            throw new ObjectDisposedException(nameof(FlywheelSignalBatcher));
        }
        catch
        {
            Interlocked.Decrement(ref _pending);
            throw;
        }
    }

    /// <summary>
    /// Sends every signal queued before the call, without waiting for the batch size or the interval, and waits until
    /// the server has acknowledged them (or refused them as invalid, which <see cref="SendFailed"/> reports).
    /// </summary>
    /// <param name="cancellationToken">Stops waiting; the signals are still sent.</param>
    /// <returns>A task that completes when the signals are acknowledged.</returns>
    /// <exception cref="Exception">The send failed after the client's retries (the exception it threw); the signals stay queued.</exception>
    /// <exception cref="ObjectDisposedException">The batcher is disposed or being disposed.</exception>
    public Task FlushAsync(CancellationToken cancellationToken = default)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposing, this);
            (_flushWaiters ??= []).Add(done);
            _wake.TrySetResult();
        }
        return done.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Stops accepting signals, sends what is queued (one attempt, with the client's retries) and stops.</summary>
    /// <returns>A task that completes when the background task has stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            _disposing = true;
            _wake.TrySetResult();
        }
        _channel.Writer.TryComplete();
        await _worker.ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }

    /// <summary>Blocks on <see cref="DisposeAsync"/>; prefer that.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private Queued Prepare(SignalInput signal)
        => new(signal.SignalId is null ? signal with { SignalId = _client.NewId() } : signal, null, _time.GetTimestamp());

    private Queued PrepareOutput(string decisionId, OutputInput output)
    {
        ArgumentException.ThrowIfNullOrEmpty(decisionId);
        ArgumentNullException.ThrowIfNull(output);
        return new(null, new QueuedOutput(decisionId, output), _time.GetTimestamp());
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);

    private async Task RunAsync()
    {
        var reader = _channel.Reader;
        var batch = new List<Queued>(_batchSize);
        long oldest = 0;            // when batch[0] was queued
        var failures = 0;           // consecutive failed sends of the batch at hand
        long retryAt = 0;           // after a failed send, when to try again
        var sendLimit = _batchSize; // shrinks when the server says a batch is too large
        var leftover = 0;           // items at the front of the batch left from a due send: still due
        List<TaskCompletionSource>? flushing = null;
        long flushRemaining = 0;    // items at the front of the queue that the current flush covers
        try
        {
            while (true)
            {
                var disposing = _disposing;
                lock (_gate)
                {
                    if (_wake.Task.IsCompleted)
                    {
                        _wake = NewSignal();
                    }
                    if (flushing is null && _flushWaiters is { } waiters)
                    {
                        flushing = waiters;
                        _flushWaiters = null;
                        flushRemaining = batch.Count + reader.Count;
                    }
                }
                while (batch.Count < _batchSize && reader.TryRead(out var item))
                {
                    if (batch.Count == 0)
                    {
                        oldest = item.EnqueuedAt;
                    }
                    batch.Add(item);
                }
                if (flushing is not null && (batch.Count == 0 || flushRemaining <= 0))
                {
                    Complete(flushing, null);
                    flushing = null;
                }

                if (batch.Count > 0)
                {
                    var now = _time.GetTimestamp();
                    var due = flushing is not null || disposing || leftover > 0
                        || (failures > 0 ? now >= retryAt : batch.Count >= _batchSize || now >= oldest + Ticks(_flushInterval));
                    if (due)
                    {
                        // An output goes alone; signals go as the run of signals before the next output.
                        var output = batch[0].Output;
                        var length = 1;
                        if (output is null)
                        {
                            var limit = Math.Min(batch.Count, sendLimit);
                            while (length < limit && batch[length].Signal is not null)
                            {
                                length++;
                            }
                        }
                        var chunk = batch.GetRange(0, length).ToArray();
                        var removed = 0;
                        try
                        {
                            if (output is not null)
                            {
                                await _client.RecordOutputAsync(Loop, output.DecisionId, output.Output, CancellationToken.None).ConfigureAwait(false);
                                Interlocked.Increment(ref _outputsSent);
                            }
                            else
                            {
                                await _client.SignalAsync(Loop, Signals(chunk), CancellationToken.None).ConfigureAwait(false);
                                Interlocked.Add(ref _sent, chunk.Length);
                            }
                            batch.RemoveRange(0, chunk.Length);
                            removed = chunk.Length;
                            failures = 0;
                        }
                        catch (FlywheelValidationException ex) when (ex.Kind == ValidationKind.TooLarge && output is null && chunk.Length > 1 && ex.Field is "" or "signals")
                        {
                            // The server's batch limit (or body limit) is below ours: send halves from now on. A refusal
                            // naming one signal (an edit's text over the loop's limit) drops that signal instead, below.
                            sendLimit = Math.Max(1, chunk.Length / 2);
                            failures = 0;
                        }
                        catch (FlywheelValidationException ex) when (ex.Kind != ValidationKind.NotFound || (output is not null && ex.Field == "decisionId"))
                        {
                            // Refused as invalid (or an output of a decision the server does not know): resending cannot
                            // help. Drop the signal the server named, else the chunk.
                            Interlocked.Increment(ref _failedSends);
                            failures = 0;
                            Queued[] dropped;
                            if (output is null && SignalIndex(ex.Field) is { } i && i < chunk.Length)
                            {
                                dropped = [chunk[i]];
                                batch.RemoveAt(i);
                            }
                            else
                            {
                                dropped = chunk;
                                batch.RemoveRange(0, chunk.Length);
                            }
                            removed = dropped.Length;
                            Interlocked.Add(ref _failed, dropped.Length);
                            Report(ex, dropped, dropped: true);
                        }
                        catch (Exception ex)
                        {
                            Interlocked.Increment(ref _failedSends);
                            if (disposing)
                            {
                                // Last chance is gone: report everything left as dropped rather than retrying for ever.
                                var rest = new List<Queued>(batch);
                                while (reader.TryRead(out var item))
                                {
                                    rest.Add(item);
                                }
                                batch.Clear();
                                removed = rest.Count;
                                Interlocked.Add(ref _failed, rest.Count);
                                Report(ex, rest, dropped: true);
                            }
                            else
                            {
                                failures++;
                                var pause = _flushInterval * Math.Pow(2, Math.Min(failures - 1, 20));
                                retryAt = _time.GetTimestamp() + Ticks(pause < _maxBackoff ? pause : _maxBackoff);
                                Report(ex, chunk, dropped: false);
                            }
                            if (flushing is not null)
                            {
                                Complete(flushing, ex);
                                flushing = null;
                            }
                        }
                        Interlocked.Add(ref _pending, -removed);
                        flushRemaining -= removed;
                        leftover = failures > 0 ? 0 : batch.Count;
                        continue;
                    }
                }
                else if (reader.Completion.IsCompleted)
                {
                    break;
                }

                await WaitAsync(reader, batch, failures > 0 ? retryAt : oldest + Ticks(_flushInterval)).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            // Not expected: every send failure is handled above. Keep the process alive and tell the waiters.
            LogWorkerFailed(_logger, ex, Loop);
            if (flushing is not null)
            {
                Complete(flushing, ex);
            }
        }
        finally
        {
            List<TaskCompletionSource>? late;
            lock (_gate)
            {
                late = _flushWaiters;
                _flushWaiters = null;
            }
            if (late is not null)
            {
                Complete(late, null);
            }
        }
    }

    private static SignalInput[] Signals(IReadOnlyList<Queued> items)
    {
        var signals = new List<SignalInput>(items.Count);
        foreach (var item in items)
        {
            if (item.Signal is { } signal)
            {
                signals.Add(signal);
            }
        }
        return [.. signals];
    }

    private static QueuedOutput[] Outputs(IReadOnlyList<Queued> items)
    {
        var outputs = new List<QueuedOutput>();
        foreach (var item in items)
        {
            if (item.Output is { } output)
            {
                outputs.Add(output);
            }
        }
        return [.. outputs];
    }
    /// <summary>Waits for a flush or dispose request, for more signals (while the batch has room), or until <paramref name="dueAt"/>.</summary>
    private async Task WaitAsync(ChannelReader<Queued> reader, List<Queued> batch, long dueAt)
    {
        Task wake;
        lock (_gate)
        {
            wake = _wake.Task;
        }
        using var stop = new CancellationTokenSource();
        var more = batch.Count < _batchSize ? reader.WaitToReadAsync(stop.Token).AsTask() : null;
        Task? timer = null;
        if (batch.Count > 0)
        {
            var remaining = dueAt - _time.GetTimestamp();
            timer = remaining <= 0 ? Task.CompletedTask : Task.Delay(TimeSpan.FromSeconds(remaining / (double)_time.TimestampFrequency), _time, stop.Token);
        }
        await Task.WhenAny(new[] { wake, more, timer }.OfType<Task>()).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
    }

    private static void Complete(List<TaskCompletionSource> waiters, Exception? error)
    {
        foreach (var waiter in waiters)
        {
            if (error is null)
            {
                waiter.TrySetResult();
            }
            else
            {
                waiter.TrySetException(error);
            }
        }
    }

    private void Report(Exception exception, IReadOnlyList<Queued> items, bool dropped)
    {
        var signals = Signals(items);
        var outputs = Outputs(items);
        LogSendFailed(_logger, exception, signals.Length, outputs.Length, Loop, dropped ? "dropped" : "kept for another attempt");
        var handler = SendFailed;
        if (handler is null)
        {
            return;
        }
        try
        {
            handler(this, new SignalSendFailedEventArgs(Loop, exception, signals, dropped) { Outputs = outputs });
        }
        catch (Exception ex)
        {
            LogHandlerFailed(_logger, ex, Loop);
        }
    }

    /// <summary>The index in <c>signals[12].type</c>, or null when the field names no single signal.</summary>
    internal static int? SignalIndex(string field)
    {
        const string Prefix = "signals[";
        if (!field.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return null;
        }
        var end = field.IndexOf(']', Prefix.Length);
        return end > Prefix.Length && int.TryParse(field.AsSpan(Prefix.Length, end - Prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i : null;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sending {Count} signals and {Outputs} outputs to loop {Loop} failed; they are {Outcome}")]
    private static partial void LogSendFailed(ILogger logger, Exception exception, int count, int outputs, string loop, string outcome);

    [LoggerMessage(Level = LogLevel.Error, Message = "A SendFailed handler of the signal batcher for loop {Loop} threw")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception, string loop);

    [LoggerMessage(Level = LogLevel.Error, Message = "The signal batcher for loop {Loop} stopped unexpectedly")]
    private static partial void LogWorkerFailed(ILogger logger, Exception exception, string loop);
}

/// <summary>What <see cref="FlywheelSignalBatcher.SendFailed"/> reports.</summary>
public sealed class SignalSendFailedEventArgs : EventArgs
{
    /// <summary>Creates the arguments.</summary>
    /// <param name="loop">The loop.</param>
    /// <param name="exception">Why the send failed.</param>
    /// <param name="signals">The signals concerned.</param>
    /// <param name="dropped">Whether the signals were dropped (true) or kept for another attempt (false).</param>
    public SignalSendFailedEventArgs(string loop, Exception exception, IReadOnlyList<SignalInput> signals, bool dropped)
    {
        Loop = loop;
        Exception = exception;
        Signals = signals;
        Dropped = dropped;
    }

    /// <summary>The loop.</summary>
    public string Loop { get; }

    /// <summary>Why the send failed: the exception the client threw.</summary>
    public Exception Exception { get; }

    /// <summary>The signals concerned, with their ids.</summary>
    public IReadOnlyList<SignalInput> Signals { get; }

    /// <summary>The outputs concerned (<see cref="FlywheelSignalBatcher.TryEnqueueOutput"/>); empty when none.</summary>
    public IReadOnlyList<QueuedOutput> Outputs { get; init; } = [];

    /// <summary>True when the signals were dropped (refused as invalid, or undeliverable at dispose); false when they stay queued.</summary>
    public bool Dropped { get; }
}

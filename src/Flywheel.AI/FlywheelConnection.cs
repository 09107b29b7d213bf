using System.Threading.Channels;
using Flywheel.Client;
using Flywheel.Core;
using Microsoft.Extensions.Logging;

namespace Flywheel.AI;

/// <summary>Where decisions come from and where outputs and feedback go: an in-process engine or a remote server.</summary>
internal abstract class FlywheelConnection : IAsyncDisposable
{
    protected FlywheelConnection(string loop) => Loop = loop;

    public string Loop { get; }

    public abstract ValueTask<Decision> DecideAsync(DecideRequest request, CancellationToken cancellationToken);

    /// <summary>Queues an output without waiting; false when the queue is full.</summary>
    public abstract bool TryEnqueueOutput(string decisionId, OutputInput output);

    /// <summary>Queues a signal without waiting; false when the queue is full.</summary>
    public abstract bool TryEnqueueSignal(SignalInput signal);

    /// <summary>Queues a signal, waiting while the queue is full.</summary>
    public abstract ValueTask EnqueueSignalAsync(SignalInput signal, CancellationToken cancellationToken);

    /// <summary>Completes once everything queued before the call is stored (or dropped as refused).</summary>
    public abstract Task FlushAsync(CancellationToken cancellationToken);

    public abstract ValueTask DisposeAsync();
}

/// <summary>A remote server: decisions through the client, outputs and signals through its batcher.</summary>
internal sealed class RemoteConnection(FlywheelClient client, FlywheelSignalBatcher batcher, bool ownsBatcher, TimeProvider time)
    : FlywheelConnection(batcher.Loop)
{
    public FlywheelSignalBatcher Batcher => batcher;

    public override async ValueTask<Decision> DecideAsync(DecideRequest request, CancellationToken cancellationToken)
        => await client.DecideAsync(Loop, request, cancellationToken).ConfigureAwait(false);

    public override bool TryEnqueueOutput(string decisionId, OutputInput output) => batcher.TryEnqueueOutput(decisionId, output);

    // Queued signals may reach the server long after the fact: they carry the time the user acted.
    public override bool TryEnqueueSignal(SignalInput signal) => batcher.TryEnqueue(signal with { At = signal.At ?? time.GetUtcNow() });

    public override ValueTask EnqueueSignalAsync(SignalInput signal, CancellationToken cancellationToken)
        => batcher.EnqueueAsync(signal with { At = signal.At ?? time.GetUtcNow() }, cancellationToken);

    public override Task FlushAsync(CancellationToken cancellationToken) => batcher.FlushAsync(cancellationToken);

    public override ValueTask DisposeAsync() => ownsBatcher ? batcher.DisposeAsync() : ValueTask.CompletedTask;
}

/// <summary>
/// An in-process engine: decisions straight from it; outputs and signals through a queue and a background task, in
/// order, so that a chat call never waits for a group commit.
/// </summary>
internal sealed partial class EngineConnection : FlywheelConnection
{
    private const int MaxBatch = 500;
    private const int Attempts = 3;

    private readonly IFlywheelEngine _engine;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Channel<Item> _channel;
    private readonly Task _worker;

    // Exactly one of the three is set.
    private readonly record struct Item(SignalInput? Signal, QueuedOutput? Output, TaskCompletionSource? Flush);

    public EngineConnection(IFlywheelEngine engine, string loop, ILogger logger, TimeProvider time, int capacity = 100_000)
        : base(loop)
    {
        _engine = engine;
        _logger = logger;
        _time = time;
        _channel = Channel.CreateBounded<Item>(new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        _worker = Task.Run(RunAsync);
    }

    public override ValueTask<Decision> DecideAsync(DecideRequest request, CancellationToken cancellationToken)
        => _engine.DecideAsync(Loop, request, cancellationToken);

    public override bool TryEnqueueOutput(string decisionId, OutputInput output)
        => _channel.Writer.TryWrite(new Item(null, new QueuedOutput(decisionId, output), null));

    public override bool TryEnqueueSignal(SignalInput signal) => _channel.Writer.TryWrite(new Item(signal, null, null));

    public override ValueTask EnqueueSignalAsync(SignalInput signal, CancellationToken cancellationToken)
        => _channel.Writer.WriteAsync(new Item(signal, null, null), cancellationToken);

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await _channel.Writer.WriteAsync(new Item(null, null, done), cancellationToken).ConfigureAwait(false);
        await done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public override async ValueTask DisposeAsync()
    {
        _channel.Writer.TryComplete();
        await _worker.ConfigureAwait(false);
    }

    private async Task RunAsync()
    {
        var reader = _channel.Reader;
        var signals = new List<SignalInput>(MaxBatch);
        var outputs = new List<QueuedOutput>();
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var item))
            {
                if (item.Signal is { } signal)
                {
                    // Signals queued together go together, up to the next output or flush.
                    signals.Add(signal);
                    while (signals.Count < MaxBatch && reader.TryPeek(out var next) && next.Signal is not null && reader.TryRead(out next))
                    {
                        signals.Add(next.Signal!);
                    }
                    await SendSignalsAsync(signals).ConfigureAwait(false);
                    signals.Clear();
                }
                else if (item.Output is { } output)
                {
                    // Outputs queued together are written together (one group commit), before what follows them.
                    outputs.Add(output);
                    while (outputs.Count < MaxBatch && reader.TryPeek(out var next) && next.Output is not null && reader.TryRead(out next))
                    {
                        outputs.Add(next.Output!);
                    }
                    await Task.WhenAll(outputs.Select(o => SendAsync(() => _engine.RecordOutputAsync(Loop, o.DecisionId, o.Output).AsTask(), 1, 0))).ConfigureAwait(false);
                    outputs.Clear();
                }
                else
                {
                    item.Flush!.TrySetResult();
                }
            }
        }
    }

    private async Task SendSignalsAsync(List<SignalInput> signals)
    {
        var batch = signals.ToArray();
        if (!await SendAsync(() => _engine.RecordSignalsAsync(Loop, batch).AsTask(), 0, batch.Length, dropOnRefusal: batch.Length == 1).ConfigureAwait(false))
        {
            // One invalid signal refuses the batch: send the rest one by one so only that one is lost.
            foreach (var signal in batch)
            {
                await SendAsync(() => _engine.RecordSignalsAsync(Loop, [signal]).AsTask(), 0, 1).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Retries what may pass later (overload, store trouble) a few times; returns false on a refusal it did not log.</summary>
    private async Task<bool> SendAsync(Func<Task> send, int outputs, int signals, bool dropOnRefusal = true)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await send().ConfigureAwait(false);
                return true;
            }
            catch (FlywheelValidationException ex)
            {
                if (!dropOnRefusal)
                {
                    return false;
                }
                LogDropped(_logger, ex, signals, outputs, Loop);
                return true;
            }
            catch (Exception ex) when (attempt < Attempts)
            {
                LogRetrying(_logger, ex, signals, outputs, Loop);
                await Task.Delay(TimeSpan.FromMilliseconds(100 << (2 * attempt)), _time).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                LogDropped(_logger, ex, signals, outputs, Loop);
                return true;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recording {Signals} signals and {Outputs} outputs in loop {Loop} failed; retrying")]
    private static partial void LogRetrying(ILogger logger, Exception exception, int signals, int outputs, string loop);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recording {Signals} signals and {Outputs} outputs in loop {Loop} failed; they are dropped")]
    private static partial void LogDropped(ILogger logger, Exception exception, int signals, int outputs, string loop);
}

using System.Threading.Channels;
using Flywheel.Core;
using Flywheel.Learning;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Flywheel.Engine;

/// <summary>
/// The loop at work in one process. Deciders score with an immutable model snapshot and wait only for the group
/// commit of their own record; one ingest writer orders every event, joins signals to decisions and commits in
/// groups; one learner worker learns from each closed reward and publishes new snapshots. All time comes from the
/// <see cref="TimeProvider"/>. Thread-safe.
/// </summary>
public sealed partial class FlywheelEngine : IFlywheelEngine
{
    private readonly FlywheelOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly IServiceProvider? _services;
    private readonly Dictionary<string, LoopRuntime> _loops = new(StringComparer.Ordinal);
    private readonly Lock _loopsLock = new();
    private readonly SemaphoreSlim _putLock = new(1, 1);
    private readonly Channel<WriteRequest> _writes;
    private readonly Channel<LearnItem> _learn;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lazy<Task> _started;
    private IFlywheelStore? _store;
    private Task? _writer;
    private Task? _learner;
    private ITimer? _joinTimer;
    private int _tickQueued;
    private int _disposed;

    /// <summary>Creates an engine; it opens its store on first use (or on <see cref="StartAsync"/>).</summary>
    public FlywheelEngine(IOptions<FlywheelOptions> options, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null, IServiceProvider? services = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _options.Validate();
        _time = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)loggerFactory?.CreateLogger<FlywheelEngine>() ?? NullLogger.Instance;
        _services = services;
        _writes = Channel.CreateBounded<WriteRequest>(new BoundedChannelOptions(_options.MaxQueuedWrites)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _learn = Channel.CreateBounded<LearnItem>(new BoundedChannelOptions(1024) { SingleReader = true, SingleWriter = false });
        _started = new Lazy<Task>(() => InitializeAsync(_stopping.Token), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>Opens an engine without dependency injection.</summary>
    public static async Task<FlywheelEngine> OpenAsync(FlywheelOptions options, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        var engine = new FlywheelEngine(Options.Create(options), timeProvider, loggerFactory);
        await engine.StartAsync(cancellationToken).ConfigureAwait(false);
        return engine;
    }

    /// <summary>Opens the store, restores every loop (model snapshot plus replay, open windows) and starts the workers.</summary>
    public Task StartAsync(CancellationToken cancellationToken = default) => _started.Value.WaitAsync(cancellationToken);

    private async Task InitializeAsync(CancellationToken cancellationToken)
    {
        _store = _options.StoreFactory!(_services);
        await _store.InitializeAsync(cancellationToken).ConfigureAwait(false);
        foreach (var config in await _store.LoadLoopsAsync(cancellationToken).ConfigureAwait(false))
        {
            var runtime = await RestoreLoopAsync(config, cancellationToken).ConfigureAwait(false);
            lock (_loopsLock)
            {
                _loops[config.Id] = runtime;
            }
        }
        _writer = Task.Run(WriterLoopAsync, CancellationToken.None);
        _learner = Task.Run(LearnerLoopAsync, CancellationToken.None);
        _joinTimer = _time.CreateTimer(_ => PostTick(), null, _options.JoinInterval, _options.JoinInterval);
        StartTurnSchedule();
    }

    private async Task<LoopRuntime> RestoreLoopAsync(LoopConfig config, CancellationToken cancellationToken)
    {
        var store = _store!;
        var runtime = new LoopRuntime(config, ServingModel.Empty(config.Learner.Bits, 1, LoopRuntime.BagsOf(config))) { CreatedAt = _time.GetUtcNow() };
        var snapshot = await store.LoadSnapshotAsync(config.Id, cancellationToken).ConfigureAwait(false);
        if (snapshot is not null)
        {
            try
            {
                runtime.Learner = ModelSnapshot.Load(snapshot.Data, config.Learner, config.Exploration);
                runtime.ModelVersion = snapshot.Version;
                runtime.LearnedThrough = snapshot.LearnedThrough;
            }
            catch (ModelSnapshotException ex)
            {
                LogSnapshotRejected(config.Id, ex.Message);
            }
        }
        long replayed = 0;
        await foreach (var (decision, reward) in store.ReadRewardsAsync(config.Id, runtime.LearnedThrough, cancellationToken).ConfigureAwait(false))
        {
            Learn(runtime, decision, reward);
            replayed++;
        }
        runtime.SwapModel(runtime.Learner.ToServingModel(runtime.ModelVersion), config.Learner);
        runtime.LastSnapshotAt = _time.GetUtcNow();
        runtime.ExamplesSinceSnapshot = replayed;
        runtime.Dirty = replayed > 0;

        await RefreshShadowsAsync(runtime, cancellationToken).ConfigureAwait(false);
        var open = await LoadOpenWindowsAsync(runtime, cancellationToken).ConfigureAwait(false);
        LogLoopRestored(config.Id, runtime.ModelVersion, snapshot?.LearnedThrough ?? 0, replayed, open);
        return runtime;
    }

    /// <inheritdoc />
    public async ValueTask<LoopConfig> PutLoopAsync(LoopConfig config, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        await StartAsync(cancellationToken).ConfigureAwait(false);
        await _putLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _store!.SaveLoopAsync(config, cancellationToken).ConfigureAwait(false);
            LoopRuntime? existing;
            lock (_loopsLock)
            {
                _loops.TryGetValue(config.Id, out existing);
            }
            if (existing is null)
            {
                var runtime = new LoopRuntime(config, ServingModel.Empty(config.Learner.Bits, 1, LoopRuntime.BagsOf(config)))
                {
                    LastSnapshotAt = _time.GetUtcNow(),
                    CreatedAt = _time.GetUtcNow(),
                };
                lock (_loopsLock)
                {
                    _loops[config.Id] = runtime;
                }
                return config;
            }
            if (ModelSnapshot.Fingerprint(existing.Config.Learner) != ModelSnapshot.Fingerprint(config.Learner)
                || LoopRuntime.BagsOf(existing.Config) != LoopRuntime.BagsOf(config))
            {
                var reset = new LearnReset(existing, config);
                await _learn.Writer.WriteAsync(reset, cancellationToken).ConfigureAwait(false);
                await reset.Done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            existing.SwapConfig(config);
            return config;
        }
        finally
        {
            _putLock.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask<LoopConfig?> GetLoopAsync(string loop, CancellationToken cancellationToken = default)
    {
        await StartAsync(cancellationToken).ConfigureAwait(false);
        lock (_loopsLock)
        {
            return _loops.TryGetValue(loop, out var runtime) ? runtime.Config : null;
        }
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<LoopConfig>> ListLoopsAsync(CancellationToken cancellationToken = default)
    {
        await StartAsync(cancellationToken).ConfigureAwait(false);
        lock (_loopsLock)
        {
            return _loops.Values.Select(l => l.Config).OrderBy(c => c.Id, StringComparer.Ordinal).ToList();
        }
    }

    /// <inheritdoc />
    public async ValueTask<DecisionAudit?> GetDecisionAsync(string loop, string decisionId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(decisionId);
        var runtime = await GetRuntimeAsync(loop, cancellationToken).ConfigureAwait(false);
        var record = await _store!.GetDecisionAsync(runtime.Id, decisionId, cancellationToken).ConfigureAwait(false);
        if (record is null)
        {
            return null;
        }
        return new DecisionAudit
        {
            Decision = record,
            Signals = await _store.GetSignalsAsync(runtime.Id, decisionId, cancellationToken).ConfigureAwait(false),
            Reward = await _store.GetRewardAsync(runtime.Id, decisionId, cancellationToken).ConfigureAwait(false),
        };
    }

    /// <inheritdoc />
    public async ValueTask<LoopCounts> GetCountsAsync(string loop, CancellationToken cancellationToken = default)
    {
        var runtime = await GetRuntimeAsync(loop, cancellationToken).ConfigureAwait(false);
        return await _store!.CountAsync(runtime.Id, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        await StartAsync(cancellationToken).ConfigureAwait(false);
        var flush = new FlushWrite();
        await EnqueueAsync(flush, cancellationToken).ConfigureAwait(false);
        await flush.Done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<LoopRuntime> GetRuntimeAsync(string loop, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(loop);
        await StartAsync(cancellationToken).ConfigureAwait(false);
        lock (_loopsLock)
        {
            if (_loops.TryGetValue(loop, out var runtime))
            {
                return runtime;
            }
        }
        throw new FlywheelValidationException("loop", $"loop '{loop}' does not exist") { Kind = ValidationKind.NotFound };
    }

    private ValueTask EnqueueAsync(WriteRequest request, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_writes.Writer.TryWrite(request))
        {
            return ValueTask.CompletedTask;
        }
        if (request is FlushWrite)
        {
            return _writes.Writer.WriteAsync(request, cancellationToken);
        }
        throw new FlywheelOverloadedException(TimeSpan.FromSeconds(1));
    }

    private void PostTick()
    {
        if (Interlocked.Exchange(ref _tickQueued, 1) == 0 && !_writes.Writer.TryWrite(new TickWrite()))
        {
            Volatile.Write(ref _tickQueued, 0);
        }
    }

    /// <summary>Drains the queues, saves every learner snapshot and closes the store.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        if (_started.IsValueCreated)
        {
            try
            {
                await _started.Value.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Start-up failed; there is nothing to drain.
            }
        }
        if (_joinTimer is not null)
        {
            await _joinTimer.DisposeAsync().ConfigureAwait(false);
        }
        if (_turnTimer is not null)
        {
            await _turnTimer.DisposeAsync().ConfigureAwait(false);
        }
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _turnCheck.ConfigureAwait(false);
        _writes.Writer.TryComplete();
        if (_writer is not null)
        {
            await _writer.ConfigureAwait(false);
        }
        _learn.Writer.TryComplete();
        if (_learner is not null)
        {
            await _learner.ConfigureAwait(false);
        }
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_store is not null)
        {
            await _store.DisposeAsync().ConfigureAwait(false);
        }
        _stopping.Dispose();
        _putLock.Dispose();
        _turnLock.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Loop {Loop}: stored model snapshot rejected ({Reason}); rebuilding from the reward log.")]
    private partial void LogSnapshotRejected(string loop, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Loop {Loop}: model v{Version} restored from snapshot through reward {Through}, {Replayed} rewards replayed, {Open} windows open.")]
    private partial void LogLoopRestored(string loop, int version, long through, long replayed, int open);

    [LoggerMessage(Level = LogLevel.Error, Message = "Group commit failed; {Calls} calls answered with the error and loop state reloaded from the store.")]
    private partial void LogCommitFailed(Exception exception, int calls);

    [LoggerMessage(Level = LogLevel.Error, Message = "Saving the model snapshot of loop {Loop} failed; it will be retried.")]
    private partial void LogSnapshotFailed(Exception exception, string loop);
}

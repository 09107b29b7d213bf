using System.Diagnostics;
using Flywheel.Learning;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Flywheel.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Flywheel.Engine;

/// <summary>
/// The loop at work in one process: the one entry point of <see cref="IFlywheelEngine"/>, a thin façade over
/// components with one job each. Data flows one way: the <see cref="Decider"/> scores and logs decisions through the
/// <see cref="IngestWriter"/>, which orders and commits every event and closes reward windows with the
/// <see cref="Joiner"/>; the <see cref="LearnerHost"/> learns each closed reward and publishes new policies; the
/// <see cref="TurnRunner"/> trains, judges and deploys candidates through the <see cref="ModelRegistry"/>. All time
/// comes from the <see cref="TimeProvider"/>. Thread-safe.
/// </summary>
public sealed class FlywheelEngine : IFlywheelEngine
{
    /// <summary>
    /// The share of apprentice decisions explored uniformly when the loop's exploration sets no ε: enough that a couple of
    /// thousand decisions can show whether a learner beats the baseline over ten or so actions.
    /// </summary>
    public const double ApprenticeEpsilon = Decider.ApprenticeEpsilon;

    /// <summary>Fewest effective samples (Kish) behind a candidate's estimates before its intervals are trusted.</summary>
    public const double MinimumEffectiveSampleSize = TurnJudge.MinimumEffectiveSampleSize;

    /// <summary>
    /// The name of the engine's <see cref="System.Diagnostics.Metrics.Meter"/> and of its
    /// <see cref="System.Diagnostics.ActivitySource"/> (decide and signal calls): what an OpenTelemetry collector subscribes to.
    /// </summary>
    public const string TelemetryName = FlywheelMetrics.Name;

    private readonly FlywheelOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly IServiceProvider? _services;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lazy<Task<EngineComponents>> _started;
    private readonly FlywheelMetrics _metrics;
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
        // The host's meter factory when there is one (ASP.NET Core registers it), so the host's exporters find the meter.
        _metrics = new FlywheelMetrics(services?.GetService(typeof(IMeterFactory)) as IMeterFactory);
        _started = new Lazy<Task<EngineComponents>>(() => InitializeAsync(_stopping.Token), LazyThreadSafetyMode.ExecutionAndPublication);
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

    private async Task<EngineComponents> InitializeAsync(CancellationToken cancellationToken)
    {
        var store = _options.StoreFactory!(_services);
        await store.InitializeAsync(cancellationToken).ConfigureAwait(false);
        var parts = new EngineComponents(_options, _time, store, _logger, _stopping.Token, _metrics);
        await parts.StartAsync(cancellationToken).ConfigureAwait(false);
        return parts;
    }

    private Task<EngineComponents> StartedAsync(CancellationToken cancellationToken) => _started.Value.WaitAsync(cancellationToken);

    private async ValueTask<(EngineComponents Parts, LoopRuntime Runtime)> LoopAsync(string loop, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(loop);
        var parts = await StartedAsync(cancellationToken).ConfigureAwait(false);
        return (parts, parts.Table.Get(loop));
    }

    /// <summary>The engine's instruments (tests listen to its meter).</summary>
    internal FlywheelMetrics Metrics => _metrics;

    /// <summary>
    /// What the store says about itself (where the data lives, what an acknowledgement promises); empty until the
    /// engine has started.
    /// </summary>
    public string StoreDescription => _started.IsValueCreated && _started.Value.IsCompletedSuccessfully ? _started.Value.Result.Store.Description : "";

    /// <summary>
    /// Null while the store takes writes; else the fault (disk full, read-only, I/O error) that made the last write fail
    /// with no write succeeding since. Readiness checks (<c>GET /readyz</c>) ask it. Costs nothing while writes succeed;
    /// while they fail it tries the store's smallest write, so it reports writable again as soon as the disk is fixed.
    /// </summary>
    public async ValueTask<FlywheelStoreWriteException?> GetStoreWriteFailureAsync(CancellationToken cancellationToken = default)
    {
        var parts = await StartedAsync(cancellationToken).ConfigureAwait(false);
        return await parts.WriteHealth.CheckAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A write outside ingest (loop changes, turns, the registry) that the disk refused counts for the store's write
    /// health like a refused group commit: readiness reports it, and the log says it once.
    /// </summary>
    private static async ValueTask<T> TrackWriteAsync<T>(EngineComponents parts, ValueTask<T> write)
    {
        try
        {
            return await write.ConfigureAwait(false);
        }
        catch (FlywheelStoreWriteException fault)
        {
            parts.WriteHealth.Failed(fault);
            throw;
        }
    }

    /// <inheritdoc />
    public async ValueTask<LoopConfig> PutLoopAsync(LoopConfig config, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        // Besides the config's own rules, the model it asks for must fit the memory one loop may take.
        config.Validate(_options.Limits);
        var parts = await StartedAsync(cancellationToken).ConfigureAwait(false);
        return await TrackWriteAsync(parts, parts.Loops.PutAsync(config, cancellationToken)).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<LoopConfig?> GetLoopAsync(string loop, CancellationToken cancellationToken = default)
    {
        var parts = await StartedAsync(cancellationToken).ConfigureAwait(false);
        return parts.Table.TryGet(loop)?.Config;
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<LoopConfig>> ListLoopsAsync(CancellationToken cancellationToken = default)
    {
        var parts = await StartedAsync(cancellationToken).ConfigureAwait(false);
        return parts.Table.All().Select(l => l.Config).OrderBy(c => c.Id, StringComparer.Ordinal).ToList();
    }

    /// <inheritdoc />
    public async ValueTask<Decision> DecideAsync(string loop, DecideRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        // Null unless a listener (an OpenTelemetry collector, a test) subscribes to the "Flywheel" source.
        using var activity = FlywheelMetrics.ActivitySource.StartActivity("flywheel.decide");
        activity?.SetTag("flywheel.loop", loop);
        try
        {
            var (parts, runtime) = await LoopAsync(loop, cancellationToken).ConfigureAwait(false);
            var decision = await parts.Decider.DecideAsync(runtime, request, cancellationToken).ConfigureAwait(false);
            activity?.SetTag("flywheel.decision_id", decision.DecisionId);
            return decision;
        }
        catch (Exception ex)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
            throw;
        }
    }

    /// <inheritdoc />
    public async ValueTask<SignalBatchResult> RecordSignalsAsync(string loop, IReadOnlyList<SignalInput> signals, CancellationToken cancellationToken = default)
    {
        using var activity = FlywheelMetrics.ActivitySource.StartActivity("flywheel.signals");
        activity?.SetTag("flywheel.loop", loop);
        try
        {
            var (parts, runtime) = await LoopAsync(loop, cancellationToken).ConfigureAwait(false);
            return await parts.Ingest.RecordSignalsAsync(runtime, signals, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
            throw;
        }
    }

    /// <inheritdoc />
    public async ValueTask<DecisionAudit?> GetDecisionAsync(string loop, string decisionId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(decisionId);
        var (parts, runtime) = await LoopAsync(loop, cancellationToken).ConfigureAwait(false);
        return await parts.Loops.GetDecisionAsync(runtime, decisionId, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<LoopCounts> GetCountsAsync(string loop, CancellationToken cancellationToken = default)
    {
        var (parts, runtime) = await LoopAsync(loop, cancellationToken).ConfigureAwait(false);
        return await parts.Loops.CountAsync(runtime, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var parts = await StartedAsync(cancellationToken).ConfigureAwait(false);
        await parts.Ingest.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<ModelRecord>> ListModelsAsync(string loop, CancellationToken cancellationToken = default)
    {
        var (parts, runtime) = await LoopAsync(loop, cancellationToken).ConfigureAwait(false);
        return await parts.Registry.ListAsync(runtime, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<TurnRecord>> ListTurnsAsync(string loop, CancellationToken cancellationToken = default)
    {
        var (parts, runtime) = await LoopAsync(loop, cancellationToken).ConfigureAwait(false);
        return await parts.Registry.ListTurnsAsync(runtime, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<TurnRecord> RunTurnAsync(string loop, CancellationToken cancellationToken = default)
    {
        var (parts, runtime) = await LoopAsync(loop, cancellationToken).ConfigureAwait(false);
        return await TrackWriteAsync(parts, parts.Turns.RunTurnAsync(runtime, cancellationToken)).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<TurnRecord> PromoteAsync(string loop, int version, string? reason = null, CancellationToken cancellationToken = default)
    {
        var (parts, runtime) = await LoopAsync(loop, cancellationToken).ConfigureAwait(false);
        return await TrackWriteAsync(parts, parts.Turns.PromoteAsync(runtime, version, reason, cancellationToken)).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<TurnRecord> RollbackAsync(string loop, string? reason = null, CancellationToken cancellationToken = default)
    {
        var (parts, runtime) = await LoopAsync(loop, cancellationToken).ConfigureAwait(false);
        return await TrackWriteAsync(parts, parts.Turns.RollbackAsync(runtime, reason, cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs what the turn schedule runs, now: for each loop, judge a pending deployment (the guardrail), then run a turn
    /// when <c>turns.everySeconds</c> have passed since the last. For hosts that drive a fake clock with
    /// <see cref="FlywheelOptions.ScheduleTurns"/> off (simulations, tests), so turns happen at reproducible moments.
    /// <paramref name="cancellationToken"/> stops waiting for the engine to start; once started, the check finishes
    /// unless the engine is disposed.
    /// </summary>
    public async Task RunScheduledTurnsAsync(CancellationToken cancellationToken = default)
    {
        var parts = await StartedAsync(cancellationToken).ConfigureAwait(false);
        await parts.Turns.RunScheduledTurnsAsync().ConfigureAwait(false);
    }

    /// <summary>Waits for the check the turn schedule's timer started last (tests that drive the schedule on a fake clock).</summary>
    internal async Task ScheduledCheckAsync()
    {
        var parts = await StartedAsync(CancellationToken.None).ConfigureAwait(false);
        await parts.Turns.ScheduledCheck.ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<LoggedDecision> ExportAsync(string loop, ExportRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (parts, runtime) = await LoopAsync(loop, cancellationToken).ConfigureAwait(false);
        await foreach (var row in parts.Evaluator.ExportAsync(runtime, request, cancellationToken).ConfigureAwait(false))
        {
            yield return row;
        }
    }

    /// <inheritdoc />
    public async ValueTask<OutputResult> RecordOutputAsync(string loop, string decisionId, OutputInput output, CancellationToken cancellationToken = default)
    {
        using var activity = FlywheelMetrics.ActivitySource.StartActivity("flywheel.output");
        activity?.SetTag("flywheel.loop", loop);
        try
        {
            var (parts, runtime) = await LoopAsync(loop, cancellationToken).ConfigureAwait(false);
            return await parts.Ingest.RecordOutputAsync(runtime, decisionId, output, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
            throw;
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<TrainingExample> ExportTrainingAsync(string loop, TrainingExportRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (parts, runtime) = await LoopAsync(loop, cancellationToken).ConfigureAwait(false);
        await foreach (var example in parts.Training.ExportAsync(runtime, request, cancellationToken).ConfigureAwait(false))
        {
            yield return example;
        }
    }

    /// <inheritdoc />
    public async ValueTask<EvaluationReport> EvaluateAsync(string loop, EvaluateRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (parts, runtime) = await LoopAsync(loop, cancellationToken).ConfigureAwait(false);
        return await parts.Evaluator.EvaluateAsync(runtime, request, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>From now on it scores every decision of the loop, and each decision records what it would have served.</remarks>
    public async ValueTask<ModelRecord> ShadowAsync(string loop, int version, CancellationToken cancellationToken = default)
    {
        var (parts, runtime) = await LoopAsync(loop, cancellationToken).ConfigureAwait(false);
        return await TrackWriteAsync(parts, parts.Shadows.ShadowAsync(runtime, version, cancellationToken)).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>The champion cannot be retired: promote another model or roll back.</remarks>
    public async ValueTask<ModelRecord> RetireAsync(string loop, int version, string? reason = null, CancellationToken cancellationToken = default)
    {
        var (parts, runtime) = await LoopAsync(loop, cancellationToken).ConfigureAwait(false);
        return await TrackWriteAsync(parts, parts.Shadows.RetireAsync(runtime, version, reason, cancellationToken)).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<ShadowReport> GetShadowReportAsync(string loop, int version, CancellationToken cancellationToken = default)
    {
        var (parts, runtime) = await LoopAsync(loop, cancellationToken).ConfigureAwait(false);
        return await parts.Shadows.GetReportAsync(runtime, version, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<HealthReport> GetHealthAsync(string loop, CancellationToken cancellationToken = default)
    {
        var (parts, runtime) = await LoopAsync(loop, cancellationToken).ConfigureAwait(false);
        return await parts.Health.ReportAsync(runtime, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<PositionBiasReport> GetPositionBiasAsync(string loop, CancellationToken cancellationToken = default)
    {
        var (_, runtime) = await LoopAsync(loop, cancellationToken).ConfigureAwait(false);
        var serving = runtime.Serving;
        return serving.Policy is IRankingPolicy ranker
            ? ranker.PositionBias(serving.Config)
            : throw new FlywheelValidationException("loop", $"loop '{loop}' is '{LoopConfigJson.Name(serving.Config.Kind)}'; position bias is measured for loops of kind 'rank'") { Kind = ValidationKind.NotSupported };
    }

    /// <inheritdoc />
    public async ValueTask<LearnerReport> GetLearnerAsync(string loop, string userId, CancellationToken cancellationToken = default)
    {
        _options.Limits.CheckId("userId", userId);
        var (tutor, config) = await TutorAsync(loop, cancellationToken).ConfigureAwait(false);
        return tutor.Estimates.Learner(loop, userId, _time.GetUtcNow(), config.AbilitySettings)
            ?? throw new FlywheelValidationException("userId", $"learner '{userId}' has no answers in loop '{loop}'") { Kind = ValidationKind.NotFound };
    }

    /// <inheritdoc />
    public async ValueTask<ItemReport> GetItemAsync(string loop, string actionId, CancellationToken cancellationToken = default)
    {
        _options.Limits.CheckId("actionId", actionId);
        var (tutor, config) = await TutorAsync(loop, cancellationToken).ConfigureAwait(false);
        return tutor.Estimates.Item(loop, actionId, config.AbilitySettings.Model)
            ?? throw new FlywheelValidationException("actionId", $"item '{actionId}' has no answers in loop '{loop}'") { Kind = ValidationKind.NotFound };
    }

    /// <inheritdoc />
    public async ValueTask<ReviewList> GetReviewsAsync(string loop, string userId, DateTimeOffset? due = null, CancellationToken cancellationToken = default)
    {
        _options.Limits.CheckId("userId", userId);
        var (tutor, config) = await TutorAsync(loop, cancellationToken).ConfigureAwait(false);
        var at = due ?? _time.GetUtcNow();
        return new ReviewList(loop, userId, at, tutor.Estimates.Reviews(userId, at, config.AbilitySettings));
    }

    private async ValueTask<(IAbilityPolicy Tutor, LoopConfig Config)> TutorAsync(string loop, CancellationToken cancellationToken)
    {
        var (_, runtime) = await LoopAsync(loop, cancellationToken).ConfigureAwait(false);
        var serving = runtime.Serving;
        return serving.Policy is IAbilityPolicy tutor
            ? (tutor, serving.Config)
            : throw new FlywheelValidationException("loop", $"loop '{loop}' is '{LoopConfigJson.Name(serving.Config.Kind)}'; learners and items are modelled by loops of kind 'ability'") { Kind = ValidationKind.NotSupported };
    }

    /// <inheritdoc />
    public async ValueTask<ErasureResult> EraseUserAsync(string userId, CancellationToken cancellationToken = default)
    {
        _options.Limits.CheckId("userId", userId);
        var parts = await StartedAsync(cancellationToken).ConfigureAwait(false);
        var audit = await parts.Ingest.EraseUserAsync(userId, cancellationToken).ConfigureAwait(false);
        // Ability loops hold learners by id in their model: the learner goes too, and the next snapshot no longer has them.
        foreach (var runtime in parts.Table.All())
        {
            if (runtime.Serving.Policy is IAbilityPolicy tutor && tutor.Estimates.Forget(userId))
            {
                runtime.Dirty = true;
            }
        }
        return new ErasureResult { UserId = userId, Audit = audit };
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<ErasureRecord>> ListErasuresAsync(CancellationToken cancellationToken = default)
    {
        var parts = await StartedAsync(cancellationToken).ConfigureAwait(false);
        return await parts.Store.LoadErasuresAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<Mismatch>> ListMismatchesAsync(string loop, int? version = null, int limit = 100, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var (parts, runtime) = await LoopAsync(loop, cancellationToken).ConfigureAwait(false);
        return await parts.Shadows.ListMismatchesAsync(runtime, version, limit, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Predicted costs under the loop's current serving policy, without deciding (tests and audits).</summary>
    internal async ValueTask<float[]> ScoreAsync(string loop, Features context, IReadOnlyList<ActionCandidate> actions, CancellationToken cancellationToken = default)
    {
        var (_, runtime) = await LoopAsync(loop, cancellationToken).ConfigureAwait(false);
        return Decider.Score(runtime.Serving, context, actions);
    }

    /// <summary>A policy's probabilities for one context (tests compute true policy values with it).</summary>
    internal async ValueTask<double[]> PolicyProbabilitiesAsync(string loop, string policy, Features context, IReadOnlyList<ActionCandidate> actions, CancellationToken cancellationToken = default)
    {
        var (parts, runtime) = await LoopAsync(loop, cancellationToken).ConfigureAwait(false);
        return await parts.Evaluator.PolicyProbabilitiesAsync(runtime, policy, context, actions, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Examples a registered model's stored weights have learned (tests check mismatch up-weighting with it).</summary>
    internal async ValueTask<long> CandidateExamplesAsync(string loop, int version, CancellationToken cancellationToken = default)
    {
        var (parts, runtime) = await LoopAsync(loop, cancellationToken).ConfigureAwait(false);
        var learner = await parts.Registry.LoadLearnerAsync(runtime, version, cancellationToken).ConfigureAwait(false);
        return learner.Examples;
    }

    /// <summary>Stops the turn schedule, drains ingest and learning, saves every learner snapshot and closes the store.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        EngineComponents? parts = null;
        if (_started.IsValueCreated)
        {
            try
            {
                parts = await _started.Value.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Start-up failed; there is nothing to drain.
            }
        }
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (parts is not null)
        {
            await parts.StopAsync().ConfigureAwait(false);
        }
        _stopping.Dispose();
        _metrics.Dispose();
    }
}

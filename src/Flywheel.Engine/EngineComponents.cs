using Flywheel.Core;
using Microsoft.Extensions.Logging;

namespace Flywheel.Engine;

/// <summary>The engine's components, wired once the store is open. Each one owns its own state.</summary>
internal sealed class EngineComponents
{
    /// <remarks>Without <c>metrics</c> (component tests) the components count on a meter of their own.</remarks>
    public EngineComponents(FlywheelOptions options, TimeProvider time, IFlywheelStore store, ILogger logger, CancellationToken stopping, FlywheelMetrics? metrics = null)
    {
        Store = store;
        _ownedMetrics = metrics is null ? new FlywheelMetrics() : null;
        Metrics = metrics ?? _ownedMetrics!;
        Learner = new LearnerHost(options, time, store, Table, logger, Metrics);
        WriteHealth = new StoreWriteHealth(store, logger);
        Ingest = new IngestWriter(options, time, store, Table, Learner, logger, Metrics, WriteHealth);
        Metrics.ObserveQueueDepth(() => Ingest.QueueDepth);
        Decider = new Decider(options, time, Ingest);
        Registry = new ModelRegistry(time, store);
        Shadows = new ShadowService(time, store, Registry);
        Loops = new LoopService(time, store, Table, Learner, Shadows, logger);
        Deployment = new Deployment(time, store, Table, Learner, Registry, Shadows, logger, Metrics);
        Guardrail = new Guardrail(time, store, Registry, Deployment, logger, Metrics);
        Turns = new TurnRunner(options, time, store, Table, Registry, Deployment, Guardrail, logger, Metrics, stopping);
        Evaluator = new Evaluator(store);
        Health = new HealthReporter(time, store);
        Training = new TrainingExporter(time, store);
    }

    private readonly FlywheelMetrics? _ownedMetrics;

    public IFlywheelStore Store { get; }

    public FlywheelMetrics Metrics { get; }

    public LoopTable Table { get; } = new();

    public LoopService Loops { get; }

    public LearnerHost Learner { get; }

    public IngestWriter Ingest { get; }

    public StoreWriteHealth WriteHealth { get; }

    public Decider Decider { get; }

    public ModelRegistry Registry { get; }

    public ShadowService Shadows { get; }

    public Deployment Deployment { get; }

    public Guardrail Guardrail { get; }

    public TurnRunner Turns { get; }

    public Evaluator Evaluator { get; }

    public HealthReporter Health { get; }

    public TrainingExporter Training { get; }

    /// <summary>Restores every stored loop (model snapshot plus replay, open windows), then starts the workers.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await Loops.RestoreAllAsync(cancellationToken).ConfigureAwait(false);
        Learner.Start();
        Ingest.Start();
        Turns.Start();
    }

    /// <summary>Stops in the direction data flows back: no new turns, commit what is queued, learn it, close the store.</summary>
    public async Task StopAsync()
    {
        await Turns.StopAsync().ConfigureAwait(false);
        await Ingest.StopAsync().ConfigureAwait(false);
        await Learner.StopAsync().ConfigureAwait(false);
        await Store.DisposeAsync().ConfigureAwait(false);
        _ownedMetrics?.Dispose();
    }
}

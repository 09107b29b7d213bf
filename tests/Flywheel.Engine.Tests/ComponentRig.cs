using Flywheel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Flywheel.Engine.Tests;

/// <summary>
/// The engine's components wired as the engine wires them, over a real SQLite store in a temporary folder and a fake
/// clock, without the façade: component tests call one component and read the others' state directly. Turns are never
/// scheduled; tests run them at chosen moments.
/// </summary>
internal sealed class ComponentRig : IAsyncDisposable
{
    private readonly TempDirectory _directory;
    private readonly bool _ownsDirectory;
    private readonly CancellationTokenSource _stopping = new();
    private bool _started;

    private ComponentRig(TempDirectory directory, bool ownsDirectory, FakeTimeProvider time, FlywheelOptions options, IFlywheelStore store)
    {
        _directory = directory;
        _ownsDirectory = ownsDirectory;
        Time = time;
        Options = options;
        Store = store;
        Parts = new EngineComponents(options, time, store, NullLogger.Instance, _stopping.Token);
    }

    public FakeTimeProvider Time { get; }

    public FlywheelOptions Options { get; }

    public IFlywheelStore Store { get; }

    public EngineComponents Parts { get; }

    /// <summary>The data folder (for reopening the same store in a second rig).</summary>
    public string DataDirectory => _directory.Path;

    /// <summary>
    /// Opens the store; with <paramref name="start"/>, restores the stored loops and starts the ingest and learner
    /// workers, as the engine does on start-up. A <paramref name="directory"/> passed in (to reopen a store) stays the caller's.
    /// </summary>
    public static async Task<ComponentRig> OpenAsync(Action<FlywheelOptions>? configure = null, bool start = true, FakeTimeProvider? time = null, TempDirectory? directory = null)
    {
        var owns = directory is null;
        directory ??= new TempDirectory();
        time ??= new FakeTimeProvider(TestEngine.Start);
        var options = new FlywheelOptions { ScheduleTurns = false }.UseSqlite(directory.Path);
        configure?.Invoke(options);
        options.Validate();
        var store = options.StoreFactory!(null);
        await store.InitializeAsync(CancellationToken.None);
        var rig = new ComponentRig(directory, owns, time, options, store);
        if (start)
        {
            await rig.Parts.StartAsync(CancellationToken.None);
            rig._started = true;
        }
        return rig;
    }

    /// <summary>Creates or replaces a loop through the loop service; returns its runtime.</summary>
    public async Task<LoopRuntime> PutLoopAsync(LoopConfig config)
    {
        await Parts.Loops.PutAsync(config, CancellationToken.None);
        return Parts.Table.Get(config.Id);
    }

    /// <summary>
    /// Commits one rewarded decision of loop <c>feed</c> per reward, served by <paramref name="version"/>, a second
    /// apart from <paramref name="at"/> (default <see cref="TestEngine.Start"/>), each closed by a signal a second later.
    /// </summary>
    public async Task LogRewardedAsync(string prefix, int version, long firstSequence, double[] rewards, DateTimeOffset? at = null)
    {
        var start = at ?? TestEngine.Start;
        var request = TestEngine.Request();
        var batch = new StoreBatch();
        for (var i = 0; i < rewards.Length; i++)
        {
            var id = $"{prefix}{i}";
            batch.Decisions.Add(new DecisionRecord
            {
                Loop = "feed",
                DecisionId = id,
                At = start.AddSeconds(i),
                Context = request.Context,
                Actions = request.Actions,
                ChosenActionId = "v1",
                Explored = false,
                Ranking = [new RankedAction("v1", 0.8), new RankedAction("v2", 0.1), new RankedAction("v3", 0.1)],
                ModelVersion = version,
            });
            batch.Rewards.Add(new RewardRecord
            {
                Loop = "feed",
                DecisionId = id,
                Sequence = firstSequence + i,
                Reward = rewards[i],
                SignalCount = 1,
                ClosedAt = start.AddSeconds(i + 1),
                ClosedBy = WindowClose.Signal,
            });
        }
        await Store.CommitAsync(batch);
    }

    /// <summary>Stops the workers (draining what is queued) and closes the store, keeping the data folder.</summary>
    public async Task StopAsync()
    {
        await _stopping.CancelAsync();
        if (_started)
        {
            _started = false;
            await Parts.StopAsync();
        }
        else
        {
            await Store.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stopping.IsCancellationRequested)
        {
            await StopAsync();
        }
        _stopping.Dispose();
        if (_ownsDirectory)
        {
            _directory.Dispose();
        }
    }
}

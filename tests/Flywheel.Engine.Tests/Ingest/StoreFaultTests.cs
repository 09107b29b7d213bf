using System.Reflection;
using System.Runtime.ExceptionServices;
using Flywheel.Core;

namespace Flywheel.Engine.Tests.Ingest;

/// <summary>
/// A group commit the disk refuses (issue 15, point 6): every call of the group gets the fault and none is acknowledged,
/// the store's write health follows, and the writer takes writes again once the disk does, without a restart.
/// </summary>
public sealed class StoreFaultTests : IDisposable
{
    private const string Loop = "home-feed";
    private static readonly CancellationToken None = CancellationToken.None;

    private readonly TempDirectory _directory = new("flywheel-store-fault-");

    public void Dispose() => _directory.Dispose();

    /// <summary>Engine components over this test's directory, their store wrapped in a <see cref="FaultyStore"/>.</summary>
    private async Task<(ComponentRig Rig, FaultyStore Faulty)> OpenFaultyAsync()
    {
        FaultyStore? faulty = null;
        var rig = await ComponentRig.OpenAsync(o =>
        {
            var open = o.StoreFactory!;
            o.StoreFactory = services => (faulty = FaultyStore.Wrap(open(services))).Store;
        }, directory: _directory);
        return (rig, faulty!);
    }

    [Fact]
    public async Task CommitRefusedForAFullDisk_EveryCallOfTheGroupGetsTheFault_NoneIsStored_WritesResumeOnceFreed()
    {
        var (opened, faulty) = await OpenFaultyAsync();
        await using (var rig = opened)
        {
            var loop = await rig.PutLoopAsync(TestEngine.FeedLoop());
            await rig.Parts.Decider.DecideAsync(loop, TestEngine.Request("before"), None);
            Assert.Null(await rig.Parts.WriteHealth.CheckAsync(None));

            // The writer holds in the next commit while five more calls queue up behind it; they make the group after it.
            var gate = faulty.HoldNextCommit();
            var held = rig.Parts.Decider.DecideAsync(loop, TestEngine.Request("held"), None).AsTask();
            await gate.Entered;
            var group = Enumerable.Range(0, 5).Select(i => rig.Parts.Decider.DecideAsync(loop, TestEngine.Request($"g{i}"), None).AsTask()).ToList();
            Assert.Equal(5, rig.Parts.Ingest.QueueDepth);
            faulty.Full = true;
            gate.Release();

            foreach (var call in group.Prepend(held))
            {
                var fault = await Assert.ThrowsAsync<FlywheelStoreWriteException>(() => call);
                Assert.Equal(StoreWriteFailure.DiskFull, fault.Reason);
            }
            Assert.Contains(faulty.Refused, batch => batch.SetEquals(["g0", "g1", "g2", "g3", "g4"]));
            // Still full: the probe fails too, and the health says why.
            Assert.Equal(StoreWriteFailure.DiskFull, (await rig.Parts.WriteHealth.CheckAsync(None))?.Reason);
            Assert.Equal(1, faulty.Probes);

            faulty.Full = false;
            Assert.Null(await rig.Parts.WriteHealth.CheckAsync(None));
            Assert.Equal(2, faulty.Probes);
            // Healthy again: asking costs no write.
            Assert.Null(await rig.Parts.WriteHealth.CheckAsync(None));
            Assert.Equal(2, faulty.Probes);
            await rig.Parts.Decider.DecideAsync(loop, TestEngine.Request("after"), None);
        }

        // Reopened without the fault: what was acknowledged is there, what was refused is not.
        await using (var rig = await ComponentRig.OpenAsync(directory: _directory))
        {
            foreach (var id in new[] { "before", "after" })
            {
                Assert.NotNull(await rig.Store.GetDecisionAsync(Loop, id));
            }
            foreach (var id in new[] { "held", "g0", "g1", "g2", "g3", "g4" })
            {
                Assert.Null(await rig.Store.GetDecisionAsync(Loop, id));
            }
            Assert.Equal(2, (await rig.Store.CountAsync(Loop)).Decisions);
        }
    }

    [Fact]
    public async Task CommitFailsForOneCall_TheOthersOfItsGroupAreStored_AndOnlyThatOneFails()
    {
        var (opened, faulty) = await OpenFaultyAsync();
        await using (var rig = opened)
        {
            var loop = await rig.PutLoopAsync(TestEngine.FeedLoop());
            var gate = faulty.HoldNextCommit();
            var held = rig.Parts.Decider.DecideAsync(loop, TestEngine.Request("held"), None).AsTask();
            await gate.Entered;
            var group = new[] { "g0", "g1", "poison", "g2" }.Select(id => (Id: id, Call: rig.Parts.Decider.DecideAsync(loop, TestEngine.Request(id), None).AsTask())).ToList();
            Assert.Equal(4, rig.Parts.Ingest.QueueDepth);
            faulty.Poison = "poison";
            gate.Release();

            await held;
            foreach (var (id, call) in group)
            {
                if (id == "poison")
                {
                    await Assert.ThrowsAsync<InvalidOperationException>(() => call);
                }
                else
                {
                    Assert.Equal(id, (await call).DecisionId);
                }
            }
            // Not the disk: the store's write health stays good.
            Assert.Null(rig.Parts.WriteHealth.Failure);
        }
        await using (var rig = await ComponentRig.OpenAsync(directory: _directory))
        {
            Assert.Equal(4, (await rig.Store.CountAsync(Loop)).Decisions);
            Assert.Null(await rig.Store.GetDecisionAsync(Loop, "poison"));
        }
    }

    [Fact]
    public async Task CommitSucceeds_AfterAFailure_HealthRecoversWithoutAProbe()
    {
        var (rig, faulty) = await OpenFaultyAsync();
        await using var _ = rig;
        var loop = await rig.PutLoopAsync(TestEngine.FeedLoop());
        faulty.Full = true;
        await Assert.ThrowsAsync<FlywheelStoreWriteException>(() => rig.Parts.Decider.DecideAsync(loop, TestEngine.Request("refused"), None).AsTask());
        Assert.Equal(StoreWriteFailure.DiskFull, rig.Parts.WriteHealth.Failure?.Reason);

        faulty.Full = false;
        await rig.Parts.Decider.DecideAsync(loop, TestEngine.Request("stored"), None);

        Assert.Null(rig.Parts.WriteHealth.Failure);
        Assert.Null(await rig.Parts.WriteHealth.CheckAsync(None));
        Assert.Equal(0, faulty.Probes);
    }
}

/// <summary>
/// A store decorator whose commits and probes fail as on a full disk while <see cref="Full"/> is set, and whose next
/// commit can be held until the test releases it. Everything else passes through.
/// </summary>
public class FaultyStore : DispatchProxy
{
    private IFlywheelStore _inner = null!;
    private Gate? _hold;
    private int _probes;

    /// <summary>While true, commits and probes throw <see cref="FlywheelStoreWriteException"/> (disk full) and write nothing.</summary>
    public volatile bool Full;

    /// <summary>A decision id whose commit fails as a bug would (not the disk): the whole transaction is refused.</summary>
    public volatile string? Poison;

    /// <summary>The decision ids of each refused commit.</summary>
    public List<HashSet<string>> Refused { get; } = [];

    /// <summary>The decorator as the store it decorates.</summary>
    public IFlywheelStore Store => (IFlywheelStore)(object)this;

    /// <summary>Probes asked for (<see cref="IFlywheelStore.CheckWritableAsync"/>).</summary>
    public int Probes => Volatile.Read(ref _probes);

    public static FaultyStore Wrap(IFlywheelStore inner)
    {
        var proxy = Create<IFlywheelStore, FaultyStore>();
        var faulty = (FaultyStore)(object)proxy;
        faulty._inner = inner;
        return faulty;
    }

    /// <summary>Holds the next non-empty commit until <see cref="Gate.Release"/>.</summary>
    public Gate HoldNextCommit() => _hold = new Gate();

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        switch (targetMethod.Name)
        {
            case nameof(IFlywheelStore.CommitAsync) when args![0] is StoreBatch { IsEmpty: false } batch:
                return new ValueTask(CommitAsync(batch, (CancellationToken)args[1]!));
            case nameof(IFlywheelStore.CheckWritableAsync):
                Interlocked.Increment(ref _probes);
                return Full ? ValueTask.FromException(DiskFull()) : _inner.CheckWritableAsync((CancellationToken)args![0]!);
        }
        try
        {
            return targetMethod.Invoke(_inner, args);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            ExceptionDispatchInfo.Throw(ex.InnerException);
            throw;
        }
    }

    private async Task CommitAsync(StoreBatch batch, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _hold, null) is { } hold)
        {
            hold.Enter();
            await hold.Released;
        }
        if (Poison is { } poison && batch.Decisions.Any(d => d.DecisionId == poison))
        {
            throw new InvalidOperationException($"decision '{poison}' cannot be stored (simulated)");
        }
        if (Full)
        {
            lock (Refused)
            {
                Refused.Add(batch.Decisions.Select(d => d.DecisionId).ToHashSet(StringComparer.Ordinal));
            }
            throw DiskFull();
        }
        await _inner.CommitAsync(batch, cancellationToken);
    }

    private static FlywheelStoreWriteException DiskFull() => new(StoreWriteFailure.DiskFull, "the disk is full (simulated)");

    /// <summary>Where a held commit waits.</summary>
    public sealed class Gate
    {
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes once the writer is inside the held commit.</summary>
        public Task Entered => _entered.Task;

        internal Task Released => _released.Task;

        internal void Enter() => _entered.TrySetResult();

        public void Release() => _released.TrySetResult();
    }
}

using Flywheel.Core;

namespace Flywheel.Engine;

/// <summary>The live loops by id. Thread-safe.</summary>
internal sealed class LoopTable
{
    private readonly Dictionary<string, LoopRuntime> _loops = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>Serializes changes of a loop's stored config: puts, deployments and mode changes.</summary>
    public SemaphoreSlim ConfigLock { get; } = new(1, 1);

    public LoopRuntime Get(string loop)
    {
        ArgumentNullException.ThrowIfNull(loop);
        return TryGet(loop) ?? throw new FlywheelValidationException("loop", $"loop '{loop}' does not exist") { Kind = ValidationKind.NotFound };
    }

    public LoopRuntime? TryGet(string loop)
    {
        lock (_lock)
        {
            return _loops.TryGetValue(loop, out var runtime) ? runtime : null;
        }
    }

    public void Add(LoopRuntime runtime)
    {
        lock (_lock)
        {
            _loops[runtime.Id] = runtime;
        }
    }

    /// <summary>Every loop, in no particular order.</summary>
    public List<LoopRuntime> All()
    {
        lock (_lock)
        {
            return [.. _loops.Values];
        }
    }
}

using Flywheel.Core;
using Flywheel.Learning;

namespace Flywheel.Engine;

/// <summary>A call waiting for the ingest writer's next group commit.</summary>
internal abstract class WriteRequest;

internal sealed class DecideWrite(LoopRuntime loop, DecisionRecord record, bool clientChoseId, byte[] payload) : WriteRequest
{
    /// <summary>The features as <see cref="DecisionPayload"/> bytes, serialized by the caller, not the writer.</summary>
    public byte[] Payload { get; } = payload;

    public LoopRuntime Loop { get; } = loop;

    public DecisionRecord Record { get; } = record;

    /// <summary>False for ids the engine generated (time-ordered GUIDs), which need no duplicate lookup.</summary>
    public bool ClientChoseId { get; } = clientChoseId;

    public TaskCompletionSource<Decision> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

internal sealed class SignalsWrite(LoopRuntime loop, IReadOnlyList<SignalInput> signals, string[] signalIds) : WriteRequest
{
    public LoopRuntime Loop { get; } = loop;

    public IReadOnlyList<SignalInput> Signals { get; } = signals;

    /// <summary>Client ids, or generated ones (never duplicates) where the client gave none.</summary>
    public string[] SignalIds { get; } = signalIds;

    public TaskCompletionSource<SignalBatchResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>Closes due windows; posted by the join timer.</summary>
internal sealed class TickWrite : WriteRequest;

/// <summary>Completes once everything before it is committed, joined and learned.</summary>
internal sealed class FlushWrite : WriteRequest
{
    public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>Work for the learner worker, in the order the writer committed it.</summary>
internal abstract class LearnItem;

internal sealed class LearnBatch(List<ClosedReward> examples) : LearnItem
{
    public List<ClosedReward> Examples { get; } = examples;
}

internal sealed class LearnFlush(TaskCompletionSource done) : LearnItem
{
    public TaskCompletionSource Done { get; } = done;
}

/// <summary>Starts a fresh model version after the learner settings changed.</summary>
internal sealed class LearnReset(LoopRuntime loop, LoopConfig config) : LearnItem
{
    public LoopRuntime Loop { get; } = loop;

    public LoopConfig Config { get; } = config;

    public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>A generation loop's output for one of its decisions.</summary>
internal sealed class OutputWrite(LoopRuntime loop, OutputRecord record) : WriteRequest
{
    public LoopRuntime Loop { get; } = loop;

    public OutputRecord Record { get; } = record;

    public TaskCompletionSource<OutputResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

using System.Runtime.CompilerServices;
using Flywheel.Core;

namespace Flywheel.Engine;

/// <summary>
/// A generation loop's training exports (<c>GET …/export?format=sft|dpo|kto</c>): one streamed pass over its generations,
/// leaving out the examples the requested style cannot hold (<see cref="TrainingDataWriter.CanWrite"/>).
/// </summary>
internal sealed class TrainingExporter(TimeProvider time, IFlywheelStore store)
{
    public async IAsyncEnumerable<TrainingExample> ExportAsync(LoopRuntime runtime, TrainingExportRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (runtime.Config.Generation is null)
        {
            throw new FlywheelValidationException("format", $"'{LoopConfigJson.Name(request.Format)}' exports a generation loop's outputs; loop '{runtime.Id}' has no 'generation' section in its config")
            {
                Kind = ValidationKind.NotSupported,
            };
        }
        var style = TrainingDataWriter.ResolveStyle(request.Format, request.Style);
        var from = request.From ?? DateTimeOffset.MinValue;
        var to = request.To ?? time.GetUtcNow();
        if (to < from)
        {
            throw new FlywheelValidationException("to", "is before from");
        }
        HashSet<string>? variants = request.Variants is { Count: > 0 } v ? new HashSet<string>(v, StringComparer.Ordinal) : null;
        await foreach (var generation in store.ReadGenerationsAsync(runtime.Id, from, to, withText: true, cancellationToken).ConfigureAwait(false))
        {
            if (variants is not null && !variants.Contains(generation.ChosenActionId))
            {
                continue;
            }
            if ((request.MinReward is { } min && !(generation.Reward >= min)) || (request.MaxReward is { } max && !(generation.Reward <= max)))
            {
                continue;
            }
            var replaced = request.Format == TrainingFormat.Dpo && generation.Output?.Replaces is { } old
                ? await store.GetOutputAsync(runtime.Id, old, cancellationToken).ConfigureAwait(false)
                : null;
            foreach (var example in TrainingExamples.From(generation, request.Format, replaced))
            {
                if (TrainingDataWriter.CanWrite(example, style))
                {
                    yield return example;
                }
            }
        }
    }
}

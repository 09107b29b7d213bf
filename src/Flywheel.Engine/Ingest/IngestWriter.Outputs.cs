using Flywheel.Core;

namespace Flywheel.Engine;

/// <summary>Generation loops (docs/generation.md): outputs, and edits measured against them.</summary>
internal sealed partial class IngestWriter
{
    /// <summary>Validates an output, then waits for the group commit that makes it durable.</summary>
    public async ValueTask<OutputResult> RecordOutputAsync(LoopRuntime runtime, string decisionId, OutputInput output, CancellationToken cancellationToken)
    {
        options.Limits.CheckId("decisionId", decisionId);
        if (output is null)
        {
            throw new FlywheelValidationException("output", "is required: {\"text\": …, \"messages\": [{\"role\", \"content\"}, …]}");
        }
        var generation = Generation(runtime, "output");
        if (!generation.StoreText)
        {
            throw new FlywheelValidationException("text", $"loop '{runtime.Id}' does not store text (generation.storeText is false): keep outputs on your side and send each edit with its distance as its value")
            {
                Kind = ValidationKind.NotSupported,
            };
        }
        if (output.Text is null)
        {
            throw new FlywheelValidationException("text", "is required: the generated text as shown to the user");
        }
        CheckLength("text", output.Text.Length, generation.MaxChars, "generation.maxChars");
        var messages = output.Messages ?? [];
        long promptChars = 0;
        for (var i = 0; i < messages.Count; i++)
        {
            var m = messages[i] ?? throw new FlywheelValidationException($"messages[{i}]", "must be a message object {\"role\", \"content\"}");
            if (m.Role is null || !PromptMessage.Roles.Contains(m.Role))
            {
                throw new FlywheelValidationException($"messages[{i}].role", $"must be one of {string.Join(", ", PromptMessage.Roles)}; got '{m.Role}'");
            }
            if (m.Content is null)
            {
                throw new FlywheelValidationException($"messages[{i}].content", "is required (it may be empty)");
            }
            promptChars += m.Content.Length;
        }
        CheckLength("messages", promptChars, generation.MaxPromptChars, "generation.maxPromptChars");
        if (output.Replaces is { } replaces)
        {
            options.Limits.CheckId("replaces", replaces);
            if (replaces == decisionId)
            {
                throw new FlywheelValidationException("replaces", "names the decision itself; it names the decision whose output the user asked to generate again");
            }
        }
        var record = new OutputRecord
        {
            Loop = runtime.Id,
            DecisionId = decisionId,
            Text = output.Text,
            Messages = messages,
            Replaces = output.Replaces,
            RecordedAt = time.GetUtcNow(),
        };
        var write = new OutputWrite(runtime, record);
        await EnqueueAsync(write, cancellationToken).ConfigureAwait(false);
        return await write.Done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Checks the texts of a signal batch, and gives each edit without a value its normalised edit distance from the
    /// stored output; drops the texts when the loop stores none. Returns the batch as it is to be stored.
    /// </summary>
    private async ValueTask<IReadOnlyList<SignalInput>> MeasureEditsAsync(LoopRuntime runtime, IReadOnlyList<SignalInput> signals, CancellationToken cancellationToken)
    {
        SignalInput[]? measured = null;
        long work = 0;
        for (var i = 0; i < signals.Count; i++)
        {
            var s = signals[i];
            if (s.Text is not { } text)
            {
                continue;
            }
            var generation = Generation(runtime, $"signals[{i}].text");
            if (s.Type != GenerationConfig.EditedSignal)
            {
                throw new FlywheelValidationException($"signals[{i}].text", $"is for '{GenerationConfig.EditedSignal}' signals, whose text is the user's final version of the output; '{s.Type}' carries none");
            }
            CheckLength($"signals[{i}].text", text.Length, generation.MaxChars, "generation.maxChars");
            if (s.DecisionId is not { } decisionId)
            {
                throw new FlywheelValidationException($"signals[{i}].decisionId", "is required with text: the text is the user's final version of a decision's output");
            }
            var value = s.Value;
            if (value is null)
            {
                var output = generation.StoreText ? await store.GetOutputAsync(runtime.Id, decisionId, cancellationToken).ConfigureAwait(false) : null;
                if (output is null)
                {
                    var why = generation.StoreText ? $"decision '{decisionId}' has no stored output to measure the edit against: record its output first (PUT …/decisions/{decisionId}/output)"
                        : $"loop '{runtime.Id}' stores no outputs (generation.storeText is false)";
                    throw new FlywheelValidationException($"signals[{i}].value", $"is required: {why}, or give the edit's normalised distance as its value");
                }
                work += EditDistance.Work(output.Text.Length, text.Length);
                if (work > options.Limits.MaxEditWorkPerBatch)
                {
                    throw new FlywheelValidationException("signals", $"measuring its edits would take over {options.Limits.MaxEditWorkPerBatch:N0} word operations "
                        + $"(the edit distance costs about ⌈shorter/64⌉ × longer per edit; signals[{i}] reaches it): send fewer edits per batch, or give each its distance as its value")
                    {
                        Kind = ValidationKind.TooLarge,
                    };
                }
                value = EditDistance.Normalized(output.Text, text);
            }
            measured ??= [.. signals];
            measured[i] = s with { Value = value, Text = generation.StoreText ? text : null };
        }
        return measured ?? signals;
    }

    private static GenerationConfig Generation(LoopRuntime runtime, string field) => runtime.Config.Generation
        ?? throw new FlywheelValidationException(field, $"is for generation loops; loop '{runtime.Id}' has no 'generation' section in its config")
        {
            Kind = ValidationKind.NotSupported,
        };

    private static void CheckLength(string field, long length, int max, string setting)
    {
        if (length > max)
        {
            throw new FlywheelValidationException(field, $"holds {length} characters; the loop's {setting} is {max}") { Kind = ValidationKind.TooLarge };
        }
    }

    /// <summary>
    /// Applies an output write inside a group: a duplicate of the stored output answers as such, another output of the
    /// same decision is a conflict, an unknown decision a 404.
    /// </summary>
    private async ValueTask ApplyOutputAsync(OutputWrite o, StoreBatch batch, Dictionary<(LoopRuntime, string), OutputRecord> newOutputs,
        Dictionary<LoopRuntime, IReadOnlySet<string>> knownDecisions, HashSet<(LoopRuntime, string)> newDecisions, List<Action> completions)
    {
        var id = o.Record.DecisionId;
        var key = (o.Loop, id);
        var existing = newOutputs.TryGetValue(key, out var inGroup) ? inGroup
            : await store.GetOutputAsync(o.Loop.Id, id).ConfigureAwait(false);
        if (existing is not null)
        {
            if (existing.Text == o.Record.Text && existing.Replaces == o.Record.Replaces && existing.Messages.SequenceEqual(o.Record.Messages))
            {
                var duplicate = new OutputResult(id, Duplicate: true);
                completions.Add(() => o.Done.TrySetResult(duplicate));
            }
            else
            {
                var conflict = new FlywheelValidationException("decisionId", $"decision '{id}' already has a different output; an output is recorded once per decision (repeat the first body exactly to retry)")
                {
                    Kind = ValidationKind.Conflict,
                };
                completions.Add(() => o.Done.TrySetException(conflict));
            }
            return;
        }
        if (!o.Loop.Windows.Pending.ContainsKey(id) && !newDecisions.Contains(key) && !Contains(knownDecisions, o.Loop, id))
        {
            var missing = new FlywheelValidationException("decisionId", $"loop '{o.Loop.Id}' has no decision '{id}'") { Kind = ValidationKind.NotFound };
            completions.Add(() => o.Done.TrySetException(missing));
            return;
        }
        batch.Outputs.Add(o.Record);
        newOutputs[key] = o.Record;
        var result = new OutputResult(id, Duplicate: false);
        completions.Add(() => o.Done.TrySetResult(result));
    }
}

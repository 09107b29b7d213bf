using System.Text.Json;

namespace Flywheel.Core;

/// <summary>
/// Writes <see cref="TrainingExample"/>s as the JSON lines fine-tuning tools read (docs/training-exports.md), one compact
/// object a line, with only the keys of the published shape: never a decision id, user id or variant.
/// <list type="bullet">
/// <item><c>sft</c>, openai: <c>{"messages": [...prompt, {"role": "assistant", "content": completion}]}</c> (also TRL's conversational language modeling).</item>
/// <item><c>sft</c>, trl: <c>{"prompt": [...], "completion": [{"role": "assistant", "content": ...}]}</c> (TRL's conversational prompt-completion).</item>
/// <item><c>dpo</c>, openai: <c>{"input": {"messages": [...]}, "preferred_output": [assistant], "non_preferred_output": [assistant]}</c>.</item>
/// <item><c>dpo</c>, trl: <c>{"prompt": [...], "chosen": [assistant], "rejected": [assistant]}</c>.</item>
/// <item><c>kto</c>, trl only: <c>{"prompt": [...], "completion": [assistant], "label": true|false}</c>.</item>
/// </list>
/// A <c>developer</c> message is written as <c>system</c>: OpenAI's fine-tuning files accept no developer role, and most
/// chat templates TRL applies know only system.
/// </summary>
public static class TrainingDataWriter
{
    private const string AssistantRole = "assistant";
    private const string SystemRole = "system";
    private const string DeveloperRole = "developer";
    private const string ToolRole = "tool";

    /// <summary>
    /// The style a request is written in: <paramref name="style"/>, or by default openai for sft and dpo and trl for kto.
    /// Throws a <see cref="FlywheelValidationException"/> naming <c>style</c> for kto in the openai style, which has no
    /// unpaired shape.
    /// </summary>
    public static TrainingStyle ResolveStyle(TrainingFormat format, TrainingStyle? style)
    {
        if (format == TrainingFormat.Kto)
        {
            return style is null or TrainingStyle.Trl
                ? TrainingStyle.Trl
                : throw new FlywheelValidationException("style", "kto has no OpenAI shape; it is written in TRL's (prompt, completion, label)") { Kind = ValidationKind.NotSupported };
        }
        return style ?? TrainingStyle.OpenAi;
    }

    /// <summary>
    /// Whether <paramref name="example"/> can be written in <paramref name="style"/>: an OpenAI file needs each tool
    /// message's <c>tool_call_id</c>, which a stored prompt does not carry, so prompts with tool messages are left out of
    /// openai exports rather than written in a shape the upload would refuse.
    /// </summary>
    public static bool CanWrite(TrainingExample example, TrainingStyle style)
    {
        ArgumentNullException.ThrowIfNull(example);
        if (style != TrainingStyle.OpenAi)
        {
            return true;
        }
        foreach (var message in example.Prompt)
        {
            if (message.Role == ToolRole)
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// Writes <paramref name="example"/> as one JSON object of <paramref name="format"/>'s shape in <paramref name="style"/>
    /// (no line end). Throws <see cref="ArgumentException"/> when the example lacks what the format needs, or cannot be
    /// written in the style (<see cref="CanWrite"/>), and a <see cref="FlywheelValidationException"/> for kto in openai.
    /// </summary>
    public static void Write(Utf8JsonWriter writer, TrainingExample example, TrainingFormat format, TrainingStyle style)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(example);
        style = ResolveStyle(format, style);
        if (!CanWrite(example, style))
        {
            throw new ArgumentException("An OpenAI training line cannot hold tool messages without their tool_call_id.", nameof(example));
        }
        writer.WriteStartObject();
        switch (format, style)
        {
            case (TrainingFormat.Sft, TrainingStyle.OpenAi):
                writer.WriteStartArray("messages");
                WriteMessages(writer, example.Prompt);
                WriteMessage(writer, AssistantRole, Required(example.Completion, "Completion"));
                writer.WriteEndArray();
                break;
            case (TrainingFormat.Sft, TrainingStyle.Trl):
                WritePrompt(writer, example.Prompt);
                WriteAnswer(writer, "completion", Required(example.Completion, "Completion"));
                break;
            case (TrainingFormat.Dpo, TrainingStyle.OpenAi):
                writer.WriteStartObject("input");
                writer.WriteStartArray("messages");
                WriteMessages(writer, example.Prompt);
                writer.WriteEndArray();
                writer.WriteEndObject();
                WriteAnswer(writer, "preferred_output", Required(example.Chosen, "Chosen"));
                WriteAnswer(writer, "non_preferred_output", Required(example.Rejected, "Rejected"));
                break;
            case (TrainingFormat.Dpo, TrainingStyle.Trl):
                WritePrompt(writer, example.Prompt);
                WriteAnswer(writer, "chosen", Required(example.Chosen, "Chosen"));
                WriteAnswer(writer, "rejected", Required(example.Rejected, "Rejected"));
                break;
            case (TrainingFormat.Kto, TrainingStyle.Trl):
                WritePrompt(writer, example.Prompt);
                WriteAnswer(writer, "completion", Required(example.Completion, "Completion"));
                writer.WriteBoolean("label", example.Label ?? throw new ArgumentException("A kto example needs its Label.", nameof(example)));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown training format.");
        }
        writer.WriteEndObject();
    }

    /// <summary>One example as compact JSON (no line end); see <see cref="Write"/>.</summary>
    public static string Serialize(TrainingExample example, TrainingFormat format, TrainingStyle style)
        => FlywheelJson.ToString(w => Write(w, example, format, style));

    private static string Required(string? value, string name)
        => value ?? throw new ArgumentException($"The example has no {name} for this format.", "example");

    private static void WritePrompt(Utf8JsonWriter writer, IReadOnlyList<PromptMessage> prompt)
    {
        writer.WriteStartArray("prompt");
        WriteMessages(writer, prompt);
        writer.WriteEndArray();
    }

    private static void WriteAnswer(Utf8JsonWriter writer, string name, string content)
    {
        writer.WriteStartArray(name);
        WriteMessage(writer, AssistantRole, content);
        writer.WriteEndArray();
    }

    private static void WriteMessages(Utf8JsonWriter writer, IReadOnlyList<PromptMessage> prompt)
    {
        foreach (var message in prompt)
        {
            WriteMessage(writer, message.Role == DeveloperRole ? SystemRole : message.Role, message.Content);
        }
    }

    private static void WriteMessage(Utf8JsonWriter writer, string role, string content)
    {
        writer.WriteStartObject();
        writer.WriteString("role", role);
        writer.WriteString("content", content);
        writer.WriteEndObject();
    }
}

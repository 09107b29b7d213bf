using System.Text.Json;
using Json.Schema;

namespace Flywheel.Core.Tests;

/// <summary>
/// Every line the training writers produce validates against a JSON Schema of its published shape (OpenAI's fine-tuning
/// files, TRL's conversational datasets, in Schemas/), and reads back into the same prompt and answers.
/// </summary>
public sealed class TrainingDataWriterTests
{
    private static readonly Dictionary<string, JsonSchema> Schemas = LoadSchemas();

    public static TheoryData<TrainingFormat, TrainingStyle, string> Shapes => new()
    {
        { TrainingFormat.Sft, TrainingStyle.OpenAi, "openai-sft" },
        { TrainingFormat.Sft, TrainingStyle.Trl, "trl-sft" },
        { TrainingFormat.Dpo, TrainingStyle.OpenAi, "openai-preference" },
        { TrainingFormat.Dpo, TrainingStyle.Trl, "trl-dpo" },
        { TrainingFormat.Kto, TrainingStyle.Trl, "trl-kto" },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Write_RandomExamples_ValidateAgainstTheShapeAndRoundTrip(TrainingFormat format, TrainingStyle style, string schema)
    {
        var random = new Random(42 + (int)format * 10 + (int)style);
        for (var i = 0; i < 200; i++)
        {
            var example = RandomExample(random, format, style);
            var line = TrainingDataWriter.Serialize(example, format, style);

            Assert.DoesNotContain('\n', line);
            using var document = JsonDocument.Parse(line);
            var result = Schemas[schema].Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
            Assert.True(result.IsValid, $"{schema}: {line}\n{Describe(result)}");

            var (prompt, answers) = ReadBack(document.RootElement, format, style);
            Assert.Equal(example.Prompt.Select(m => m with { Role = m.Role == "developer" ? "system" : m.Role }), prompt);
            Assert.Equal(Answers(example, format), answers);
        }
    }

    [Fact]
    public void Write_SftOpenAi_IsTheMessagesWithTheAnswerLast()
    {
        var line = TrainingDataWriter.Serialize(Example(completion: "Rivers flow."), TrainingFormat.Sft, TrainingStyle.OpenAi);
        Assert.Equal(
            """{"messages":[{"role":"system","content":"Summarise."},{"role":"user","content":"About rivers"},{"role":"assistant","content":"Rivers flow."}]}""",
            line);
    }

    [Fact]
    public void Write_DpoOpenAi_IsInputPreferredAndNonPreferredOutput()
    {
        var line = TrainingDataWriter.Serialize(Example(chosen: "good", rejected: "bad"), TrainingFormat.Dpo, TrainingStyle.OpenAi);
        Assert.Equal(
            """{"input":{"messages":[{"role":"system","content":"Summarise."},{"role":"user","content":"About rivers"}]},"preferred_output":[{"role":"assistant","content":"good"}],"non_preferred_output":[{"role":"assistant","content":"bad"}]}""",
            line);
    }

    [Fact]
    public void Write_DpoTrl_IsPromptChosenRejected()
    {
        var line = TrainingDataWriter.Serialize(Example(chosen: "good", rejected: "bad"), TrainingFormat.Dpo, TrainingStyle.Trl);
        Assert.Equal(
            """{"prompt":[{"role":"system","content":"Summarise."},{"role":"user","content":"About rivers"}],"chosen":[{"role":"assistant","content":"good"}],"rejected":[{"role":"assistant","content":"bad"}]}""",
            line);
    }

    [Fact]
    public void Write_KtoTrl_IsPromptCompletionLabel()
    {
        var line = TrainingDataWriter.Serialize(Example(completion: "bad", label: false), TrainingFormat.Kto, TrainingStyle.Trl);
        Assert.Equal(
            """{"prompt":[{"role":"system","content":"Summarise."},{"role":"user","content":"About rivers"}],"completion":[{"role":"assistant","content":"bad"}],"label":false}""",
            line);
    }

    [Fact]
    public void Write_NeverWritesIdsOrVariants()
    {
        foreach (var (format, style) in new[] { (TrainingFormat.Sft, TrainingStyle.OpenAi), (TrainingFormat.Sft, TrainingStyle.Trl), (TrainingFormat.Dpo, TrainingStyle.OpenAi), (TrainingFormat.Dpo, TrainingStyle.Trl), (TrainingFormat.Kto, TrainingStyle.Trl) })
        {
            var example = Example(completion: "c", chosen: "c", rejected: "r", label: true) with { DecisionId = "decision-1234", Variant = "variant-5678" };
            var line = TrainingDataWriter.Serialize(example, format, style);
            Assert.DoesNotContain("decision-1234", line, StringComparison.Ordinal);
            Assert.DoesNotContain("variant-5678", line, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Write_DeveloperRole_BecomesSystem()
    {
        var example = Example(completion: "ok") with { Prompt = [new("developer", "Be brief."), new("user", "Hi")] };
        var line = TrainingDataWriter.Serialize(example, TrainingFormat.Sft, TrainingStyle.OpenAi);
        Assert.StartsWith("""{"messages":[{"role":"system","content":"Be brief."}""", line, StringComparison.Ordinal);
        Assert.True(Schemas["openai-sft"].Evaluate(JsonDocument.Parse(line).RootElement).IsValid);
    }

    [Fact]
    public void CanWrite_ToolMessages_OnlyInTrl()
    {
        var example = Example(completion: "ok") with { Prompt = [new("user", "Weather?"), new("assistant", "calling"), new("tool", "12°C")] };
        Assert.False(TrainingDataWriter.CanWrite(example, TrainingStyle.OpenAi));
        Assert.True(TrainingDataWriter.CanWrite(example, TrainingStyle.Trl));
        Assert.Throws<ArgumentException>(() => TrainingDataWriter.Serialize(example, TrainingFormat.Sft, TrainingStyle.OpenAi));
        var line = TrainingDataWriter.Serialize(example, TrainingFormat.Sft, TrainingStyle.Trl);
        Assert.True(Schemas["trl-sft"].Evaluate(JsonDocument.Parse(line).RootElement).IsValid);
    }

    [Fact]
    public void Write_MissingField_Throws()
    {
        Assert.Throws<ArgumentException>(() => TrainingDataWriter.Serialize(Example(), TrainingFormat.Sft, TrainingStyle.OpenAi));
        Assert.Throws<ArgumentException>(() => TrainingDataWriter.Serialize(Example(chosen: "c"), TrainingFormat.Dpo, TrainingStyle.Trl));
        Assert.Throws<ArgumentException>(() => TrainingDataWriter.Serialize(Example(completion: "c"), TrainingFormat.Kto, TrainingStyle.Trl));
    }

    [Fact]
    public void ResolveStyle_DefaultsAndKtoInOpenAi()
    {
        Assert.Equal(TrainingStyle.OpenAi, TrainingDataWriter.ResolveStyle(TrainingFormat.Sft, null));
        Assert.Equal(TrainingStyle.OpenAi, TrainingDataWriter.ResolveStyle(TrainingFormat.Dpo, null));
        Assert.Equal(TrainingStyle.Trl, TrainingDataWriter.ResolveStyle(TrainingFormat.Kto, null));
        Assert.Equal(TrainingStyle.Trl, TrainingDataWriter.ResolveStyle(TrainingFormat.Dpo, TrainingStyle.Trl));
        var refused = Assert.Throws<FlywheelValidationException>(() => TrainingDataWriter.ResolveStyle(TrainingFormat.Kto, TrainingStyle.OpenAi));
        Assert.Equal("style", refused.Field);
        Assert.Equal(ValidationKind.NotSupported, refused.Kind);
    }

    [Theory]
    [InlineData("openai-sft", """{"messages":[{"role":"user","content":"hi"}]}""")] // no assistant answer
    [InlineData("openai-sft", """{"messages":[{"role":"developer","content":"x"},{"role":"assistant","content":"a"}]}""")]
    [InlineData("openai-sft", """{"messages":[{"role":"assistant","content":"a"}],"decisionId":"d1"}""")]
    [InlineData("openai-sft", """{"prompt":[{"role":"user","content":"hi"}],"completion":[{"role":"assistant","content":"a"}]}""")]
    [InlineData("openai-preference", """{"input":{"messages":[{"role":"user","content":"hi"}]},"preferred_output":[{"role":"assistant","content":"a"}]}""")]
    [InlineData("openai-preference", """{"input":{"messages":[{"role":"user","content":"hi"}]},"preferred_output":{"role":"assistant","content":"a"},"non_preferred_output":[{"role":"assistant","content":"b"}]}""")]
    [InlineData("openai-preference", """{"input":{"messages":[{"role":"user","content":"hi"}]},"preferred_output":[{"role":"user","content":"a"}],"non_preferred_output":[{"role":"assistant","content":"b"}]}""")]
    [InlineData("trl-dpo", """{"prompt":[{"role":"user","content":"hi"}],"chosen":"a","rejected":"b"}""")]
    [InlineData("trl-dpo", """{"prompt":[{"role":"user","content":"hi"}],"chosen":[{"role":"assistant","content":"a"}]}""")]
    [InlineData("trl-dpo", """{"prompt":[{"role":"user","content":1}],"chosen":[{"role":"assistant","content":"a"}],"rejected":[{"role":"assistant","content":"b"}]}""")]
    [InlineData("trl-kto", """{"prompt":[{"role":"user","content":"hi"}],"completion":[{"role":"assistant","content":"a"}],"label":"true"}""")]
    [InlineData("trl-kto", """{"prompt":[{"role":"user","content":"hi"}],"completion":[{"role":"assistant","content":"a"}]}""")]
    [InlineData("trl-sft", """{"prompt":[{"role":"user","content":"hi"}],"completion":[{"role":"assistant","content":"a"},{"role":"assistant","content":"b"}]}""")]
    public void Schemas_WrongShapes_AreRefused(string schema, string line)
    {
        Assert.False(Schemas[schema].Evaluate(JsonDocument.Parse(line).RootElement).IsValid, line);
    }

    private static Dictionary<string, JsonSchema> LoadSchemas()
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "Schemas");
        var schemas = new Dictionary<string, JsonSchema>(StringComparer.Ordinal);
        foreach (var file in Directory.GetFiles(folder, "*.schema.json"))
        {
            var name = Path.GetFileName(file)[..^".schema.json".Length];
            schemas[name] = JsonSchema.FromText(File.ReadAllText(file), new BuildOptions { SchemaRegistry = new SchemaRegistry() });
        }
        Assert.Equal(5, schemas.Count);
        return schemas;
    }

    private static string Describe(EvaluationResults result)
        => string.Join("\n", (result.Details ?? []).Where(d => d.Errors is { Count: > 0 }).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")));

    private static TrainingExample Example(string? completion = null, bool? label = null, string? chosen = null, string? rejected = null) => new()
    {
        Prompt = [new("system", "Summarise."), new("user", "About rivers")],
        Completion = completion,
        Label = label,
        Chosen = chosen,
        Rejected = rejected,
        DecisionId = "d1",
        Variant = "v1",
        Evidence = TrainingEvidence.Kept,
    };

    private static TrainingExample RandomExample(Random random, TrainingFormat format, TrainingStyle style)
    {
        // OpenAI lines hold no tool messages (CanWrite); developer is written as system.
        string[] roles = style == TrainingStyle.OpenAi ? ["system", "developer", "user", "assistant"] : ["system", "developer", "user", "assistant", "tool"];
        var prompt = Enumerable.Range(0, random.Next(0, 6)).Select(_ => new PromptMessage(roles[random.Next(roles.Length)], RandomText(random))).ToArray();
        if (style == TrainingStyle.OpenAi)
        {
            prompt = [new("user", RandomText(random)), .. prompt];
        }
        var example = Example() with { Prompt = prompt };
        return format switch
        {
            TrainingFormat.Sft => example with { Completion = RandomText(random) },
            TrainingFormat.Dpo => example with { Chosen = RandomText(random), Rejected = RandomText(random) },
            _ => example with { Completion = RandomText(random), Label = random.Next(2) == 0 },
        };
    }

    /// <summary>Text with what JSON must escape or carry: quotes, backslashes, line ends, controls, non-ASCII, emoji.</summary>
    private static string RandomText(Random random)
    {
        const string pieces = "ab \"\\\n\r\t\u0001<>&'éü中😀";
        var length = random.Next(0, 40);
        var builder = new System.Text.StringBuilder();
        for (var i = 0; i < length; i++)
        {
            var at = random.Next(pieces.Length);
            // Keep surrogate pairs whole.
            if (char.IsHighSurrogate(pieces[at]))
            {
                builder.Append(pieces, at, 2);
            }
            else if (!char.IsLowSurrogate(pieces[at]))
            {
                builder.Append(pieces[at]);
            }
        }
        return builder.ToString();
    }

    private static IReadOnlyList<object> Answers(TrainingExample example, TrainingFormat format) => format switch
    {
        TrainingFormat.Sft => [example.Completion!],
        TrainingFormat.Dpo => [example.Chosen!, example.Rejected!],
        _ => [example.Completion!, example.Label!.Value],
    };

    /// <summary>Reads a line back the way a trainer would: the prompt messages and the answers.</summary>
    private static (List<PromptMessage> Prompt, List<object> Answers) ReadBack(JsonElement line, TrainingFormat format, TrainingStyle style)
    {
        static List<PromptMessage> Messages(JsonElement array) => array.EnumerateArray().Select(m => new PromptMessage(m.GetProperty("role").GetString()!, m.GetProperty("content").GetString()!)).ToList();
        static string Assistant(JsonElement array)
        {
            var message = Assert.Single(array.EnumerateArray());
            Assert.Equal("assistant", message.GetProperty("role").GetString());
            return message.GetProperty("content").GetString()!;
        }
        switch (format, style)
        {
            case (TrainingFormat.Sft, TrainingStyle.OpenAi):
                var messages = Messages(line.GetProperty("messages"));
                Assert.Equal("assistant", messages[^1].Role);
                return (messages[..^1], [messages[^1].Content]);
            case (TrainingFormat.Sft, TrainingStyle.Trl):
                return (Messages(line.GetProperty("prompt")), [Assistant(line.GetProperty("completion"))]);
            case (TrainingFormat.Dpo, TrainingStyle.OpenAi):
                return (Messages(line.GetProperty("input").GetProperty("messages")), [Assistant(line.GetProperty("preferred_output")), Assistant(line.GetProperty("non_preferred_output"))]);
            case (TrainingFormat.Dpo, TrainingStyle.Trl):
                return (Messages(line.GetProperty("prompt")), [Assistant(line.GetProperty("chosen")), Assistant(line.GetProperty("rejected"))]);
            default:
                return (Messages(line.GetProperty("prompt")), [Assistant(line.GetProperty("completion")), line.GetProperty("label").GetBoolean()]);
        }
    }
}

using System.Globalization;
using Flywheel.Core;

namespace Flywheel.Simulation.Summarise;

/// <summary>How long a summary is.</summary>
public enum SummaryLength
{
    /// <summary>The two most important points.</summary>
    Short,

    /// <summary>Four points.</summary>
    Medium,

    /// <summary>Seven points.</summary>
    Long,
}

/// <summary>The register a summary is written in.</summary>
public enum SummaryTone
{
    /// <summary>The document's own wording ("approximately", "subsequently").</summary>
    Formal,

    /// <summary>Everyday wording ("about", "then") and contractions.</summary>
    Casual,
}

/// <summary>How a summary is laid out.</summary>
public enum SummaryFormat
{
    /// <summary>A heading and one short fragment a line, without the reasons.</summary>
    Bullets,

    /// <summary>Whole sentences with their reasons, joined by connectives.</summary>
    Prose,
}

/// <summary>A way of rendering a summary: what a prompt variant asks for, and what a user prefers.</summary>
/// <param name="Length">How many points.</param>
/// <param name="Tone">Which register.</param>
/// <param name="Format">Which layout.</param>
public sealed record SummaryStyle(SummaryLength Length, SummaryTone Tone, SummaryFormat Format)
{
    /// <summary>The points a summary of <paramref name="length"/> keeps: 2, 4 or 7.</summary>
    public static int Points(SummaryLength length) => length switch
    {
        SummaryLength.Short => 2,
        SummaryLength.Medium => 4,
        _ => 7,
    };

    /// <summary>The style's key, such as <c>short-formal-bullets</c>: the variant's action id.</summary>
    public string Key => $"{Name(Length)}-{Name(Tone)}-{Name(Format)}";

    /// <summary>
    /// The variant's system prompt: the instructions <see cref="SummariserChatClient"/> follows, one a line, as a prompt
    /// template of a product would carry them.
    /// </summary>
    public string SystemPrompt => string.Create(CultureInfo.InvariantCulture,
        $"You summarise documents for busy readers. Keep only what matters most.\nLength: {Name(Length)} ({Points(Length)} points)\nTone: {Name(Tone)}\nFormat: {Name(Format)}");

    /// <summary>The variant's action features: <c>variant: {length, tone, format}</c>.</summary>
    public Features Features() => new()
    {
        ["variant"] = new FeatureNamespace { ["length"] = Name(Length), ["tone"] = Name(Tone), ["format"] = Name(Format) },
    };

    /// <summary>The wire name of a length: <c>short</c>, <c>medium</c> or <c>long</c>.</summary>
    public static string Name(SummaryLength length) => length switch
    {
        SummaryLength.Short => "short",
        SummaryLength.Medium => "medium",
        _ => "long",
    };

    /// <summary>The wire name of a tone: <c>formal</c> or <c>casual</c>.</summary>
    public static string Name(SummaryTone tone) => tone == SummaryTone.Formal ? "formal" : "casual";

    /// <summary>The wire name of a format: <c>bullets</c> or <c>prose</c>.</summary>
    public static string Name(SummaryFormat format) => format == SummaryFormat.Bullets ? "bullets" : "prose";

    /// <inheritdoc />
    public override string ToString() => Key;
}

using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Flywheel.Core.Json;

namespace Flywheel.Core;

/// <summary>How a <c>rank</c> loop serves and corrects for position (docs/loop-config.md, "Rankings").</summary>
public sealed record RankConfig
{
    /// <summary>The most slots a ranking may have.</summary>
    public const int MaxSlots = 100;

    /// <summary>The most of a loop's decisions that may be shuffled to measure position bias.</summary>
    public const double MaxInterventionRate = 0.5;

    /// <summary>
    /// How many actions a decision serves, in slot order; a decision with fewer candidates serves them all.
    /// 1–<see cref="MaxSlots"/>. <value>Default 5.</value>
    /// </summary>
    public int Slots { get; init; } = 5;

    /// <summary>
    /// Each slot's examination probability, by which clicks are weighed when learning relevance: measured live
    /// (<c>estimate</c>, the default), ignored (<c>none</c>), or given.
    /// </summary>
    public PositionBias PositionBias { get; init; } = PositionBias.Estimate;

    /// <summary>
    /// The share of decisions whose top slots are served in a uniformly shuffled order, so that each slot's
    /// examination can be measured (required above 0 with <c>positionBias: "estimate"</c>); 0–
    /// <see cref="MaxInterventionRate"/>. <value>Default 0.05.</value>
    /// </summary>
    public double InterventionRate { get; init; } = 0.05;

    internal void Validate()
    {
        if (Slots is < 1 or > MaxSlots)
        {
            throw new FlywheelValidationException("rank.slots", $"must be at least 1 and at most {MaxSlots}; got {Slots}");
        }
        if (!double.IsFinite(InterventionRate) || InterventionRate < 0 || InterventionRate > MaxInterventionRate)
        {
            throw new FlywheelValidationException("rank.interventionRate", $"must be at least 0 and at most {MaxInterventionRate}; got {InterventionRate}");
        }
        if (PositionBias is null)
        {
            throw new FlywheelValidationException("rank.positionBias", "is required: \"estimate\", \"none\" or a list of examination probabilities");
        }
        if (PositionBias.Mode == PositionBiasMode.Estimate && InterventionRate <= 0)
        {
            throw new FlywheelValidationException("rank.interventionRate",
                "must be greater than 0 with positionBias \"estimate\": the shuffled decisions are what measures it; give positionBias as \"none\" or a list to serve without them");
        }
        if (PositionBias.Mode == PositionBiasMode.Given)
        {
            var given = PositionBias.Examination;
            if (given.Count == 0 || given.Count > Slots)
            {
                throw new FlywheelValidationException("rank.positionBias", $"must list 1 to rank.slots ({Slots}) examination probabilities; got {given.Count}");
            }
            for (var i = 0; i < given.Count; i++)
            {
                if (!double.IsFinite(given[i]) || given[i] <= 0 || given[i] > 1)
                {
                    throw new FlywheelValidationException($"rank.positionBias[{i}]", $"must be greater than 0 and at most 1; got {given[i].ToString(CultureInfo.InvariantCulture)}");
                }
            }
        }
    }
}

/// <summary>Where a <c>rank</c> loop's examination probabilities come from.</summary>
public enum PositionBiasMode
{
    /// <summary>Measured from the loop's own shuffled decisions.</summary>
    Estimate,

    /// <summary>Not corrected for: every slot counts as examined.</summary>
    None,

    /// <summary>Given in the config.</summary>
    Given,
}

/// <summary>
/// A <c>rank</c> loop's position bias: <c>"estimate"</c>, <c>"none"</c> or a list of examination probabilities by slot
/// (<c>[1.0, 0.6, 0.4]</c>; slots below the list take its last value).
/// </summary>
[JsonConverter(typeof(PositionBiasConverter))]
public sealed class PositionBias : IEquatable<PositionBias>
{
    private PositionBias(PositionBiasMode mode, IReadOnlyList<double> examination)
    {
        Mode = mode;
        Examination = examination;
    }

    /// <summary>Measured live.</summary>
    public static PositionBias Estimate { get; } = new(PositionBiasMode.Estimate, []);

    /// <summary>Not corrected for.</summary>
    public static PositionBias None { get; } = new(PositionBiasMode.None, []);

    /// <summary>Given examination probabilities by slot, top first.</summary>
    public static PositionBias Given(params IReadOnlyList<double> examination)
    {
        ArgumentNullException.ThrowIfNull(examination);
        return new(PositionBiasMode.Given, [.. examination]);
    }

    /// <summary>Where the probabilities come from.</summary>
    public PositionBiasMode Mode { get; }

    /// <summary>The given probabilities (<see cref="PositionBiasMode.Given"/>); empty otherwise.</summary>
    public IReadOnlyList<double> Examination { get; }

    /// <summary>The given probability of <paramref name="slot"/> (from 1); deeper slots take the list's last value.</summary>
    public double GivenAt(int slot) => Examination[Math.Min(slot, Examination.Count) - 1];

    /// <inheritdoc />
    public bool Equals(PositionBias? other) => other is not null && Mode == other.Mode && Examination.SequenceEqual(other.Examination);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as PositionBias);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Mode);
        foreach (var e in Examination)
        {
            hash.Add(e);
        }
        return hash.ToHashCode();
    }

    /// <inheritdoc />
    public override string ToString() => Mode switch
    {
        PositionBiasMode.Estimate => "estimate",
        PositionBiasMode.None => "none",
        _ => "[" + string.Join(", ", Examination.Select(e => e.ToString(CultureInfo.InvariantCulture))) + "]",
    };
}

/// <summary>Reads and writes <see cref="PositionBias"/> as <c>"estimate"</c>, <c>"none"</c> or a list of numbers.</summary>
internal sealed class PositionBiasConverter : JsonConverter<PositionBias>
{
    private const string Expected = "must be \"estimate\", \"none\" or a list of examination probabilities such as [1.0, 0.6, 0.4]";

    public override PositionBias Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                return reader.GetString() switch
                {
                    "estimate" => PositionBias.Estimate,
                    "none" => PositionBias.None,
                    var other => throw new FieldJsonException("", $"{Expected}; got '{other}'"),
                };
            case JsonTokenType.StartArray:
                var values = new List<double>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (reader.TokenType != JsonTokenType.Number || values.Count >= RankConfig.MaxSlots)
                    {
                        throw new FieldJsonException($"[{values.Count}]", reader.TokenType != JsonTokenType.Number
                            ? $"must be a number, not {JsonProblems.Describe(reader.TokenType)}"
                            : $"is past the most slots a ranking may have ({RankConfig.MaxSlots})");
                    }
                    values.Add(reader.GetDouble());
                }
                return PositionBias.Given(values);
            default:
                throw new FieldJsonException("", $"{Expected}, not {JsonProblems.Describe(reader.TokenType)}");
        }
    }

    public override void Write(Utf8JsonWriter writer, PositionBias value, JsonSerializerOptions options)
    {
        if (value.Mode != PositionBiasMode.Given)
        {
            writer.WriteStringValue(value.Mode == PositionBiasMode.Estimate ? "estimate" : "none");
            return;
        }
        writer.WriteStartArray();
        foreach (var e in value.Examination)
        {
            writer.WriteNumberValue(e);
        }
        writer.WriteEndArray();
    }
}

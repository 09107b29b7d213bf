using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Flywheel.Core.Json;

/// <summary>
/// A problem found inside a value a converter reads: <see cref="SubPath"/> is relative to the value, whose own path
/// System.Text.Json fills in as <see cref="JsonException.Path"/>.
/// </summary>
internal sealed class FieldJsonException(string subPath, string problem, ValidationKind kind = ValidationKind.Invalid) : JsonException(problem)
{
    public string SubPath { get; } = subPath;

    public string Problem { get; } = problem;

    public ValidationKind Kind { get; } = kind;
}

/// <summary>
/// An enum as its wire name: the member name in kebab case (<c>lower-bound-beats-champion</c>) unless
/// <see cref="JsonStringEnumMemberNameAttribute"/> says otherwise. Unlike <see cref="JsonStringEnumConverter"/>, reading
/// is exact: other casings and numbers are refused, naming the choices.
/// </summary>
internal sealed class WireEnumConverter<T> : JsonConverter<T>, IWireEnum where T : struct, Enum
{
    private static readonly (string Name, T Value)[] Names = [.. Enum.GetValues<T>().Select(v => (NameOf(v), v))];

    /// <summary>Every wire name, in declaration order.</summary>
    public IReadOnlyList<string> All { get; } = [.. Names.Select(n => n.Name)];

    /// <summary>The wire name of <paramref name="value"/> (its number for an undefined value).</summary>
    public static string Name(T value)
    {
        foreach (var (name, v) in Names)
        {
            if (EqualityComparer<T>.Default.Equals(v, value))
            {
                return name;
            }
        }
        return Convert.ToInt64(value, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The value named <paramref name="name"/>, exactly.</summary>
    public static bool TryParse(string? name, out T value)
    {
        foreach (var (n, v) in Names)
        {
            if (n == name)
            {
                value = v;
                return true;
            }
        }
        value = default;
        return false;
    }

    /// <summary>What a reader is told when a name is not one of ours.</summary>
    public static string Choices => string.Join(", ", Names.Select(n => $"'{n.Name}'"));

    /// <inheritdoc />
    public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new FieldJsonException("", $"must be one of {Choices}, not {JsonProblems.Describe(reader.TokenType)}");
        }
        var text = reader.GetString();
        return TryParse(text, out var value) ? value : throw new FieldJsonException("", $"must be one of {Choices}; got '{text}'");
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => writer.WriteStringValue(Name(value));

    private static string NameOf(T value)
    {
        var field = typeof(T).GetField(value.ToString(), BindingFlags.Public | BindingFlags.Static)!;
        return field.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()?.Name ?? JsonNamingPolicy.KebabCaseLower.ConvertName(field.Name);
    }
}

/// <summary>
/// A time as ISO 8601 in UTC with seven fractional digits (<c>2026-11-24T12:00:00.0000000Z</c>); read leniently
/// (any offset, or none for UTC) and adjusted to UTC.
/// </summary>
internal sealed class UtcTimeConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new FieldJsonException("", $"must be an ISO 8601 time such as 2026-11-24T12:00:00Z, not {JsonProblems.Describe(reader.TokenType)}");
        }
        var text = reader.GetString();
        return FlywheelJson.TryParseTime(text, out var at)
            ? at
            : throw new FieldJsonException("", $"must be an ISO 8601 time such as 2026-11-24T12:00:00Z; got '{text}'");
    }

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options)
    {
        Span<char> text = stackalloc char[40];
        value.UtcDateTime.TryFormat(text, out var length, "O", CultureInfo.InvariantCulture);
        writer.WriteStringValue(text[..length]);
    }
}

/// <summary>A number that may be NaN or infinite: written as null, and null read back as NaN.</summary>
internal sealed class FiniteOrNullConverter : JsonConverter<double>
{
    public override bool HandleNull => true;

    public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.Null => double.NaN,
        JsonTokenType.Number => reader.GetDouble(),
        var other => throw new FieldJsonException("", $"must be a number or null, not {JsonProblems.Describe(other)}"),
    };

    public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
    {
        if (double.IsFinite(value))
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            writer.WriteNullValue();
        }
    }
}

/// <summary>
/// Writes <typeparamref name="T"/> as <typeparamref name="TWire"/>, a type whose shape System.Text.Json can see,
/// for domain types whose JSON is not their own shape (flattened, renamed, or with NaN as null).
/// </summary>
internal abstract class SurrogateConverter<T, TWire> : JsonConverter<T>, IWireShape
{
    public Type WireType => typeof(TWire);

    public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        => FromWire(JsonSerializer.Deserialize(ref reader, Wire(options)) ?? throw new FieldJsonException("", "must not be null"));

    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options)
        => JsonSerializer.Serialize(writer, ToWire(value), Wire(options));

    protected abstract TWire ToWire(T value);

    protected abstract T FromWire(TWire wire);

    private static System.Text.Json.Serialization.Metadata.JsonTypeInfo<TWire> Wire(JsonSerializerOptions options)
        => (System.Text.Json.Serialization.Metadata.JsonTypeInfo<TWire>)options.GetTypeInfo(typeof(TWire));
}

/// <summary>An enum converter's names, for describing the wire format.</summary>
internal interface IWireEnum
{
    IReadOnlyList<string> All { get; }
}

/// <summary>A converter that writes its type in the shape of another, for describing the wire format.</summary>
internal interface IWireShape
{
    Type WireType { get; }
}

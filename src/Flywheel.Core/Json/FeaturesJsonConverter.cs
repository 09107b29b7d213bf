using System.Text.Json;
using System.Text.Json.Serialization;

namespace Flywheel.Core.Json;

/// <summary>
/// Namespaced features (docs/architecture.md), read by hand because their shape is data, not a type: an object of namespaces,
/// each an object of features whose values are numbers, strings, booleans or arrays of strings. Reading checks the
/// structure (kinds, finite numbers, empty and repeated names) and reports problems under the value's path; limits
/// are checked afterwards with <see cref="Features.Validate"/>.
/// </summary>
internal sealed class FeaturesJsonConverter : JsonConverter<Features>
{
    // null reads as no features, as when the field is absent.
    public override bool HandleNull => true;

    public override Features Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var features = new Features();
        if (reader.TokenType == JsonTokenType.Null)
        {
            return features;
        }
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new FieldJsonException("", "must be an object of namespaces, such as { \"user\": { \"country\": \"fr\" } }");
        }
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var nsName = Text(ref reader, "");
            if (nsName.Length == 0)
            {
                throw new FieldJsonException("", "holds a namespace with an empty name");
            }
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                throw new FieldJsonException(nsName, "must be an object of features");
            }
            var ns = new FeatureNamespace();
            if (!features.TryAdd(nsName, ns))
            {
                throw new FieldJsonException(nsName, "appears twice");
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = Text(ref reader, nsName);
                if (name.Length == 0)
                {
                    throw new FieldJsonException(nsName, "holds a feature with an empty name");
                }
                reader.Read();
                if (!ns.TryAdd(name, Value(ref reader, nsName, name)))
                {
                    throw new FieldJsonException($"{nsName}.{name}", "appears twice");
                }
            }
        }
        return features;
    }

    // The path is built only for an error message, so that good features cost no string work.
    private static FeatureValue Value(ref Utf8JsonReader reader, string nsName, string name)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Number:
                return reader.TryGetDouble(out var d) && double.IsFinite(d) ? d : throw new FieldJsonException($"{nsName}.{name}", "must be a finite number");
            case JsonTokenType.String:
                return Text(ref reader, nsName, name);
            case JsonTokenType.True:
                return true;
            case JsonTokenType.False:
                return false;
            case JsonTokenType.StartArray:
                var strings = new List<string>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        throw new FieldJsonException($"{nsName}.{name}[{strings.Count}]", "must be a string (arrays hold strings only)");
                    }
                    strings.Add(Text(ref reader, nsName, name, strings.Count));
                }
                return FeatureValue.FromStrings(strings);
            default:
                throw new FieldJsonException($"{nsName}.{name}", $"must be a number, string, boolean or array of strings, not {JsonProblems.Describe(reader.TokenType)}");
        }
    }

    private static string Text(ref Utf8JsonReader reader, string nsName, string? name = null, int index = -1)
    {
        try
        {
            return reader.GetString()!;
        }
        catch (InvalidOperationException)
        {
            var path = name is null ? nsName : index < 0 ? $"{nsName}.{name}" : $"{nsName}.{name}[{index}]";
            throw new FieldJsonException(path, "holds an unpaired UTF-16 surrogate escape");
        }
    }

    public override void Write(Utf8JsonWriter writer, Features value, JsonSerializerOptions options) => WriteFeatures(writer, value);

    /// <summary>Writes <paramref name="features"/> (null as <c>{}</c>) without going through the serializer.</summary>
    public static void WriteFeatures(Utf8JsonWriter writer, Features? features)
    {
        writer.WriteStartObject();
        foreach (var (nsName, ns) in features ?? Features.Empty)
        {
            writer.WriteStartObject(nsName);
            foreach (var (name, value) in ns)
            {
                switch (value.Kind)
                {
                    case FeatureValueKind.Number:
                        writer.WriteNumber(name, value.Number);
                        break;
                    case FeatureValueKind.String:
                        writer.WriteString(name, value.Text);
                        break;
                    case FeatureValueKind.Boolean:
                        writer.WriteBoolean(name, value.Number != 0);
                        break;
                    default:
                        writer.WriteStartArray(name);
                        foreach (var s in value.Strings)
                        {
                            writer.WriteStringValue(s);
                        }
                        writer.WriteEndArray();
                        break;
                }
            }
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
    }
}

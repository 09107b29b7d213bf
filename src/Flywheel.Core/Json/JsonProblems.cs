using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Flywheel.Core.Json;

/// <summary>
/// Turns what System.Text.Json throws into a <see cref="FlywheelValidationException"/> that names the field as a path
/// such as <c>actions[3].id</c> and says what is wrong in the words of the HTTP API. Runs only when reading failed, so a
/// good document costs nothing here: broken JSON is told apart by reading the document once more, and the value at
/// fault by looking it up in the document and its expected type in the contract.
/// </summary>
internal static class JsonProblems
{
    public static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        _ => "null",
    };

    public static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    /// <summary><paramref name="prefix"/> followed by <paramref name="path"/> (<c>a</c> + <c>b</c> is <c>a.b</c>, <c>a</c> + <c>[0]</c> is <c>a[0]</c>).</summary>
    public static string Join(string prefix, string path)
        => prefix.Length == 0 ? path : path.Length == 0 ? prefix : path[0] == '[' ? prefix + path : $"{prefix}.{path}";

    /// <summary>The same error with its field under <paramref name="prefix"/>.</summary>
    public static FlywheelValidationException Prefix(FlywheelValidationException ex, string prefix)
        => prefix.Length == 0 ? ex : new FlywheelValidationException(Join(prefix, ex.Field), ex.Problem) { Kind = ex.Kind };

    public static FlywheelValidationException Translate(JsonException ex, ReadOnlySpan<byte> utf8, JsonTypeInfo root)
    {
        if (SyntaxError(utf8, root.Options.MaxDepth) is { } syntax)
        {
            return new FlywheelValidationException("", $"is not valid JSON: {syntax}") { Kind = ValidationKind.Malformed };
        }
        var segments = Segments(ex.Path);
        var field = Field(segments);
        if (ex is FieldJsonException f)
        {
            return new FlywheelValidationException(Join(field, f.SubPath), f.Problem) { Kind = f.Kind };
        }
        // The serializer's messages are the only sign of these two; anything else is explained from the document.
        if (ex.Message.StartsWith("Duplicate propert", StringComparison.Ordinal))
        {
            return new FlywheelValidationException(field, "appears twice");
        }
        if (ex.Message.Contains("could not be mapped to any .NET member", StringComparison.Ordinal))
        {
            return new FlywheelValidationException(field, "is not a known field");
        }
        using var document = JsonDocument.Parse(utf8.ToArray());
        var found = Find(document.RootElement, segments);
        var (expected, property) = Expected(root, segments);
        return Explain(field, found, expected, property);
    }

    private static FlywheelValidationException Explain(string field, JsonElement? found, JsonTypeInfo? expected, JsonPropertyInfo? property)
    {
        if (found is not { } value || expected is null)
        {
            return new FlywheelValidationException(field, "is not in the expected shape");
        }
        if (value.ValueKind == JsonValueKind.Object && expected.Kind is JsonTypeInfoKind.Object or JsonTypeInfoKind.Dictionary)
        {
            foreach (var p in expected.Kind == JsonTypeInfoKind.Object ? expected.Properties : [])
            {
                if (p.IsRequired && !value.TryGetProperty(p.Name, out _))
                {
                    return new FlywheelValidationException(Join(field, p.Name), "is required");
                }
            }
            return new FlywheelValidationException(field, "has a property name with an unpaired UTF-16 surrogate escape");
        }
        if (value.ValueKind == JsonValueKind.Null && property is { IsRequired: true })
        {
            return new FlywheelValidationException(field, "is required");
        }
        var type = Nullable.GetUnderlyingType(expected.Type) ?? expected.Type;
        var (kind, wanted) = Expectation(expected, type);
        if (wanted is null)
        {
            return new FlywheelValidationException(field, "is not in the expected shape");
        }
        if (value.ValueKind != kind && !(kind == JsonValueKind.True && value.ValueKind == JsonValueKind.False))
        {
            return new FlywheelValidationException(field, $"must be {wanted}, not {Describe(value.ValueKind)}");
        }
        return value.ValueKind switch
        {
            JsonValueKind.String => new FlywheelValidationException(field, "holds an unpaired UTF-16 surrogate escape"),
            JsonValueKind.Number when type == typeof(double) => new FlywheelValidationException(field, "must be a finite number"),
            JsonValueKind.Number => new FlywheelValidationException(field, $"must be {wanted} within range; got {value.GetRawText()}"),
            _ => new FlywheelValidationException(field, "is not in the expected shape"),
        };
    }

    private static (JsonValueKind Kind, string? Words) Expectation(JsonTypeInfo info, Type type)
    {
        if (type == typeof(string))
        {
            return (JsonValueKind.String, "a string");
        }
        if (type == typeof(bool))
        {
            return (JsonValueKind.True, "true or false");
        }
        if (type == typeof(double) || type == typeof(float) || type == typeof(decimal))
        {
            return (JsonValueKind.Number, "a number");
        }
        if (type == typeof(int) || type == typeof(long) || type == typeof(short) || type == typeof(byte))
        {
            return (JsonValueKind.Number, "a whole number");
        }
        return info.Kind switch
        {
            JsonTypeInfoKind.Object or JsonTypeInfoKind.Dictionary => (JsonValueKind.Object, "a JSON object"),
            JsonTypeInfoKind.Enumerable => (JsonValueKind.Array, "an array"),
            _ => (JsonValueKind.Undefined, null),
        };
    }

    private static string? SyntaxError(ReadOnlySpan<byte> utf8, int maxDepth)
    {
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = maxDepth });
        try
        {
            while (reader.Read())
            {
            }
            return null;
        }
        catch (JsonException ex)
        {
            return Where(ex, utf8);
        }
    }

    /// <summary>
    /// The reader's message in plain words, at a 1-based line and column (in characters), as editors count them: the
    /// reader's own text ends in 0-based "LineNumber: 1 | BytePositionInLine: 39." and advice about its options.
    /// </summary>
    internal static string Where(JsonException ex, ReadOnlySpan<byte> utf8)
    {
        var message = ex.Message;
        foreach (var tail in (ReadOnlySpan<string>)[" LineNumber:", " Change the reader options.", " Path:"])
        {
            var at = message.IndexOf(tail, StringComparison.Ordinal);
            if (at >= 0)
            {
                message = message[..at];
            }
        }
        message = message.TrimEnd().TrimEnd('.');
        if (ex.LineNumber is not { } line || ex.BytePositionInLine is not { } bytes)
        {
            return message;
        }
        // Find the line's first byte, then count the characters before the position.
        var start = 0;
        for (long l = 0; l < line && start < utf8.Length; start++)
        {
            if (utf8[start] == (byte)'\n')
            {
                l++;
            }
        }
        var length = (int)Math.Clamp(bytes, 0, utf8.Length - start);
        var column = System.Text.Encoding.UTF8.GetCharCount(utf8.Slice(start, length)) + 1;
        return $"{message} (line {line + 1}, column {column})";
    }

    /// <summary>The value the path leads to in the document, if there is one.</summary>
    private static JsonElement? Find(JsonElement root, List<object> segments)
    {
        var current = root;
        foreach (var segment in segments)
        {
            if (segment is string name && current.ValueKind == JsonValueKind.Object && current.TryGetProperty(name, out var next))
            {
                current = next;
            }
            else if (segment is int index && current.ValueKind == JsonValueKind.Array && index < current.GetArrayLength())
            {
                current = current[index];
            }
            else
            {
                return null;
            }
        }
        return current;
    }

    /// <summary>The contract of the value the path leads to, and the property that holds it, as far as the contract says.</summary>
    private static (JsonTypeInfo? Info, JsonPropertyInfo? Property) Expected(JsonTypeInfo root, List<object> segments)
    {
        var info = root;
        JsonPropertyInfo? property = null;
        foreach (var segment in segments)
        {
            Type? next = null;
            property = null;
            if (info.Kind == JsonTypeInfoKind.Object && segment is string name)
            {
                property = info.Properties.FirstOrDefault(p => p.Name == name);
                next = property?.PropertyType;
            }
            else if (info.Kind is JsonTypeInfoKind.Enumerable or JsonTypeInfoKind.Dictionary)
            {
                next = info.ElementType;
            }
            if (next is null)
            {
                return (null, null);
            }
            info = root.Options.GetTypeInfo(next);
        }
        return (info, property);
    }

    /// <summary>Field path of the HTTP API from the segments: <c>signals[0].type</c>.</summary>
    private static string Field(List<object> segments)
    {
        var field = new StringBuilder();
        foreach (var segment in segments)
        {
            if (segment is int index)
            {
                field.Append('[').Append(index).Append(']');
            }
            else
            {
                field.Append(field.Length == 0 ? "" : ".").Append((string)segment);
            }
        }
        return field.ToString();
    }

    /// <summary>Splits System.Text.Json's path (<c>$.signals[0]['odd.name']</c>) into names and indices.</summary>
    private static List<object> Segments(string? path)
    {
        var segments = new List<object>();
        if (string.IsNullOrEmpty(path))
        {
            return segments;
        }
        var i = path[0] == '$' ? 1 : 0;
        while (i < path.Length)
        {
            if (path[i] == '.')
            {
                var end = path.IndexOfAny(['.', '['], i + 1);
                end = end < 0 ? path.Length : end;
                segments.Add(path[(i + 1)..end]);
                i = end;
            }
            else if (path.AsSpan(i).StartsWith("['"))
            {
                var name = new StringBuilder();
                i += 2;
                while (i < path.Length && !(path[i] == '\'' && i + 1 < path.Length && path[i + 1] == ']'))
                {
                    if (path[i] == '\\' && i + 1 < path.Length)
                    {
                        i++;
                    }
                    name.Append(path[i++]);
                }
                segments.Add(name.ToString());
                i += 2;
            }
            else if (path[i] == '[')
            {
                var end = path.IndexOf(']', i);
                end = end < 0 ? path.Length : end;
                segments.Add(int.TryParse(path.AsSpan(i + 1, end - i - 1), System.Globalization.CultureInfo.InvariantCulture, out var index) ? index : -1);
                i = end + 1;
            }
            else
            {
                i++;
            }
        }
        return segments;
    }
}

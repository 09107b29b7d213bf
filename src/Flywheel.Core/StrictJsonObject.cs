using System.Text.Json;

namespace Flywheel.Core;

/// <summary>
/// Reads one JSON object field by field and refuses what it did not read: unknown fields, wrong types and
/// non-finite numbers all become <see cref="FlywheelValidationException"/>s naming the field's path.
/// </summary>
internal sealed class StrictJsonObject
{
    private readonly JsonElement _element;
    private readonly string _path;
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);

    public StrictJsonObject(JsonElement element, string path)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new FlywheelValidationException(path, $"must be a JSON object, not {Describe(element)}");
        }
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in element.EnumerateObject())
        {
            string name;
            try
            {
                name = p.Name;
            }
            catch (InvalidOperationException)
            {
                throw new FlywheelValidationException(path, "has a property name with an unpaired UTF-16 surrogate escape");
            }
            if (!names.Add(name))
            {
                throw new FlywheelValidationException(Path(path, name), "appears twice");
            }
        }
        _element = element;
        _path = path;
    }

    public string PathOf(string name) => Path(_path, name);

    public static string Path(string prefix, string name) => prefix.Length == 0 ? name : $"{prefix}.{name}";

    public bool TryGet(string name, out JsonElement value)
    {
        _seen.Add(name);
        if (_element.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null)
        {
            return true;
        }
        return false;
    }

    public string? String(string name, bool required = false)
    {
        if (!TryGet(name, out var v))
        {
            return required ? throw new FlywheelValidationException(PathOf(name), "is required") : null;
        }
        if (v.ValueKind != JsonValueKind.String)
        {
            throw new FlywheelValidationException(PathOf(name), $"must be a string, not {Describe(v)}");
        }
        return ReadString(v, PathOf(name));
    }

    /// <summary>The value of a JSON string; an unpaired surrogate escape such as "\ud800" is an error naming <paramref name="path"/>.</summary>
    public static string ReadString(JsonElement v, string path)
    {
        try
        {
            return v.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw new FlywheelValidationException(path, "holds an unpaired UTF-16 surrogate escape");
        }
    }

    public double? Number(string name)
    {
        if (!TryGet(name, out var v))
        {
            return null;
        }
        return ReadNumber(v, PathOf(name));
    }

    public static double ReadNumber(JsonElement v, string path)
    {
        if (v.ValueKind != JsonValueKind.Number)
        {
            throw new FlywheelValidationException(path, $"must be a number, not {Describe(v)}");
        }
        if (!v.TryGetDouble(out var d) || !double.IsFinite(d))
        {
            throw new FlywheelValidationException(path, "must be a finite number");
        }
        return d;
    }

    public double Number(string name, double fallback, double min, double max, bool minExclusive = false)
    {
        var value = Number(name) ?? fallback;
        if (value < min || value > max || (minExclusive && value == min))
        {
            var low = minExclusive ? $"greater than {min}" : $"at least {min}";
            throw new FlywheelValidationException(PathOf(name), $"must be {low} and at most {max}; got {value}");
        }
        return value;
    }

    public int Integer(string name, int fallback, int min, int max)
    {
        var value = Number(name);
        if (value is null)
        {
            return fallback;
        }
        if (value != Math.Floor(value.Value) || value < min || value > max)
        {
            throw new FlywheelValidationException(PathOf(name), $"must be an integer from {min} to {max}; got {value}");
        }
        return (int)value.Value;
    }

    public bool? Boolean(string name)
    {
        if (!TryGet(name, out var v))
        {
            return null;
        }
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new FlywheelValidationException(PathOf(name), $"must be true or false, not {Describe(v)}"),
        };
    }

    public StrictJsonObject? Object(string name)
    {
        return TryGet(name, out var v) ? new StrictJsonObject(v, PathOf(name)) : null;
    }

    public T Enum<T>(string name, T fallback, params (string Name, T Value)[] choices)
    {
        var text = String(name);
        if (text is null)
        {
            return fallback;
        }
        foreach (var (n, v) in choices)
        {
            if (n == text)
            {
                return v;
            }
        }
        throw new FlywheelValidationException(PathOf(name), $"must be one of {string.Join(", ", choices.Select(c => $"'{c.Name}'"))}; got '{text}'");
    }

    public IEnumerable<JsonProperty> Properties() => _element.EnumerateObject();

    /// <summary>Call after reading: any field not read is unknown.</summary>
    public void RejectUnknown()
    {
        foreach (var p in _element.EnumerateObject())
        {
            if (!_seen.Contains(p.Name))
            {
                throw new FlywheelValidationException(PathOf(p.Name), "is not a known field");
            }
        }
    }

    public static string Describe(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}

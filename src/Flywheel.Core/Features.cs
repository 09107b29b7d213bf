using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Flywheel.Core;

/// <summary>The kind of a <see cref="FeatureValue"/>.</summary>
public enum FeatureValueKind
{
    /// <summary>A dense numeric value.</summary>
    Number,
    /// <summary>A categorical value: the feature <c>name=value</c> with value 1.</summary>
    String,
    /// <summary>1 for true, 0 for false.</summary>
    Boolean,
    /// <summary>One categorical feature per element.</summary>
    StringArray,
}

/// <summary>One feature value (DESIGN §3): number, string, bool or array of strings.</summary>
public readonly struct FeatureValue : IEquatable<FeatureValue>
{
    private readonly object? _ref;

    private FeatureValue(FeatureValueKind kind, double number, object? reference)
    {
        Kind = kind;
        Number = number;
        _ref = reference;
    }

    /// <summary>What this value is.</summary>
    public FeatureValueKind Kind { get; }

    /// <summary>The number (also 1/0 for booleans).</summary>
    public double Number { get; }

    /// <summary>The string, for <see cref="FeatureValueKind.String"/>.</summary>
    public string? Text => _ref as string;

    /// <summary>The elements, for <see cref="FeatureValueKind.StringArray"/>.</summary>
    public IReadOnlyList<string> Strings => _ref as string[] ?? [];

    /// <summary>A numeric value.</summary>
    public static FeatureValue FromNumber(double value) => new(FeatureValueKind.Number, value, null);

    /// <summary>A categorical value.</summary>
    public static FeatureValue FromString(string value) => new(FeatureValueKind.String, 1, value ?? throw new ArgumentNullException(nameof(value)));

    /// <summary>A boolean value.</summary>
    public static FeatureValue FromBoolean(bool value) => new(FeatureValueKind.Boolean, value ? 1 : 0, null);

    /// <summary>A set of categorical values.</summary>
    public static FeatureValue FromStrings(IEnumerable<string> values) => new(FeatureValueKind.StringArray, 1, values.ToArray());

    /// <summary>Converts a number.</summary>
    public static implicit operator FeatureValue(double value) => FromNumber(value);
    /// <summary>Converts a number.</summary>
    public static implicit operator FeatureValue(int value) => FromNumber(value);
    /// <summary>Converts a number.</summary>
    public static implicit operator FeatureValue(long value) => FromNumber(value);
    /// <summary>Converts a string.</summary>
    public static implicit operator FeatureValue(string value) => FromString(value);
    /// <summary>Converts a boolean.</summary>
    public static implicit operator FeatureValue(bool value) => FromBoolean(value);
    /// <summary>Converts an array of strings.</summary>
    public static implicit operator FeatureValue(string[] values) => FromStrings(values);

    /// <inheritdoc />
    public bool Equals(FeatureValue other) => Kind == other.Kind && Number.Equals(other.Number) && Kind switch
    {
        FeatureValueKind.String => Text == other.Text,
        FeatureValueKind.StringArray => Strings.SequenceEqual(other.Strings),
        _ => true,
    };

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is FeatureValue v && Equals(v);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Kind, Number);

    /// <summary>Equality.</summary>
    public static bool operator ==(FeatureValue left, FeatureValue right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(FeatureValue left, FeatureValue right) => !left.Equals(right);

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        FeatureValueKind.Number => Number.ToString("R", CultureInfo.InvariantCulture),
        FeatureValueKind.String => Text!,
        FeatureValueKind.Boolean => Number != 0 ? "true" : "false",
        _ => "[" + string.Join(",", Strings) + "]",
    };
}

/// <summary>The features of one namespace, in insertion order.</summary>
public sealed class FeatureNamespace : IEnumerable<KeyValuePair<string, FeatureValue>>
{
    private readonly List<KeyValuePair<string, FeatureValue>> _items = [];

    /// <summary>Number of features.</summary>
    public int Count => _items.Count;

    /// <summary>Gets or sets a feature by name.</summary>
    public FeatureValue this[string name]
    {
        get
        {
            foreach (var item in _items)
            {
                if (item.Key == name)
                {
                    return item.Value;
                }
            }
            throw new KeyNotFoundException($"No feature named '{name}'.");
        }
        set
        {
            ArgumentException.ThrowIfNullOrEmpty(name);
            for (var i = 0; i < _items.Count; i++)
            {
                if (_items[i].Key == name)
                {
                    _items[i] = new(name, value);
                    return;
                }
            }
            _items.Add(new(name, value));
        }
    }

    /// <summary>Adds a feature (collection-initializer support).</summary>
    public void Add(string name, FeatureValue value) => this[name] = value;

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, FeatureValue>> GetEnumerator() => _items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>
/// Namespaced features (DESIGN §3): <c>{ "user": { "country": "fr", "tenure_days": 31 } }</c>.
/// Build them in C# with an initializer: <c>new Features { ["user"] = { ["country"] = "fr" } }</c>,
/// or parse JSON with <see cref="Parse(string, FlywheelLimits?)"/>.
/// </summary>
public sealed class Features : IEnumerable<KeyValuePair<string, FeatureNamespace>>
{
    private readonly List<KeyValuePair<string, FeatureNamespace>> _namespaces = [];

    /// <summary>An empty feature set.</summary>
    public static Features Empty => new();

    /// <summary>Number of namespaces.</summary>
    public int Count => _namespaces.Count;

    /// <summary>Gets a namespace, creating it when missing, so nested initializers work.</summary>
    public FeatureNamespace this[string name]
    {
        get
        {
            foreach (var item in _namespaces)
            {
                if (item.Key == name)
                {
                    return item.Value;
                }
            }
            ArgumentException.ThrowIfNullOrEmpty(name);
            var ns = new FeatureNamespace();
            _namespaces.Add(new(name, ns));
            return ns;
        }
        set
        {
            ArgumentException.ThrowIfNullOrEmpty(name);
            for (var i = 0; i < _namespaces.Count; i++)
            {
                if (_namespaces[i].Key == name)
                {
                    _namespaces[i] = new(name, value);
                    return;
                }
            }
            _namespaces.Add(new(name, value));
        }
    }

    /// <summary>Adds a namespace.</summary>
    public void Add(string name, FeatureNamespace features) => this[name] = features;

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, FeatureNamespace>> GetEnumerator() => _namespaces.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Checks names, values and sizes against <paramref name="limits"/>; <paramref name="field"/> prefixes error paths.</summary>
    public void Validate(string field, FlywheelLimits? limits = null)
    {
        limits ??= FlywheelLimits.Default;
        if (_namespaces.Count > limits.MaxNamespaces)
        {
            throw new FlywheelValidationException(field, $"has {_namespaces.Count} namespaces; the limit is {limits.MaxNamespaces}") { Kind = ValidationKind.TooLarge };
        }
        // Paths are built only for the error message, so valid input costs no allocation.
        foreach (var (nsName, ns) in _namespaces)
        {
            if (!limits.IsValidString(nsName))
            {
                limits.CheckString(Join(field, nsName), nsName);
            }
            if (!LoopConfig.NamespacePattern().IsMatch(nsName))
            {
                throw new FlywheelValidationException(Join(field, nsName), "a namespace name must match ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$");
            }
            var count = 0;
            foreach (var (name, value) in ns)
            {
                if (!limits.IsValidString(name))
                {
                    limits.CheckString(Join(Join(field, nsName), name), name);
                }
                switch (value.Kind)
                {
                    case FeatureValueKind.Number when !double.IsFinite(value.Number):
                        throw new FlywheelValidationException(Join(Join(field, nsName), name), "must be a finite number");
                    case FeatureValueKind.String:
                        if (!limits.IsValidString(value.Text))
                        {
                            limits.CheckString(Join(Join(field, nsName), name), value.Text);
                        }
                        count++;
                        break;
                    case FeatureValueKind.StringArray:
                        var strings = value.Strings;
                        for (var i = 0; i < strings.Count; i++)
                        {
                            if (!limits.IsValidString(strings[i]))
                            {
                                limits.CheckString($"{Join(Join(field, nsName), name)}[{i}]", strings[i]);
                            }
                        }
                        count += strings.Count;
                        break;
                    default:
                        count++;
                        break;
                }
            }
            if (count > limits.MaxFeaturesPerNamespace)
            {
                throw new FlywheelValidationException(Join(field, nsName), $"has {count} features; the limit is {limits.MaxFeaturesPerNamespace}") { Kind = ValidationKind.TooLarge };
            }
        }
    }

    /// <summary>Parses and validates a JSON object of namespaces.</summary>
    public static Features Parse(string json, FlywheelLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new FlywheelValidationException("", $"is not valid JSON: {ex.Message}");
        }
        using (doc)
        {
            try
            {
                return FromJson(doc.RootElement, "", limits);
            }
            catch (InvalidOperationException ex)
            {
                throw new FlywheelValidationException("", $"holds text that is not valid UTF-16: {ex.Message}");
            }
        }
    }

    /// <summary>Reads and validates features from a JSON element; errors name <paramref name="field"/>.</summary>
    public static Features FromJson(JsonElement element, string field, FlywheelLimits? limits = null)
    {
        if (element.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
        {
            return new Features();
        }
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new FlywheelValidationException(field, "must be an object of namespaces, such as { \"user\": { \"country\": \"fr\" } }");
        }
        var features = new Features();
        foreach (var nsProp in element.EnumerateObject())
        {
            var nsField = Join(field, nsProp.Name);
            if (nsProp.Name.Length == 0)
            {
                throw new FlywheelValidationException(field, "holds a namespace with an empty name");
            }
            if (nsProp.Value.ValueKind != JsonValueKind.Object)
            {
                throw new FlywheelValidationException(nsField, "must be an object of features");
            }
            if (features.Contains(nsProp.Name))
            {
                throw new FlywheelValidationException(nsField, "appears twice");
            }
            var ns = new FeatureNamespace();
            foreach (var prop in nsProp.Value.EnumerateObject())
            {
                var f = Join(nsField, prop.Name);
                if (prop.Name.Length == 0)
                {
                    throw new FlywheelValidationException(nsField, "holds a feature with an empty name");
                }
                if (ns.Any(kv => kv.Key == prop.Name))
                {
                    throw new FlywheelValidationException(f, "appears twice");
                }
                ns.Add(prop.Name, ReadValue(prop.Value, f));
            }
            features._namespaces.Add(new(nsProp.Name, ns));
        }
        features.Validate(field, limits);
        return features;
    }

    private static FeatureValue ReadValue(JsonElement value, string field)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Number:
                if (!value.TryGetDouble(out var d) || !double.IsFinite(d))
                {
                    throw new FlywheelValidationException(field, "must be a finite number");
                }
                return d;
            case JsonValueKind.String:
                return value.GetString()!;
            case JsonValueKind.True:
                return true;
            case JsonValueKind.False:
                return false;
            case JsonValueKind.Array:
                var list = new List<string>();
                var i = 0;
                foreach (var item in value.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.String)
                    {
                        throw new FlywheelValidationException($"{field}[{i}]", "must be a string (arrays hold strings only)");
                    }
                    list.Add(item.GetString()!);
                    i++;
                }
                return FeatureValue.FromStrings(list);
            default:
                throw new FlywheelValidationException(field, $"must be a number, string, boolean or array of strings, not {value.ValueKind.ToString().ToLowerInvariant()}");
        }
    }

    private bool Contains(string name) => _namespaces.Any(kv => kv.Key == name);

    /// <summary>Writes the features as a JSON object.</summary>
    public void WriteTo(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        foreach (var (nsName, ns) in _namespaces)
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

    /// <summary>The features as compact JSON.</summary>
    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteTo(writer);
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <inheritdoc />
    public override string ToString() => ToJson();

    private static string Join(string prefix, string name) => prefix.Length == 0 ? name : $"{prefix}.{name}";
}

using System.Collections;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Flywheel.Core.Json;

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

/// <summary>One feature value (docs/architecture.md): number, string, bool or array of strings.</summary>
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

    /// <summary>Adds a feature unless one of that name is already here (one pass, for readers).</summary>
    internal bool TryAdd(string name, FeatureValue value)
    {
        foreach (var item in _items)
        {
            if (item.Key == name)
            {
                return false;
            }
        }
        _items.Add(new(name, value));
        return true;
    }

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, FeatureValue>> GetEnumerator() => _items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>
/// Namespaced features (docs/architecture.md): <c>{ "user": { "country": "fr", "tenure_days": 31 } }</c>.
/// Build them in C# with an initializer: <c>new Features { ["user"] = { ["country"] = "fr" } }</c>,
/// or parse JSON with <see cref="Parse(string, FlywheelLimits?)"/>.
/// </summary>
[JsonConverter(typeof(FeaturesJsonConverter))]
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

    /// <summary>Adds a namespace unless one of that name is already here (one pass, for readers).</summary>
    internal bool TryAdd(string name, FeatureNamespace features)
    {
        foreach (var item in _namespaces)
        {
            if (item.Key == name)
            {
                return false;
            }
        }
        _namespaces.Add(new(name, features));
        return true;
    }

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
                    case FeatureValueKind.Number when Math.Abs(value.Number) > limits.MaxFeatureValue:
                        throw new FlywheelValidationException(Join(Join(field, nsName), name),
                            $"is {value.Number.ToString("G6", System.Globalization.CultureInfo.InvariantCulture)}; numeric features must lie within ±{limits.MaxFeatureValue.ToString("G6", System.Globalization.CultureInfo.InvariantCulture)} (FlywheelLimits.MaxFeatureValue), or the model's single-precision arithmetic overflows: scale it or take its logarithm");
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
        var features = FlywheelJson.Read<Features>(FlywheelJson.Utf8(json));
        features.Validate("", limits);
        return features;
    }

    /// <summary>Reads and validates features from a JSON element; errors name <paramref name="field"/>.</summary>
    public static Features FromJson(JsonElement element, string field, FlywheelLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(field);
        Features features;
        try
        {
            features = element.ValueKind == JsonValueKind.Undefined ? new Features() : FlywheelJson.Read<Features>(element);
        }
        catch (FlywheelValidationException ex)
        {
            throw JsonProblems.Prefix(ex, field);
        }
        features.Validate(field, limits);
        return features;
    }

    /// <summary>Writes the features as a JSON object.</summary>
    public void WriteTo(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        FeaturesJsonConverter.WriteFeatures(writer, this);
    }

    /// <summary>The features as compact JSON.</summary>
    public string ToJson() => FlywheelJson.Serialize(this);

    /// <inheritdoc />
    public override string ToString() => ToJson();

    private static string Join(string prefix, string name) => prefix.Length == 0 ? name : $"{prefix}.{name}";
}

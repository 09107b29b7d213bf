using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Flywheel.Core.Json;

namespace Flywheel.Core;

/// <summary>
/// The wire format of the HTTP API, shared by the HTTP server, the .NET client, the stores and the command line, over a
/// contract System.Text.Json generates at build time. Reading is strict: unknown and repeated fields, wrong types and
/// malformed JSON are <see cref="FlywheelValidationException"/>s naming the field, such as <c>actions[3].id</c>.
/// </summary>
public static class FlywheelJson
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The serializer options of the wire format (strict reading); pass them to <see cref="JsonSerializer"/> for Flywheel's types.</summary>
    public static JsonSerializerOptions Options => FlywheelJsonContext.Default.Options;

    /// <summary>The same options, except that unknown fields are skipped: for answers from a newer server.</summary>
    internal static JsonSerializerOptions IgnoringUnknown { get; } = new(FlywheelJsonContext.Default.Options) { UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip };

    /// <summary>
    /// Makes <paramref name="options"/> (a host's, such as ASP.NET Core's) read and write Flywheel's types in the wire
    /// format: the generated contract first in its resolver chain, and the wire format's settings.
    /// </summary>
    public static void Configure(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var wire = FlywheelJsonContext.Default.Options;
        options.TypeInfoResolverChain.Insert(0, FlywheelJsonContext.Default);
        options.PropertyNamingPolicy = wire.PropertyNamingPolicy;
        options.PropertyNameCaseInsensitive = false;
        options.DefaultIgnoreCondition = wire.DefaultIgnoreCondition;
        options.UnmappedMemberHandling = wire.UnmappedMemberHandling;
        options.AllowDuplicateProperties = false;
        options.NumberHandling = JsonNumberHandling.Strict;
        options.MaxDepth = wire.MaxDepth;
    }

    /// <summary>The wire names of an enum of the wire format (for describing it, as in an OpenAPI document), or null.</summary>
    public static IReadOnlyList<string>? EnumNames(Type type)
        => Options.TryGetTypeInfo(type, out var info) && info.Converter is IWireEnum names ? names.All : null;

    /// <summary>
    /// The type whose shape <paramref name="type"/> is written in when that is not its own shape (flattened or with
    /// NaN as null), for describing the wire format; null otherwise.
    /// </summary>
    public static Type? WireShapeOf(Type type)
        => Options.TryGetTypeInfo(type, out var info) && info.Converter is IWireShape shape ? shape.WireType : null;

    /// <summary>Writes <paramref name="value"/> in the wire format.</summary>
    public static void Write<T>(Utf8JsonWriter writer, T value)
    {
        ArgumentNullException.ThrowIfNull(writer);
        JsonSerializer.Serialize(writer, value, Info<T>.Strict);
    }

    /// <summary><paramref name="value"/> in the wire format as UTF-8 bytes.</summary>
    public static byte[] ToUtf8<T>(T value, bool indented = false) => ToUtf8(w => Write(w, value), indented);

    /// <summary><paramref name="value"/> in the wire format as a string.</summary>
    public static string Serialize<T>(T value, bool indented = false) => Encoding.UTF8.GetString(ToUtf8(value, indented));

    /// <summary>Reads a <typeparamref name="T"/> from UTF-8 JSON, strictly; errors name the field.</summary>
    public static T Read<T>(ReadOnlySpan<byte> utf8) => Read(utf8, Info<T>.Strict);

    /// <summary>Reads a <typeparamref name="T"/> from a JSON element, strictly; errors name the field.</summary>
    public static T Read<T>(JsonElement element) => Read(System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(element), Info<T>.Strict);

    /// <summary>Reads a <typeparamref name="T"/> from UTF-8 JSON, skipping fields this version does not know (an answer from a newer server).</summary>
    public static T ReadIgnoringUnknown<T>(ReadOnlySpan<byte> utf8) => Read(utf8, Info<T>.Lenient);

    internal static T Read<T>(ReadOnlySpan<byte> utf8, JsonTypeInfo<T> info)
    {
        try
        {
            return JsonSerializer.Deserialize(utf8, info) ?? throw new FlywheelValidationException("", "must not be null");
        }
        catch (JsonException ex)
        {
            throw JsonProblems.Translate(ex, utf8, info);
        }
    }

    /// <summary>The UTF-8 bytes of JSON text; text that is not valid UTF-16 is a validation error.</summary>
    internal static byte[] Utf8(string json)
    {
        try
        {
            return StrictUtf8.GetBytes(json);
        }
        catch (ArgumentException)
        {
            throw new FlywheelValidationException("", "is not valid JSON: the text holds an unpaired UTF-16 surrogate") { Kind = ValidationKind.Malformed };
        }
    }

    /// <summary>
    /// A JSON reader's syntax error in plain words with a 1-based line and column (in characters) of
    /// <paramref name="utf8"/>, as editors count them: <c>'h' is an invalid start of a value (line 1, column 1)</c>.
    /// </summary>
    public static string DescribeSyntaxError(JsonException exception, ReadOnlySpan<byte> utf8)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return Json.JsonProblems.Where(exception, utf8);
    }

    /// <summary>Serializes with <paramref name="write"/> into UTF-8 bytes.</summary>
    public static byte[] ToUtf8(Action<Utf8JsonWriter> write, bool indented = false)
    {
        ArgumentNullException.ThrowIfNull(write);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = indented }))
        {
            write(w);
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Serializes with <paramref name="write"/> into a string.</summary>
    public static string ToString(Action<Utf8JsonWriter> write, bool indented = false) => Encoding.UTF8.GetString(ToUtf8(write, indented));

    /// <summary>Reads an optional ISO 8601 time (<c>2026-11-24T12:00:00Z</c>), naming <paramref name="field"/> when it is malformed.</summary>
    public static DateTimeOffset? ParseTime(string? text, string field)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }
        return TryParseTime(text, out var t)
            ? t
            : throw new FlywheelValidationException(field, $"'{text}' is not an ISO 8601 time such as 2026-11-24T12:00:00Z");
    }

    internal static bool TryParseTime(string? text, out DateTimeOffset time)
        => DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time);

    private static class Info<T>
    {
        public static readonly JsonTypeInfo<T> Strict = (JsonTypeInfo<T>)FlywheelJsonContext.Default.Options.GetTypeInfo(typeof(T));

        public static readonly JsonTypeInfo<T> Lenient = (JsonTypeInfo<T>)IgnoringUnknown.GetTypeInfo(typeof(T));
    }
}

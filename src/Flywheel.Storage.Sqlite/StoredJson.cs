using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Flywheel.Core;

namespace Flywheel.Storage.Sqlite;

/// <summary>
/// The JSON columns of the decisions table: context features, candidate actions (<c>[{"id","features"}]</c>) and
/// the ranking (<c>[{"actionId","probability"}]</c>). Doubles are written shortest-round-trip, so they read back exactly.
/// The JSON is produced as UTF-8 bytes and bound as a blob that the INSERT casts to TEXT, which skips a round trip
/// through UTF-16 strings.
/// </summary>
internal sealed class StoredJsonWriter : IDisposable
{
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private readonly Utf8JsonWriter _writer;

    public StoredJsonWriter()
    {
        _writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions
        {
            // Stored text is never embedded in HTML; keep non-ASCII text readable and short.
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            SkipValidation = true,
        });
    }

    public byte[] Features(Features features)
    {
        Reset();
        features.WriteTo(_writer);
        return Finish();
    }

    public byte[] Actions(IReadOnlyList<ActionCandidate> actions)
    {
        Reset();
        _writer.WriteStartArray();
        foreach (var action in actions)
        {
            _writer.WriteStartObject();
            _writer.WriteString(StoredJson.Id, action.Id);
            _writer.WritePropertyName(StoredJson.FeaturesName);
            action.Features.WriteTo(_writer);
            _writer.WriteEndObject();
        }
        _writer.WriteEndArray();
        return Finish();
    }

    public byte[] Ranking(IReadOnlyList<RankedAction> ranking)
    {
        Reset();
        _writer.WriteStartArray();
        foreach (var ranked in ranking)
        {
            _writer.WriteStartObject();
            _writer.WriteString(StoredJson.ActionId, ranked.ActionId);
            _writer.WriteNumber(StoredJson.Probability, ranked.Probability);
            _writer.WriteEndObject();
        }
        _writer.WriteEndArray();
        return Finish();
    }

    private void Reset()
    {
        _buffer.ResetWrittenCount();
        _writer.Reset(_buffer);
    }

    private byte[] Finish()
    {
        _writer.Flush();
        return _buffer.WrittenSpan.ToArray();
    }

    public void Dispose() => _writer.Dispose();
}

/// <summary>
/// Reads the JSON columns back straight from their UTF-8 bytes. Stored features were validated when they came in
/// (under whatever limits were then in force), so they are not validated again.
/// </summary>
internal static class StoredJson
{
    public static readonly JsonEncodedText Id = JsonEncodedText.Encode("id");
    public static readonly JsonEncodedText FeaturesName = JsonEncodedText.Encode("features");
    public static readonly JsonEncodedText ActionId = JsonEncodedText.Encode("actionId");
    public static readonly JsonEncodedText Probability = JsonEncodedText.Encode("probability");

    public static Features ReadFeatures(ReadOnlySpan<byte> utf8, string column)
    {
        var reader = new Utf8JsonReader(utf8);
        Next(ref reader, column);
        return ReadFeatures(ref reader, column);
    }

    public static ActionCandidate[] ReadActions(ReadOnlySpan<byte> utf8)
    {
        const string column = "decisions.actions";
        var reader = new Utf8JsonReader(utf8);
        Next(ref reader, column);
        Expect(ref reader, JsonTokenType.StartArray, column);
        var actions = new List<ActionCandidate>();
        while (Next(ref reader, column) == JsonTokenType.StartObject)
        {
            string? id = null;
            Features? features = null;
            while (Next(ref reader, column) == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("id"u8))
                {
                    Next(ref reader, column);
                    id = ReadString(ref reader, column);
                }
                else if (reader.ValueTextEquals("features"u8))
                {
                    Next(ref reader, column);
                    features = ReadFeatures(ref reader, column);
                }
                else
                {
                    Next(ref reader, column);
                    reader.Skip();
                }
            }
            actions.Add(new ActionCandidate(id ?? throw Corrupt(column, "an action without an id"), features));
        }
        Expect(ref reader, JsonTokenType.EndArray, column);
        return [.. actions];
    }

    public static RankedAction[] ReadRanking(ReadOnlySpan<byte> utf8)
    {
        const string column = "decisions.ranking";
        var reader = new Utf8JsonReader(utf8);
        Next(ref reader, column);
        Expect(ref reader, JsonTokenType.StartArray, column);
        var ranking = new List<RankedAction>();
        while (Next(ref reader, column) == JsonTokenType.StartObject)
        {
            string? id = null;
            double? probability = null;
            while (Next(ref reader, column) == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("actionId"u8))
                {
                    Next(ref reader, column);
                    id = ReadString(ref reader, column);
                }
                else if (reader.ValueTextEquals("probability"u8))
                {
                    Next(ref reader, column);
                    Expect(ref reader, JsonTokenType.Number, column);
                    probability = reader.GetDouble();
                }
                else
                {
                    Next(ref reader, column);
                    reader.Skip();
                }
            }
            ranking.Add(new RankedAction(
                id ?? throw Corrupt(column, "an entry without an actionId"),
                probability ?? throw Corrupt(column, "an entry without a probability")));
        }
        Expect(ref reader, JsonTokenType.EndArray, column);
        return [.. ranking];
    }

    private static Features ReadFeatures(ref Utf8JsonReader reader, string column)
    {
        var features = new Features();
        if (reader.TokenType == JsonTokenType.Null)
        {
            return features;
        }
        Expect(ref reader, JsonTokenType.StartObject, column);
        while (Next(ref reader, column) == JsonTokenType.PropertyName)
        {
            var namespaceName = reader.GetString()!;
            Next(ref reader, column);
            Expect(ref reader, JsonTokenType.StartObject, column);
            var featureNamespace = new FeatureNamespace();
            while (Next(ref reader, column) == JsonTokenType.PropertyName)
            {
                var name = reader.GetString()!;
                featureNamespace.Add(name, Next(ref reader, column) switch
                {
                    JsonTokenType.Number => FeatureValue.FromNumber(reader.GetDouble()),
                    JsonTokenType.String => FeatureValue.FromString(reader.GetString()!),
                    JsonTokenType.True => FeatureValue.FromBoolean(true),
                    JsonTokenType.False => FeatureValue.FromBoolean(false),
                    JsonTokenType.StartArray => ReadStrings(ref reader, column),
                    var other => throw Corrupt(column, $"a feature value of kind {other}"),
                });
            }
            features.Add(namespaceName, featureNamespace);
        }
        Expect(ref reader, JsonTokenType.EndObject, column);
        return features;
    }

    private static FeatureValue ReadStrings(ref Utf8JsonReader reader, string column)
    {
        var strings = new List<string>();
        while (Next(ref reader, column) == JsonTokenType.String)
        {
            strings.Add(reader.GetString()!);
        }
        Expect(ref reader, JsonTokenType.EndArray, column);
        return FeatureValue.FromStrings(strings);
    }

    private static string ReadString(ref Utf8JsonReader reader, string column)
    {
        Expect(ref reader, JsonTokenType.String, column);
        return reader.GetString()!;
    }

    private static JsonTokenType Next(ref Utf8JsonReader reader, string column)
    {
        try
        {
            if (!reader.Read())
            {
                throw Corrupt(column, "truncated JSON");
            }
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"The stored {column} column holds invalid JSON: {ex.Message}", ex);
        }
        return reader.TokenType;
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType expected, string column)
    {
        if (reader.TokenType != expected)
        {
            throw Corrupt(column, $"{reader.TokenType} where {expected} belongs");
        }
    }

    public static InvalidDataException Corrupt(string column, string problem)
        => new($"The stored {column} column holds {problem}.");
}

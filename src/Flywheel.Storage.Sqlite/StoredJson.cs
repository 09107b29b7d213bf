using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Flywheel.Core;

namespace Flywheel.Storage.Sqlite;

/// <summary>
/// The JSON columns of the decisions table in the wire format: context features, candidate actions
/// (<c>[{"id","features"}]</c>) and the ranking (<c>[{"actionId","probability"}]</c>). Doubles are written
/// shortest-round-trip, so they read back exactly. The JSON is produced as UTF-8 bytes and bound as a blob that the
/// INSERT casts to TEXT, which skips a round trip through UTF-16 strings.
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

    public byte[] Features(Features features) => Json(features);

    public byte[] Actions(IReadOnlyList<ActionCandidate> actions) => Json(actions);

    public byte[] Ranking(IReadOnlyList<RankedAction> ranking) => Json(ranking);

    private byte[] Json<T>(T value)
    {
        _buffer.ResetWrittenCount();
        _writer.Reset(_buffer);
        FlywheelJson.Write(_writer, value);
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
    public static Features ReadFeatures(ReadOnlySpan<byte> utf8, string column) => Read<Features>(utf8, column);

    public static IReadOnlyList<ActionCandidate> ReadActions(ReadOnlySpan<byte> utf8) => Read<IReadOnlyList<ActionCandidate>>(utf8, "decisions.actions");

    public static IReadOnlyList<RankedAction> ReadRanking(ReadOnlySpan<byte> utf8) => Read<IReadOnlyList<RankedAction>>(utf8, "decisions.ranking");

    public static T Read<T>(ReadOnlySpan<byte> utf8, string column)
    {
        try
        {
            return FlywheelJson.Read<T>(utf8);
        }
        catch (FlywheelValidationException ex)
        {
            throw Corrupt(column, ex.Message);
        }
    }

    public static InvalidDataException Corrupt(string column, string problem)
        => new($"The stored {column} column holds {problem}.");
}

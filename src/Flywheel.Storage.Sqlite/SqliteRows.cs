using Flywheel.Core;
using Microsoft.Data.Sqlite;

namespace Flywheel.Storage.Sqlite;

/// <summary>Turns the rows of <see cref="SqliteSchema"/>'s tables back into records; columns start at an ordinal.</summary>
internal static class SqliteRows
{
    private const string TimeoutClose = "timeout";
    private const string SignalClose = "signal";

    public static DateTimeOffset FromTicks(long utcTicks) => new(utcTicks, TimeSpan.Zero);

    /// <summary>A TEXT column's UTF-8 bytes, without decoding them to a string.</summary>
    public static byte[] Utf8(SqliteDataReader reader, int ordinal) => reader.GetFieldValue<byte[]>(ordinal);

    public static string? NullableString(SqliteDataReader reader, int ordinal)
        => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    public static DecisionRecord ReadDecision(SqliteDataReader reader, int o, string loop) => new()
    {
        Loop = loop,
        DecisionId = reader.GetString(o),
        At = FromTicks(reader.GetInt64(o + 1)),
        UserId = NullableString(reader, o + 2),
        Context = StoredJson.ReadFeatures(Utf8(reader, o + 3), "decisions.context"),
        Actions = StoredJson.ReadActions(Utf8(reader, o + 4)),
        BaselineActionId = NullableString(reader, o + 5),
        ChosenActionId = reader.GetString(o + 6),
        Explored = reader.GetInt64(o + 7) != 0,
        Ranking = StoredJson.ReadRanking(Utf8(reader, o + 8)),
        ModelVersion = reader.GetInt32(o + 9),
        Shadows = reader.IsDBNull(o + 10) ? [] : ReadShadows(Utf8(reader, o + 10)),
        Intervened = reader.GetInt64(o + 11) != 0,
        TimeZone = NullableString(reader, o + 12),
    };

    public static IReadOnlyList<ShadowChoice> ReadShadows(byte[] json) => StoredJson.Read<IReadOnlyList<ShadowChoice>>(json, "decisions.shadows");

    public static SignalRecord ReadSignal(SqliteDataReader reader, int o, string loop) => new()
    {
        Loop = loop,
        SignalId = reader.GetString(o),
        DecisionId = NullableString(reader, o + 1),
        UserId = NullableString(reader, o + 2),
        Type = reader.GetString(o + 3),
        Value = reader.GetDouble(o + 4),
        At = FromTicks(reader.GetInt64(o + 5)),
        ReceivedAt = FromTicks(reader.GetInt64(o + 6)),
        Late = reader.GetInt64(o + 7) != 0,
        Orphaned = reader.GetInt64(o + 8) != 0,
        ActionId = NullableString(reader, o + 9),
        Text = NullableString(reader, o + 10),
    };

    public static RewardRecord ReadReward(SqliteDataReader reader, int o, string loop) => new()
    {
        Loop = loop,
        DecisionId = reader.GetString(o),
        Sequence = reader.GetInt64(o + 1),
        Reward = reader.GetDouble(o + 2),
        SignalCount = reader.GetInt32(o + 3),
        ClosedAt = FromTicks(reader.GetInt64(o + 4)),
        ClosedBy = reader.GetString(o + 5) switch
        {
            TimeoutClose => WindowClose.Timeout,
            SignalClose => WindowClose.Signal,
            var other => throw StoredJson.Corrupt("rewards.closed_by", $"'{other}'"),
        },
        ImplicitSignals = reader.GetInt32(o + 6),
        ExplicitSignals = reader.GetInt32(o + 7),
        Slots = reader.IsDBNull(o + 8) ? null : StoredJson.Read<IReadOnlyList<SlotReward>>(Utf8(reader, o + 8), "rewards.slots"),
    };

    /// <summary>How <c>rewards.closed_by</c> stores <paramref name="close"/>.</summary>
    public static string ClosedBy(WindowClose close) => close switch
    {
        WindowClose.Timeout => TimeoutClose,
        WindowClose.Signal => SignalClose,
        _ => throw new ArgumentOutOfRangeException(nameof(close), close, "Unknown window close."),
    };
}

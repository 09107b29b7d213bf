using Flywheel.Core;
using Microsoft.Data.Sqlite;

namespace Flywheel.Storage.Sqlite;

/// <summary>The commit's prepared statements, bound to the writer connection and re-bound per row.</summary>
internal sealed class SqliteWriteStatements : IDisposable
{
    private readonly StoredJsonWriter _json = new();
    private readonly SqliteCommand _decision;
    private readonly SqliteParameter[] _d;
    private readonly SqliteCommand _signal;
    private readonly SqliteParameter[] _s;
    private readonly SqliteCommand _reward;
    private readonly SqliteParameter[] _r;
    private readonly SqliteCommand _output;
    private readonly SqliteParameter[] _o;

    public SqliteWriteStatements(SqliteConnection connection)
    {
        (_decision, _d) = Prepare(connection, SqliteSchema.InsertDecision,
            ("$loop", SqliteType.Text), ("$decision_id", SqliteType.Text), ("$at", SqliteType.Integer),
            ("$user_id", SqliteType.Text), ("$context", SqliteType.Blob), ("$actions", SqliteType.Blob),
            ("$baseline_action_id", SqliteType.Text), ("$chosen_action_id", SqliteType.Text),
            ("$explored", SqliteType.Integer), ("$ranking", SqliteType.Blob), ("$model_version", SqliteType.Integer),
            ("$shadows", SqliteType.Blob), ("$intervened", SqliteType.Integer), ("$time_zone", SqliteType.Text));
        (_signal, _s) = Prepare(connection, SqliteSchema.InsertSignal,
            ("$loop", SqliteType.Text), ("$signal_id", SqliteType.Text), ("$decision_id", SqliteType.Text),
            ("$user_id", SqliteType.Text), ("$type", SqliteType.Text), ("$value", SqliteType.Real),
            ("$at", SqliteType.Integer), ("$received_at", SqliteType.Integer), ("$late", SqliteType.Integer),
            ("$orphaned", SqliteType.Integer), ("$action_id", SqliteType.Text), ("$text", SqliteType.Text));
        (_reward, _r) = Prepare(connection, SqliteSchema.InsertReward,
            ("$loop", SqliteType.Text), ("$decision_id", SqliteType.Text), ("$seq", SqliteType.Integer),
            ("$reward", SqliteType.Real), ("$signal_count", SqliteType.Integer), ("$closed_at", SqliteType.Integer),
            ("$closed_by", SqliteType.Text), ("$implicit_signals", SqliteType.Integer), ("$explicit_signals", SqliteType.Integer),
            ("$slots", SqliteType.Blob));
        (_output, _o) = Prepare(connection, SqliteSchema.InsertOutput,
            ("$loop", SqliteType.Text), ("$decision_id", SqliteType.Text), ("$text", SqliteType.Text),
            ("$messages", SqliteType.Blob), ("$replaces", SqliteType.Text), ("$recorded_at", SqliteType.Integer));
    }

    private static (SqliteCommand, SqliteParameter[]) Prepare(SqliteConnection connection, string sql, params (string Name, SqliteType Type)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        var bound = new SqliteParameter[parameters.Length];
        for (var i = 0; i < parameters.Length; i++)
        {
            bound[i] = command.Parameters.Add(parameters[i].Name, parameters[i].Type);
        }
        command.Prepare();
        return (command, bound);
    }

    public void Enlist(SqliteTransaction transaction)
    {
        _decision.Transaction = transaction;
        _signal.Transaction = transaction;
        _reward.Transaction = transaction;
        _output.Transaction = transaction;
    }

    public void InsertDecision(DecisionRecord d)
    {
        ArgumentNullException.ThrowIfNull(d);
        _d[0].Value = d.Loop;
        _d[1].Value = d.DecisionId;
        _d[2].Value = d.At.UtcTicks;
        _d[3].Value = (object?)d.UserId ?? DBNull.Value;
        _d[4].Value = _json.Features(d.Context ?? Features.Empty);
        _d[5].Value = _json.Actions(d.Actions ?? []);
        _d[6].Value = (object?)d.BaselineActionId ?? DBNull.Value;
        _d[7].Value = d.ChosenActionId;
        _d[8].Value = d.Explored ? 1L : 0L;
        _d[9].Value = _json.Ranking(d.Ranking ?? []);
        _d[10].Value = (long)d.ModelVersion;
        _d[11].Value = d.Shadows is { Count: > 0 } shadows ? FlywheelJson.ToUtf8(shadows) : DBNull.Value;
        _d[12].Value = d.Intervened ? 1L : 0L;
        _d[13].Value = (object?)d.TimeZone ?? DBNull.Value;
        _decision.ExecuteNonQuery();
    }

    public void InsertSignal(SignalRecord s)
    {
        ArgumentNullException.ThrowIfNull(s);
        _s[0].Value = s.Loop;
        _s[1].Value = s.SignalId;
        _s[2].Value = (object?)s.DecisionId ?? DBNull.Value;
        _s[3].Value = (object?)s.UserId ?? DBNull.Value;
        _s[4].Value = s.Type;
        _s[5].Value = s.Value;
        _s[6].Value = s.At.UtcTicks;
        _s[7].Value = s.ReceivedAt.UtcTicks;
        _s[8].Value = s.Late ? 1L : 0L;
        _s[9].Value = s.Orphaned ? 1L : 0L;
        _s[10].Value = (object?)s.ActionId ?? DBNull.Value;
        _s[11].Value = (object?)s.Text ?? DBNull.Value;
        _signal.ExecuteNonQuery();
    }

    public void InsertReward(RewardRecord r)
    {
        ArgumentNullException.ThrowIfNull(r);
        _r[0].Value = r.Loop;
        _r[1].Value = r.DecisionId;
        _r[2].Value = r.Sequence;
        _r[3].Value = r.Reward;
        _r[4].Value = (long)r.SignalCount;
        _r[5].Value = r.ClosedAt.UtcTicks;
        _r[6].Value = SqliteRows.ClosedBy(r.ClosedBy);
        _r[7].Value = (long)r.ImplicitSignals;
        _r[8].Value = (long)r.ExplicitSignals;
        _r[9].Value = r.Slots is { } slots ? FlywheelJson.ToUtf8(slots) : DBNull.Value;
        _reward.ExecuteNonQuery();
    }

    public void InsertOutput(OutputRecord o)
    {
        ArgumentNullException.ThrowIfNull(o);
        _o[0].Value = o.Loop;
        _o[1].Value = o.DecisionId;
        _o[2].Value = o.Text;
        _o[3].Value = FlywheelJson.ToUtf8(o.Messages);
        _o[4].Value = (object?)o.Replaces ?? DBNull.Value;
        _o[5].Value = o.RecordedAt.UtcTicks;
        _output.ExecuteNonQuery();
    }

    public void Dispose()
    {
        _output.Dispose();
        _decision.Dispose();
        _signal.Dispose();
        _reward.Dispose();
        _json.Dispose();
    }
}

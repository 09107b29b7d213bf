namespace Flywheel.Storage.Sqlite;

/// <summary>The database schema. Times are UTC ticks (INTEGER) so they round-trip exactly.</summary>
internal static class SqliteSchema
{
    /// <summary>The schema version kept in <c>PRAGMA user_version</c>.</summary>
    public const int Version = 10;

    public const string CreateVersion1 = """
        CREATE TABLE IF NOT EXISTS loops (
            id          TEXT    NOT NULL PRIMARY KEY,
            config      TEXT    NOT NULL,
            updated_at  INTEGER NOT NULL
        ) STRICT;

        CREATE TABLE IF NOT EXISTS decisions (
            loop                TEXT    NOT NULL,
            decision_id         TEXT    NOT NULL,
            at                  INTEGER NOT NULL,
            user_id             TEXT,
            context             TEXT    NOT NULL,
            actions             TEXT    NOT NULL,
            baseline_action_id  TEXT,
            chosen_action_id    TEXT    NOT NULL,
            explored            INTEGER NOT NULL,
            ranking             TEXT    NOT NULL,
            model_version       INTEGER NOT NULL,
            PRIMARY KEY (loop, decision_id)
        ) STRICT;

        CREATE TABLE IF NOT EXISTS signals (
            seq          INTEGER PRIMARY KEY,
            loop         TEXT    NOT NULL,
            signal_id    TEXT    NOT NULL,
            decision_id  TEXT,
            user_id      TEXT,
            type         TEXT    NOT NULL,
            value        REAL    NOT NULL,
            at           INTEGER NOT NULL,
            received_at  INTEGER NOT NULL,
            late         INTEGER NOT NULL,
            orphaned     INTEGER NOT NULL,
            UNIQUE (loop, signal_id)
        ) STRICT;

        CREATE INDEX IF NOT EXISTS signals_by_decision ON signals (loop, decision_id);

        CREATE TABLE IF NOT EXISTS rewards (
            loop          TEXT    NOT NULL,
            decision_id   TEXT    NOT NULL,
            seq           INTEGER NOT NULL,
            reward        REAL    NOT NULL,
            signal_count  INTEGER NOT NULL,
            closed_at     INTEGER NOT NULL,
            closed_by     TEXT    NOT NULL,
            PRIMARY KEY (loop, decision_id)
        ) STRICT;

        CREATE UNIQUE INDEX IF NOT EXISTS rewards_by_seq ON rewards (loop, seq);

        CREATE TABLE IF NOT EXISTS snapshots (
            loop             TEXT    NOT NULL PRIMARY KEY,
            version          INTEGER NOT NULL,
            learned_through  INTEGER NOT NULL,
            created_at       INTEGER NOT NULL,
            data             BLOB    NOT NULL
        ) STRICT;
        """;

    /// <summary>
    /// Version 2: the model registry (records as JSON, weights as a model snapshot), the turn ledger, and each
    /// decision's shadow choices (JSON, null without shadows).
    /// </summary>
    public const string CreateVersion2 = """
        ALTER TABLE decisions ADD COLUMN shadows TEXT;

        CREATE TABLE IF NOT EXISTS models (
            loop     TEXT    NOT NULL,
            version  INTEGER NOT NULL,
            json     TEXT    NOT NULL,
            data     BLOB,
            PRIMARY KEY (loop, version)
        ) STRICT;

        CREATE TABLE IF NOT EXISTS turns (
            loop     TEXT    NOT NULL,
            number   INTEGER NOT NULL,
            json     TEXT    NOT NULL,
            PRIMARY KEY (loop, number)
        ) STRICT;
        """;

    /// <summary>
    /// Version 3: each reward counts its implicit and explicit signals (the health report's capture split). Rewards
    /// written before are counted from their stored signals by each loop's config.
    /// </summary>
    public const string CreateVersion3 = """
        ALTER TABLE rewards ADD COLUMN implicit_signals INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE rewards ADD COLUMN explicit_signals INTEGER NOT NULL DEFAULT 0;

        -- One grouped pass over the signals, each type's kind read once from its loop's config; a type the config no
        -- longer declares counts as neither kind, as the joiner counts it.
        CREATE TEMP TABLE signal_kinds AS
            SELECT l.id AS loop, j.key AS type, json_extract(j.value, '$.kind') AS kind
            FROM loops AS l, json_each(l.config, '$.signals') AS j;

        UPDATE rewards SET implicit_signals = c.implicit_count, explicit_signals = c.explicit_count
        FROM (
            SELECT s.loop, s.decision_id,
                   SUM(CASE WHEN k.kind = 'implicit' THEN 1 ELSE 0 END) AS implicit_count,
                   SUM(CASE WHEN k.kind = 'explicit' THEN 1 ELSE 0 END) AS explicit_count
            FROM signals AS s LEFT JOIN signal_kinds AS k ON k.loop = s.loop AND k.type = s.type
            WHERE s.late = 0 AND s.decision_id IS NOT NULL
            GROUP BY s.loop, s.decision_id
        ) AS c
        WHERE rewards.loop = c.loop AND rewards.decision_id = c.decision_id;

        DROP TABLE signal_kinds;
        """;

    /// <summary>
    /// Version 4: indexes for the health report's reads. Decisions by loop in log (rowid) order, so a loop's newest
    /// decisions are found without sorting the log; user-level signals (no decision id) as a covering partial index;
    /// late and orphaned signals as partial indexes, so counting them reads only them.
    /// </summary>
    public const string CreateVersion4 = """
        CREATE INDEX IF NOT EXISTS decisions_by_loop ON decisions (loop);
        CREATE INDEX IF NOT EXISTS signals_user_visits ON signals (loop, seq, user_id, at) WHERE decision_id IS NULL AND user_id IS NOT NULL;
        CREATE INDEX IF NOT EXISTS signals_late ON signals (loop) WHERE late = 1;
        CREATE INDEX IF NOT EXISTS signals_orphaned ON signals (loop) WHERE orphaned = 1;
        """;

    /// <summary>
    /// Version 5: each decision's outcome as a narrow row (when, for whom, which model, whether explored, and once its
    /// window closes the reward and its signal counts), clustered by loop and decision time. The health report reads
    /// a million of them in well under a second; from the decisions themselves it had to step over each row's JSON and
    /// probe the rewards twice per decision. Triggers keep it in step with every write, so no write path can forget
    /// it. Keyed by time and decision id rather than rowid, which VACUUM may renumber.
    /// </summary>
    public static readonly string[] CreateVersion5 =
    [
        """
        CREATE TABLE IF NOT EXISTS outcomes (
            loop              TEXT    NOT NULL,
            at                INTEGER NOT NULL,
            decision_id       TEXT    NOT NULL,
            user_id           TEXT,
            model_version     INTEGER NOT NULL,
            explored          INTEGER NOT NULL,
            seq               INTEGER,
            reward            REAL,
            closed_at         INTEGER,
            signal_count      INTEGER,
            implicit_signals  INTEGER,
            explicit_signals  INTEGER,
            PRIMARY KEY (loop, at, decision_id)
        ) STRICT, WITHOUT ROWID
        """,
        """
        INSERT INTO outcomes (loop, at, decision_id, user_id, model_version, explored, seq, reward, closed_at, signal_count, implicit_signals, explicit_signals)
        SELECT d.loop, d.at, d.decision_id, d.user_id, d.model_version, d.explored,
               r.seq, r.reward, r.closed_at, r.signal_count, r.implicit_signals, r.explicit_signals
        FROM decisions AS d LEFT JOIN rewards AS r ON r.loop = d.loop AND r.decision_id = d.decision_id
        ORDER BY d.loop, d.at, d.decision_id
        """,
        """
        CREATE TRIGGER IF NOT EXISTS outcomes_on_decision AFTER INSERT ON decisions BEGIN
            INSERT INTO outcomes (loop, at, decision_id, user_id, model_version, explored)
            VALUES (new.loop, new.at, new.decision_id, new.user_id, new.model_version, new.explored);
        END
        """,
        """
        CREATE TRIGGER IF NOT EXISTS outcomes_on_reward AFTER INSERT ON rewards BEGIN
            UPDATE outcomes SET seq = new.seq, reward = new.reward, closed_at = new.closed_at, signal_count = new.signal_count,
                                implicit_signals = new.implicit_signals, explicit_signals = new.explicit_signals
            WHERE loop = new.loop AND decision_id = new.decision_id
              AND at = (SELECT d.at FROM decisions AS d WHERE d.loop = new.loop AND d.decision_id = new.decision_id);
        END
        """,
        """
        CREATE TRIGGER IF NOT EXISTS outcomes_on_decision_deleted AFTER DELETE ON decisions BEGIN
            DELETE FROM outcomes WHERE loop = old.loop AND at = old.at AND decision_id = old.decision_id;
        END
        """,
    ];

    /// <summary>
    /// Version 6: API keys (docs/security.md). Only each key's SHA-256 is kept, never the key; a revoked key keeps its
    /// row, so authentication stays on once a key has existed.
    /// </summary>
    public const string CreateVersion6 = """
        CREATE TABLE IF NOT EXISTS api_keys (
            id          TEXT    NOT NULL PRIMARY KEY,
            hash        BLOB    NOT NULL,
            scopes      TEXT    NOT NULL,
            loop        TEXT,
            hint        TEXT    NOT NULL,
            created_at  INTEGER NOT NULL,
            revoked_at  INTEGER
        ) STRICT;
        """;

    /// <summary>
    /// Version 7: the erasure audit trail (when and how much, never whom), and each loop's highest reward sequence at
    /// the last erasure, so deleting the newest rewards never hands their sequence numbers out again.
    /// </summary>
    public const string CreateVersion7 = """
        CREATE TABLE IF NOT EXISTS erasures (
            seq        INTEGER PRIMARY KEY,
            erased_at  INTEGER NOT NULL,
            decisions  INTEGER NOT NULL,
            signals    INTEGER NOT NULL,
            rewards    INTEGER NOT NULL
        ) STRICT;

        CREATE TABLE IF NOT EXISTS reward_marks (
            loop      TEXT    NOT NULL PRIMARY KEY,
            last_seq  INTEGER NOT NULL
        ) STRICT;
        """;

    /// <summary>
    /// Version 8: rank loops (docs/loop-config.md, "Rankings"). Whether a decision's ranking was shuffled to measure
    /// position bias, the served action a signal names, and each slot's reward (JSON, null for choose loops).
    /// </summary>
    public const string CreateVersion8 = """
        ALTER TABLE decisions ADD COLUMN intervened INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE signals ADD COLUMN action_id TEXT;
        ALTER TABLE rewards ADD COLUMN slots TEXT;
        """;

    /// <summary>Version 9: ability loops (docs/ability.md). The user's time zone a decision gave, by which streaks count days.</summary>
    public const string CreateVersion9 = """
        ALTER TABLE decisions ADD COLUMN time_zone TEXT;
        """;

    /// <summary>
    /// Version 10: generation loops (docs/generation.md). Each decision's output with the prompt that produced it (JSON)
    /// and the decision it replaced, and the final text an edit carries.
    /// </summary>
    public const string CreateVersion10 = """
        ALTER TABLE signals ADD COLUMN text TEXT;

        CREATE TABLE IF NOT EXISTS outputs (
            loop         TEXT    NOT NULL,
            decision_id  TEXT    NOT NULL,
            text         TEXT    NOT NULL,
            messages     TEXT    NOT NULL,
            replaces     TEXT,
            recorded_at  INTEGER NOT NULL,
            PRIMARY KEY (loop, decision_id)
        ) STRICT;
        """;

    /// <summary>Decision columns as read by <c>ReadDecision</c>; the table is aliased <c>d</c>.</summary>
    public const string DecisionColumns =
        "d.decision_id, d.at, d.user_id, d.context, d.actions, d.baseline_action_id, d.chosen_action_id, d.explored, d.ranking, d.model_version, d.shadows, d.intervened, d.time_zone";

    public const int DecisionColumnCount = 13;

    /// <summary>Signal columns as read by <c>ReadSignal</c>; the table is aliased <c>s</c>.</summary>
    public const string SignalColumns =
        "s.signal_id, s.decision_id, s.user_id, s.type, s.value, s.at, s.received_at, s.late, s.orphaned, s.action_id, s.text";

    /// <summary>Reward columns as read by <c>ReadReward</c>; the table is aliased <c>r</c>.</summary>
    public const string RewardColumns =
        "r.decision_id, r.seq, r.reward, r.signal_count, r.closed_at, r.closed_by, r.implicit_signals, r.explicit_signals, r.slots";

    public const int RewardColumnCount = 9;

    /// <summary>The JSON columns arrive as UTF-8 blobs and are stored as TEXT.</summary>
    public const string InsertDecision = """
        INSERT INTO decisions (loop, decision_id, at, user_id, context, actions, baseline_action_id, chosen_action_id, explored, ranking, model_version, shadows, intervened, time_zone)
        VALUES ($loop, $decision_id, $at, $user_id, CAST($context AS TEXT), CAST($actions AS TEXT), $baseline_action_id, $chosen_action_id, $explored,
                CAST($ranking AS TEXT), $model_version, CAST($shadows AS TEXT), $intervened, $time_zone)
        """;

    public const string InsertSignal = """
        INSERT INTO signals (loop, signal_id, decision_id, user_id, type, value, at, received_at, late, orphaned, action_id, text)
        VALUES ($loop, $signal_id, $decision_id, $user_id, $type, $value, $at, $received_at, $late, $orphaned, $action_id, $text)
        """;

    public const string InsertOutput = """
        INSERT INTO outputs (loop, decision_id, text, messages, replaces, recorded_at)
        VALUES ($loop, $decision_id, $text, CAST($messages AS TEXT), $replaces, $recorded_at)
        """;

    public const string InsertReward = """
        INSERT INTO rewards (loop, decision_id, seq, reward, signal_count, closed_at, closed_by, implicit_signals, explicit_signals, slots)
        VALUES ($loop, $decision_id, $seq, $reward, $signal_count, $closed_at, $closed_by, $implicit_signals, $explicit_signals, CAST($slots AS TEXT))
        """;
}

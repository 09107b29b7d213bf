namespace Flywheel.Storage.Sqlite;

/// <summary>How hard a commit works to survive a crash.</summary>
public enum SqliteDurability
{
    /// <summary>
    /// <c>synchronous=NORMAL</c> in WAL mode: a commit survives the process crashing, but the last commits before a
    /// power loss or operating-system crash may roll back. The database never corrupts. The default.
    /// </summary>
    Process,

    /// <summary><c>synchronous=FULL</c>: every commit is synced to disk before it returns, so it survives power loss.</summary>
    Power,
}

/// <summary>Where and how <see cref="SqliteFlywheelStore"/> keeps its file.</summary>
public sealed class SqliteStoreOptions
{
    /// <summary>The folder holding the database; created when missing. <value>Default <c>./flywheel-data</c>.</value></summary>
    public string DataDirectory { get; set; } = "./flywheel-data";

    /// <summary>The database file's name inside <see cref="DataDirectory"/>. <value>Default <c>flywheel.db</c>.</value></summary>
    public string FileName { get; set; } = "flywheel.db";

    /// <summary>Crash safety of commits. <value>Default <see cref="SqliteDurability.Process"/>.</value></summary>
    public SqliteDurability Durability { get; set; } = SqliteDurability.Process;

    /// <summary>How long a statement waits for a lock held by another connection. <value>Default 5 seconds.</value></summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The clock that stamps loop updates. <value>Default <see cref="TimeProvider.System"/>.</value></summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// Whether opening the store runs SQLite's quick check over the whole file and refuses a corrupt one (about a
    /// second per gigabyte). <value>Default true.</value>
    /// </summary>
    public bool CheckIntegrityOnOpen { get; set; } = true;

    /// <summary>
    /// Whether the store takes the database's process lock, refusing to open while another process holds it. Only a
    /// short-lived tool that touches tables the engine never writes (<c>flywheel keys</c>) opens without it, so that
    /// keys can be created and revoked while a server runs. <value>Default true.</value>
    /// </summary>
    public bool TakeDirectoryLock { get; set; } = true;

    /// <summary>The full path of the database file.</summary>
    public string DatabasePath => Path.GetFullPath(Path.Combine(DataDirectory, FileName));

    /// <summary>The WAL size past which the checkpointer resets the log (tests lower it). <value>Default 64 MiB.</value></summary>
    internal long WalLimitBytes { get; set; } = 64L << 20;

    /// <summary>
    /// Rows per read transaction of the long streaming reads (rewards, outcomes, visits); tests lower it to cross
    /// chunk boundaries. <value>Default 4,096.</value>
    /// </summary>
    internal int ReadChunkRows { get; set; } = 4096;

    /// <summary>Whether a background connection checkpoints the WAL (tests that drive it themselves turn it off). <value>Default true.</value></summary>
    internal bool BackgroundCheckpoints { get; set; } = true;
}

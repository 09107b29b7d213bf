using Flywheel.Core;
using Flywheel.Storage.Sqlite;

namespace Flywheel.Server;

/// <summary>Settings of a Flywheel HTTP server.</summary>
public sealed class FlywheelServerOptions
{
    /// <summary>Where the SQLite store keeps its file. <value>Default <c>./flywheel-data</c>.</value></summary>
    public string DataDirectory { get; set; } = "./flywheel-data";

    /// <summary>The URLs to listen on, separated by ';'. <value>Default <c>http://127.0.0.1:5005</c>.</value></summary>
    public string Urls { get; set; } = "http://127.0.0.1:5005";

    /// <summary>How far an acknowledgement goes (DESIGN §5). <value>Default <see cref="SqliteDurability.Process"/>.</value></summary>
    public SqliteDurability Durability { get; set; } = SqliteDurability.Process;

    /// <summary>Largest request body accepted; larger ones answer 413. <value>Default 8 MiB.</value></summary>
    public long MaxRequestBodyBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>Size limits of decisions and signal batches.</summary>
    public FlywheelLimits Limits { get; set; } = new();

    /// <summary>The clock; tests pass a fake one. <value>Default <see cref="TimeProvider.System"/>.</value></summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>The promise an acknowledgement makes under <see cref="Durability"/>, for logs and docs.</summary>
    public string DurabilityPromise => Durability == SqliteDurability.Power
        ? "power: every acknowledged event is fsynced (synchronous=FULL) and survives power loss"
        : "process: every acknowledged event survives any process crash (WAL, synchronous=NORMAL); the last commits may be lost on power loss";
}

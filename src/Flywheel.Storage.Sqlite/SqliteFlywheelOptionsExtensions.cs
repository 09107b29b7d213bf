using Flywheel.Engine;
using Flywheel.Storage.Sqlite;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Selects the embedded SQLite store.</summary>
public static class SqliteFlywheelOptionsExtensions
{
    /// <summary>
    /// Keeps everything in one SQLite file under <paramref name="dataDirectory"/>. <paramref name="durability"/> says how
    /// far an acknowledgement goes: <see cref="SqliteDurability.Process"/> survives any process crash,
    /// <see cref="SqliteDurability.Power"/> also survives power loss (an fsync per group commit).
    /// </summary>
    public static FlywheelOptions UseSqlite(this FlywheelOptions options, string dataDirectory, SqliteDurability durability = SqliteDurability.Process)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        options.StoreFactory = services => new SqliteFlywheelStore(new SqliteStoreOptions
        {
            DataDirectory = dataDirectory,
            Durability = durability,
            TimeProvider = services?.GetService(typeof(TimeProvider)) as TimeProvider ?? TimeProvider.System,
        });
        return options;
    }
}

using Flywheel.Core;
using Flywheel.Storage.Sqlite;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Selects the embedded SQLite store, on the <c>AddFlywheel</c> builder or on the engine's options.</summary>
public static class SqliteFlywheelBuilderExtensions
{
    /// <summary>
    /// Keeps everything in one SQLite file under <paramref name="dataDirectory"/>. <paramref name="durability"/> says how
    /// far an acknowledgement goes: <see cref="SqliteDurability.Process"/> survives any process crash,
    /// <see cref="SqliteDurability.Power"/> also survives power loss (an fsync per group commit).
    /// </summary>
    public static T UseSqlite<T>(this T selector, string dataDirectory, SqliteDurability durability = SqliteDurability.Process)
        where T : IFlywheelStoreSelector
        => selector.UseSqlite(dataDirectory, o => o.Durability = durability);

    /// <summary>Keeps everything in one SQLite file under <paramref name="dataDirectory"/>, with more settings in <paramref name="configure"/>.</summary>
    public static T UseSqlite<T>(this T selector, string dataDirectory, Action<SqliteStoreOptions> configure)
        where T : IFlywheelStoreSelector
    {
        ArgumentNullException.ThrowIfNull(selector);
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        ArgumentNullException.ThrowIfNull(configure);
        selector.UseStore(services =>
        {
            var options = new SqliteStoreOptions
            {
                DataDirectory = dataDirectory,
                TimeProvider = services?.GetService(typeof(TimeProvider)) as TimeProvider ?? TimeProvider.System,
            };
            configure(options);
            return new SqliteFlywheelStore(options);
        });
        return selector;
    }
}

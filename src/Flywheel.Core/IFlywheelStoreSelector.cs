namespace Flywheel.Core;

/// <summary>
/// Where a store package plugs its store in: the engine's options and the builder that <c>services.AddFlywheel(...)</c>
/// returns both implement it, so a package extends this interface alone (<c>.UseSqlite(dir)</c>) and depends on
/// <c>Flywheel.Core</c> only.
/// </summary>
public interface IFlywheelStoreSelector
{
    /// <summary>
    /// Chooses the store: <paramref name="factory"/> creates it when the engine starts, given the application's services
    /// (null without dependency injection). The engine initializes and disposes the store it creates.
    /// </summary>
    void UseStore(Func<IServiceProvider?, IFlywheelStore> factory);
}

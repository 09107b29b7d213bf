using Flywheel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Flywheel.Server;

/// <summary>Settings of a Flywheel HTTP server.</summary>
public sealed class FlywheelServerOptions
{
    /// <summary>
    /// Where the default store (SQLite, process durability) keeps its file when <see cref="Store"/> is not set.
    /// <value>Default <c>./flywheel-data</c>.</value>
    /// </summary>
    public string DataDirectory { get; set; } = "./flywheel-data";

    /// <summary>
    /// Chooses the store on the engine's builder, such as <c>b => b.UseSqlite(dir, SqliteDurability.Power)</c>; the
    /// store says where its data lives and what an acknowledgement promises. <value>Default: SQLite in
    /// <see cref="DataDirectory"/>.</value>
    /// </summary>
    public Action<FlywheelBuilder>? Store { get; set; }

    /// <summary>The URLs to listen on, separated by ';'. <value>Default <c>http://127.0.0.1:5005</c>.</value></summary>
    public string Urls { get; set; } = "http://127.0.0.1:5005";

    /// <summary>Largest request body accepted; larger ones answer 413. <value>Default 8 MiB.</value></summary>
    public long MaxRequestBodyBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>Size limits of decisions and signal batches.</summary>
    public FlywheelLimits Limits { get; set; } = new();

    /// <summary>The clock; tests pass a fake one. <value>Default <see cref="TimeProvider.System"/>.</value></summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// Host names a request's <c>Host</c> header may carry; any other answers 400 (a web page that rebinds its own DNS
    /// name to this server still sends its own name). <c>*</c> allows any. <value>Default empty: localhost, 127.0.0.1,
    /// [::1] and the host names of <see cref="Urls"/> (not wildcards such as 0.0.0.0).</value>
    /// </summary>
    public IList<string> AllowedHosts { get; } = [];

    /// <summary>
    /// Origins (such as <c>https://app.example.com</c>) whose browser scripts may call the API; each call still needs
    /// its key. <value>Default empty: no CORS headers, so browsers keep other sites' scripts out.</value>
    /// </summary>
    public IList<string> CorsOrigins { get; } = [];

    /// <summary>
    /// Lets the server listen on a non-loopback address while the store holds no API key, so that anyone who can reach
    /// it may use the API. <value>Default false: such a start is refused.</value>
    /// </summary>
    public bool Insecure { get; set; }

    /// <summary>
    /// Where API keys are looked up. <value>Default null: the engine's store, when it keeps keys (the SQLite store
    /// does); a store without keys leaves the API open.</value>
    /// </summary>
    public IApiKeyStore? ApiKeyStore { get; set; }
}

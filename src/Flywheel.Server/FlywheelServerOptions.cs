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

    /// <summary>
    /// Most open connections; further ones are closed by the server at once. Idle keep-alive connections count, so a
    /// flood of idle connections cannot exhaust memory. <value>Default 4,096.</value>
    /// </summary>
    public int MaxConnections { get; set; } = 4_096;

    /// <summary>
    /// Most requests in progress at once (not counting <c>/healthz</c>, <c>/readyz</c> and <c>/metrics</c>); one more is
    /// answered 503 with <c>Retry-After</c> before its body is read. <value>Default 256.</value>
    /// </summary>
    public int MaxConcurrentRequests { get; set; } = 256;

    /// <summary>
    /// Most request-body bytes held by the requests in progress (each reserves its <c>Content-Length</c>, or
    /// <see cref="MaxRequestBodyBytes"/> when the length is not declared); a request that would exceed it is answered 503
    /// with <c>Retry-After</c>. At least <see cref="MaxRequestBodyBytes"/>. <value>Default 64 MiB.</value>
    /// </summary>
    public long MaxInFlightBodyBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>How long an idle keep-alive connection stays open. <value>Default 30 s.</value></summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a client may take to send a request's headers before the connection is closed. <value>Default 10 s.</value></summary>
    public TimeSpan RequestHeadersTimeout { get; set; } = TimeSpan.FromSeconds(10);

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

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range (in one line).</summary>
    public void Validate()
    {
        Check(MaxRequestBodyBytes >= 1, nameof(MaxRequestBodyBytes), MaxRequestBodyBytes, "must be at least 1");
        Check(MaxConnections >= 1, nameof(MaxConnections), MaxConnections, "must be at least 1 (serve --max-connections)");
        Check(MaxConcurrentRequests >= 1, nameof(MaxConcurrentRequests), MaxConcurrentRequests, "must be at least 1 (serve --max-concurrent-requests)");
        Check(MaxInFlightBodyBytes >= MaxRequestBodyBytes, nameof(MaxInFlightBodyBytes), MaxInFlightBodyBytes,
            $"must be at least MaxRequestBodyBytes ({MaxRequestBodyBytes}), or the largest request could never be admitted (serve --max-in-flight-bytes)");
        Check(KeepAliveTimeout > TimeSpan.Zero, nameof(KeepAliveTimeout), KeepAliveTimeout, "must be positive");
        Check(RequestHeadersTimeout > TimeSpan.Zero, nameof(RequestHeadersTimeout), RequestHeadersTimeout, "must be positive");
    }

    private static void Check(bool ok, string name, object value, string rule)
    {
        if (!ok)
        {
            throw new ArgumentException($"{name} is {value}; it {rule}");
        }
    }
}

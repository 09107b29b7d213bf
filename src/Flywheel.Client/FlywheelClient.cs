using System.Text;
using System.Text.Json;
using Flywheel.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flywheel.Client;

/// <summary>
/// A client of a Flywheel server's <c>/v1</c> HTTP API, on a typed <see cref="HttpClient"/>. Register it
/// with <c>services.AddFlywheelClient(o =&gt; o.BaseAddress = …)</c>, or create it over an <see cref="HttpClient"/> you own.
/// </summary>
/// <remarks>
/// <para>Thread-safe. Every call runs through the client's resilience pipeline (Polly, from
/// Microsoft.Extensions.Http.Resilience, built from <see cref="FlywheelClientOptions"/>), which retries transient
/// failures (network errors, timeouts, 408, 429, 500, 502, 503, 504) with exponential backoff, honouring <c>Retry-After</c>. Retries are safe: <see cref="DecideAsync"/> and
/// <see cref="SignalAsync(string, IReadOnlyList{SignalInput}, CancellationToken)"/> choose the decision and signal
/// ids before the first attempt, and the server stores each id once. Calls that are not idempotent
/// (<see cref="RunTurnAsync"/>, <see cref="PromoteAsync"/>, <see cref="RollbackAsync"/>) retry only failures that prove
/// the server did not act: no connection, 429 or 503.</para>
/// <para>Refusals come back as the exceptions the engine throws in process: <see cref="FlywheelValidationException"/>
/// (as <see cref="FlywheelApiValidationException"/>, with the offending field) and
/// <see cref="FlywheelOverloadedException"/>; anything else is a <see cref="FlywheelApiException"/>.</para>
/// </remarks>
public sealed partial class FlywheelClient
{
    /// <summary>The name of the <see cref="HttpClient"/> that <c>AddFlywheelClient</c> registers.</summary>
    public const string HttpClientName = "Flywheel";

    private readonly Uri _baseAddress;
    private readonly ILogger _logger;
    private readonly FlywheelTransport _transport;

    /// <summary>Creates a client over <paramref name="httpClient"/>, which the caller keeps owning.</summary>
    /// <param name="httpClient">
    /// The HTTP client. Its <see cref="HttpClient.Timeout"/> still applies on top of <see cref="FlywheelClientOptions.Timeout"/>.
    /// Give it no retry or resilience handler of its own: the client's pipeline already retries, by rules that depend
    /// on the call, and a second layer would multiply the attempts.
    /// </param>
    /// <param name="options">The settings; null for the defaults (then <paramref name="httpClient"/> must have a base address).</param>
    /// <param name="logger">Where retries and failed batches are logged; null for none.</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    /// <exception cref="InvalidOperationException">Neither the options nor the HTTP client name the server.</exception>
    public FlywheelClient(HttpClient httpClient, FlywheelClientOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        options ??= new FlywheelClientOptions();
        options.Validate();
        Options = options;
        _logger = logger ?? NullLogger.Instance;
        var address = options.BaseAddress ?? httpClient.BaseAddress
            ?? throw new InvalidOperationException("Set FlywheelClientOptions.BaseAddress (or HttpClient.BaseAddress) to the server's address, such as http://127.0.0.1:5005.");
        _baseAddress = address.AbsoluteUri.EndsWith('/') ? address : new Uri(address.AbsoluteUri + "/");
        _transport = new FlywheelTransport(httpClient, _baseAddress, options, new FlywheelResilience(options, _logger));
    }

    /// <summary>The server's address, ending with a slash; request paths such as <c>v1/loops</c> are relative to it.</summary>
    public Uri BaseAddress => _baseAddress;

    internal FlywheelClientOptions Options { get; }

    internal ILogger Logger => _logger;

    /// <summary>Creates or updates a loop (<c>PUT /v1/loops/{id}</c>).</summary>
    /// <param name="config">The loop's config; its <see cref="LoopConfig.Id"/> names the loop.</param>
    /// <param name="cancellationToken">Cancels the call, retries included.</param>
    /// <returns>The config as the server stored it, defaults filled in.</returns>
    /// <exception cref="FlywheelValidationException">The server refused the config; <see cref="FlywheelValidationException.Field"/> names the field.</exception>
    public async Task<LoopConfig> PutLoopAsync(LoopConfig config, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        var body = FlywheelJson.ToUtf8(config);
        var response = await SendAsync(HttpMethod.Put, LoopPath(config.Id), body, allowNotFound: false, cancellationToken).ConfigureAwait(false);
        return Read(response, c => LoopConfigJson.Parse(c));
    }

    /// <summary>Reads a loop's config (<c>GET /v1/loops/{loop}</c>).</summary>
    /// <param name="loop">The loop's id.</param>
    /// <param name="cancellationToken">Cancels the call, retries included.</param>
    /// <returns>The config, or null when the server has no such loop.</returns>
    public async Task<LoopConfig?> GetLoopAsync(string loop, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(loop);
        var response = await SendAsync(HttpMethod.Get, LoopPath(loop), body: null, allowNotFound: true, cancellationToken).ConfigureAwait(false);
        return response.Status == 404 ? null : Read(response, c => LoopConfigJson.Parse(c));
    }

    /// <summary>Lists every loop (<c>GET /v1/loops</c>).</summary>
    /// <param name="cancellationToken">Cancels the call, retries included.</param>
    /// <returns>The loops' configs, in the server's order (by id).</returns>
    public async Task<IReadOnlyList<LoopConfig>> ListLoopsAsync(CancellationToken cancellationToken = default)
    {
        var response = await SendAsync(HttpMethod.Get, "v1/loops", body: null, allowNotFound: false, cancellationToken).ConfigureAwait(false);
        return Read(response, c => Validated(FlywheelJson.ReadIgnoringUnknown<LoopList>(c).Loops));
    }

    /// <summary>Asks for a decision (<c>POST /v1/loops/{loop}/decide</c>).</summary>
    /// <param name="loop">The loop's id.</param>
    /// <param name="request">
    /// The context and candidate actions. When <see cref="DecideRequest.DecisionId"/> is null the client sets a fresh
    /// version-7 GUID before the first attempt, so every retry carries the same id and the server decides once.
    /// </param>
    /// <param name="cancellationToken">Cancels the call, retries included.</param>
    /// <returns>The decision; its <see cref="Decision.DecisionId"/> is the id to send signals against.</returns>
    /// <exception cref="FlywheelValidationException">
    /// The server refused the request (the loop does not exist: <see cref="ValidationKind.NotFound"/>; the decision id
    /// was already used for another request: <see cref="ValidationKind.Conflict"/> naming <c>decisionId</c>).
    /// </exception>
    /// <exception cref="FlywheelOverloadedException">The server was still overloaded after every retry.</exception>
    public async Task<Decision> DecideAsync(string loop, DecideRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(loop);
        ArgumentNullException.ThrowIfNull(request);
        var withId = request.DecisionId is null ? request with { DecisionId = NewId() } : request;
        var body = FlywheelJson.ToUtf8(withId);
        var response = await SendAsync(HttpMethod.Post, LoopPath(loop) + "/decide", body, allowNotFound: false, cancellationToken).ConfigureAwait(false);
        return Read<Decision>(response);
    }

    /// <summary>Records a batch of signals (<c>POST /v1/loops/{loop}/signals</c>).</summary>
    /// <param name="loop">The loop's id.</param>
    /// <param name="signals">
    /// The signals, at most the server's batch limit (10,000 by default). Signals without a
    /// <see cref="SignalInput.SignalId"/> get a fresh version-7 GUID before the first attempt, so retries never count
    /// a signal twice. For many small sends, prefer a <see cref="FlywheelSignalBatcher"/> (<see cref="CreateBatcher"/>).
    /// </param>
    /// <param name="cancellationToken">Cancels the call, retries included.</param>
    /// <returns>How many signals the server stored, and how many it already had.</returns>
    /// <exception cref="FlywheelValidationException">
    /// The server refused the batch, storing none of it; <see cref="FlywheelValidationException.Field"/> names the signal,
    /// as in <c>signals[3].type</c> (a signal id already used for another signal: <see cref="ValidationKind.Conflict"/>
    /// naming <c>signals[3].signalId</c>).
    /// </exception>
    /// <exception cref="FlywheelOverloadedException">The server was still overloaded after every retry.</exception>
    public async Task<SignalBatchResult> SignalAsync(string loop, IReadOnlyList<SignalInput> signals, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(loop);
        ArgumentNullException.ThrowIfNull(signals);
        if (signals.Count == 0)
        {
            throw new FlywheelValidationException("signals", "must hold at least one signal");
        }
        var withIds = WithIds(signals);
        var body = FlywheelJson.ToUtf8(new SignalBatch(withIds));
        var response = await SendAsync(HttpMethod.Post, LoopPath(loop) + "/signals", body, allowNotFound: false, cancellationToken).ConfigureAwait(false);
        return Read<SignalBatchResult>(response);
    }

    /// <summary>Records one signal; see <see cref="SignalAsync(string, IReadOnlyList{SignalInput}, CancellationToken)"/>.</summary>
    /// <param name="loop">The loop's id.</param>
    /// <param name="signal">The signal; it gets a signal id before the first attempt when it has none.</param>
    /// <param name="cancellationToken">Cancels the call, retries included.</param>
    /// <returns>The outcome: one accepted signal, or one duplicate.</returns>
    public Task<SignalBatchResult> SignalAsync(string loop, SignalInput signal, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(signal);
        return SignalAsync(loop, [signal], cancellationToken);
    }

    /// <summary>Reads one decision with its signals and reward (<c>GET /v1/loops/{loop}/decisions/{decisionId}</c>).</summary>
    /// <param name="loop">The loop's id.</param>
    /// <param name="decisionId">The decision's id.</param>
    /// <param name="cancellationToken">Cancels the call, retries included.</param>
    /// <returns>The audit view, or null when the server has no such loop or decision.</returns>
    /// <remarks>The server does not send a signal's user id; <see cref="SignalRecord.UserId"/> is null in the result.</remarks>
    public async Task<DecisionAudit?> GetDecisionAsync(string loop, string decisionId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(loop);
        ArgumentException.ThrowIfNullOrEmpty(decisionId);
        var response = await SendAsync(HttpMethod.Get, $"{LoopPath(loop)}/decisions/{Uri.EscapeDataString(decisionId)}", body: null, allowNotFound: true, cancellationToken)
            .ConfigureAwait(false);
        return response.Status == 404 ? null : Read<DecisionAudit>(response);
    }

    /// <summary>
    /// Creates a background batcher of signals for one loop, with this client's <see cref="FlywheelClientOptions.BatchSize"/>,
    /// <see cref="FlywheelClientOptions.FlushInterval"/> and <see cref="FlywheelClientOptions.MaxQueuedSignals"/>.
    /// Dispose it (<c>await using</c>) to send what it still holds.
    /// </summary>
    /// <param name="loop">The loop the signals belong to.</param>
    /// <returns>A running batcher.</returns>
    public FlywheelSignalBatcher CreateBatcher(string loop)
    {
        ArgumentException.ThrowIfNullOrEmpty(loop);
        return new FlywheelSignalBatcher(this, loop);
    }

    /// <summary>A fresh id: a version-7 GUID (time-ordered) in the same 32-hex-digit form the engine generates.</summary>
    internal string NewId() => Guid.CreateVersion7(Options.TimeProvider.GetUtcNow()).ToString("N");

    internal IReadOnlyList<SignalInput> WithIds(IReadOnlyList<SignalInput> signals)
    {
        SignalInput[]? copy = null;
        for (var i = 0; i < signals.Count; i++)
        {
            var s = signals[i] ?? throw new ArgumentException($"signals[{i}] is null.", nameof(signals));
            if (s.SignalId is null)
            {
                copy ??= [.. signals];
                copy[i] = s with { SignalId = NewId() };
            }
        }
        return copy ?? signals;
    }

    private static string LoopPath(string loop) => "v1/loops/" + Uri.EscapeDataString(loop);

    // Answers are read leniently: a newer server may add fields.
    private static T Read<T>(Response response) => Read(response, c => FlywheelJson.ReadIgnoringUnknown<T>(c));

    private static IReadOnlyList<LoopConfig> Validated(IReadOnlyList<LoopConfig> loops)
    {
        foreach (var loop in loops)
        {
            loop.Validate();
        }
        return loops;
    }

    private static T Read<T>(Response response, Func<byte[], T> read)
    {
        try
        {
            return read(response.Content);
        }
        catch (Exception ex) when (ex is FlywheelValidationException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            throw new FlywheelApiException(response.Status, null, $"The Flywheel server's answer ({response.Status}) is not in the expected shape: {ex.Message}", ex);
        }
    }
}

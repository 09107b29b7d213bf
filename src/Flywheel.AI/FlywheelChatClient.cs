using System.Runtime.CompilerServices;
using System.Text;
using Flywheel.Client;
using Flywheel.Core;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flywheel.AI;

/// <summary>
/// A chat client that learns (docs/chat-client.md): each call is one decision of a generation loop, whose actions are
/// the <see cref="FlywheelChatOptions.Variants"/>. The chosen variant is applied to the request before the inner client
/// sees it; the decision, loop and variant travel back in the response's (and every streaming update's)
/// <see cref="ChatResponse.AdditionalProperties"/>; the output and the prompt as the model received it are recorded in
/// the background. Add it with <c>builder.UseFlywheel(loop, o =&gt; …)</c>.
/// </summary>
/// <remarks>
/// <para>Flywheel never fails a chat call. When no decision can be had (the engine or server refuses, is down, or takes
/// longer than <see cref="FlywheelChatOptions.DecideTimeout"/>), the call goes on with the first variant, without a
/// decision id, and a warning is logged. Outputs and feedback are queued; a full queue or a refused output is logged
/// and dropped.</para>
/// <para>Thread-safe. Disposing it sends what is still queued (when it owns the queue) and disposes the inner client.</para>
/// </remarks>
public sealed partial class FlywheelChatClient : DelegatingChatClient
{
    private readonly FlywheelConnection _connection;
    private readonly bool _ownsConnection;
    private readonly ChatVariant[] _variants;
    private readonly ActionCandidate[] _actions;
    private readonly Func<IEnumerable<ChatMessage>, ChatOptions?, Features> _context;
    private readonly Func<IEnumerable<ChatMessage>, ChatOptions?, string?>? _userId;
    private readonly SystemPromptMode _systemPromptMode;
    private readonly bool _storeOutputs;
    private readonly TimeSpan _decideTimeout;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    /// <summary>A chat client deciding through an in-process engine.</summary>
    /// <param name="innerClient">The client that calls the model.</param>
    /// <param name="loop">The generation loop's id.</param>
    /// <param name="engine">The engine.</param>
    /// <param name="options">The variants and settings.</param>
    /// <param name="logger">Where fallbacks and failed recordings are logged; null for none.</param>
    /// <exception cref="ArgumentException">No variant, or an invalid or repeated variant id or feature.</exception>
    public FlywheelChatClient(IChatClient innerClient, string loop, IFlywheelEngine engine, FlywheelChatOptions options, ILogger? logger = null)
        : this(innerClient, Connect(loop, engine, options, logger), ownsConnection: true, options, logger)
    {
    }

    /// <summary>A chat client deciding through a remote server.</summary>
    /// <param name="innerClient">The client that calls the model.</param>
    /// <param name="loop">The generation loop's id.</param>
    /// <param name="client">The server's client.</param>
    /// <param name="options">The variants and settings (<see cref="FlywheelChatOptions.Batcher"/> among them).</param>
    /// <param name="logger">Where fallbacks and failed recordings are logged; null for none.</param>
    /// <exception cref="ArgumentException">No variant, or an invalid or repeated variant id or feature, or a batcher of another loop.</exception>
    public FlywheelChatClient(IChatClient innerClient, string loop, FlywheelClient client, FlywheelChatOptions options, ILogger? logger = null)
        : this(innerClient, Connect(loop, client, options), ownsConnection: true, options, logger)
    {
    }

    private FlywheelChatClient(IChatClient innerClient, FlywheelConnection connection, bool ownsConnection, FlywheelChatOptions options, ILogger? logger)
        : base(innerClient)
    {
        _connection = connection;
        _ownsConnection = ownsConnection;
        _variants = [.. options.Variants];
        _actions = BuildActions(_variants);
        _context = options.Context ?? DefaultContext;
        _userId = options.UserId;
        _systemPromptMode = options.SystemPromptMode;
        _storeOutputs = options.StoreOutputs;
        _decideTimeout = options.DecideTimeout;
        _time = options.TimeProvider;
        _logger = logger ?? NullLogger.Instance;
        Feedback = new FlywheelChatFeedback(connection, loopStoresText: options.StoreOutputs, ownsConnection: false);
    }

    /// <summary>The loop each call decides in.</summary>
    public string Loop => _connection.Loop;

    /// <summary>Reports what users did with the responses; also <c>GetService&lt;FlywheelChatFeedback&gt;()</c>.</summary>
    public FlywheelChatFeedback Feedback { get; }

    /// <summary>The variants' actions as sent with each decision: ids and features.</summary>
    public IReadOnlyList<ActionCandidate> Actions => _actions;

    /// <summary>Waits until every output and feedback queued so far is stored (or dropped as refused).</summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>A task that completes when the queue before the call is drained.</returns>
    public Task FlushAsync(CancellationToken cancellationToken = default) => _connection.FlushAsync(cancellationToken);

    /// <inheritdoc />
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var call = await PrepareAsync(messages, options, cancellationToken).ConfigureAwait(false);
        var response = await base.GetResponseAsync(call.Messages, call.Options, cancellationToken).ConfigureAwait(false);
        Tag(response.AdditionalProperties ??= [], call);
        Record(call, response.Text);
        return response;
    }

    /// <inheritdoc />
    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var call = await PrepareAsync(messages, options, cancellationToken).ConfigureAwait(false);
        var text = new StringBuilder();
        var failed = false;
        var updates = base.GetStreamingResponseAsync(call.Messages, call.Options, cancellationToken).GetAsyncEnumerator(cancellationToken);
        try
        {
            while (true)
            {
                bool more;
                try
                {
                    more = await updates.MoveNextAsync().ConfigureAwait(false);
                }
                catch
                {
                    failed = true;
                    throw;
                }
                if (!more)
                {
                    break;
                }
                var update = updates.Current;
                Tag(update.AdditionalProperties ??= [], call);
                text.Append(update.Text);
                yield return update;
            }
        }
        finally
        {
            // Also when the consumer stops early: what was streamed is what the user saw.
            if (!failed)
            {
                Record(call, text.ToString());
            }
            await updates.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public override object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is null && serviceType == typeof(FlywheelChatFeedback) ? Feedback : base.GetService(serviceType, serviceKey);
    }

    /// <summary>
    /// The context used when <see cref="FlywheelChatOptions.Context"/> is null, in the <c>request</c> namespace:
    /// <c>input_chars</c>, the length bucket of the user messages' text (<c>0-99</c>, <c>100-999</c>,
    /// <c>1000-9999</c>, <c>10000+</c>); <c>user_turns</c>, how many user messages; <c>has_system</c>, whether the
    /// request has a system message of its own.
    /// </summary>
    /// <param name="messages">The request's messages.</param>
    /// <param name="options">The request's options.</param>
    /// <returns>The context features.</returns>
    public static Features DefaultContext(IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        ArgumentNullException.ThrowIfNull(messages);
        long chars = 0;
        var turns = 0;
        var hasSystem = options?.Instructions is { Length: > 0 };
        foreach (var m in messages)
        {
            if (m.Role == ChatRole.User)
            {
                turns++;
                chars += m.Text.Length;
            }
            else if (m.Role == ChatRole.System)
            {
                hasSystem = true;
            }
        }
        var bucket = chars switch
        {
            < 100 => "0-99",
            < 1_000 => "100-999",
            < 10_000 => "1000-9999",
            _ => "10000+",
        };
        return new Features { ["request"] = { ["input_chars"] = bucket, ["user_turns"] = turns, ["has_system"] = hasSystem } };
    }

    /// <summary>
    /// A variant's features: its declared <see cref="ChatVariant.Features"/>, and in the <c>variant</c> namespace what
    /// its settings say: <c>model</c>, <c>temperature</c>, <c>max_output_tokens</c>, <c>prompt_chars</c> (the system
    /// prompt's length) and <c>template_chars</c> (the instruction template's), each when set.
    /// </summary>
    /// <param name="variant">The variant.</param>
    /// <returns>Its action features.</returns>
    public static Features ActionFeatures(ChatVariant variant)
    {
        ArgumentNullException.ThrowIfNull(variant);
        var features = new Features();
        var own = features["variant"];
        if (variant.ModelId is { } model)
        {
            own["model"] = model;
        }
        if (variant.Temperature is { } temperature)
        {
            own["temperature"] = Math.Round(temperature, 6);
        }
        if (variant.MaxOutputTokens is { } max)
        {
            own["max_output_tokens"] = max;
        }
        if (variant.SystemPrompt is { } prompt)
        {
            own["prompt_chars"] = prompt.Length;
        }
        if (variant.UserTemplate is { } template)
        {
            own["template_chars"] = template.Length;
        }
        foreach (var (name, ns) in variant.Features ?? Features.Empty)
        {
            var target = features[name];
            foreach (var (key, value) in ns)
            {
                target[key] = value;
            }
        }
        if (own.Count == 0)
        {
            // No settings and nothing declared: the id alone tells the variants apart.
            own["id"] = variant.Id;
        }
        return features;
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing && _ownsConnection)
        {
            _connection.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        base.Dispose(disposing);
    }

    private sealed record Call(ChatVariant Variant, string? DecisionId, string? Replaces, List<ChatMessage> Messages, ChatOptions Options);

    private async ValueTask<Call> PrepareAsync(IEnumerable<ChatMessage> messages, ChatOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(messages);
        cancellationToken.ThrowIfCancellationRequested();
        var list = messages as IReadOnlyCollection<ChatMessage> ?? [.. messages];
        var replaces = options.GetRegenerationOf();
        if (replaces is not null)
        {
            // The user threw the old output away whatever becomes of the new call.
            Enqueue(new SignalInput { DecisionId = replaces, Type = GenerationConfig.RegeneratedSignal });
        }
        var (variant, decisionId) = await DecideAsync(list, options, cancellationToken).ConfigureAwait(false);
        var applied = new List<ChatMessage>(list);
        var copy = options?.Clone() ?? new ChatOptions();
        if (replaces is not null && copy.AdditionalProperties is { } properties)
        {
            // The marker is ours: the model's client should not see it.
            var rest = new AdditionalPropertiesDictionary(properties);
            rest.Remove(FlywheelChatResponseExtensions.RegenerationOfKey);
            copy.AdditionalProperties = rest.Count == 0 ? null : rest;
        }
        Apply(variant, applied, copy);
        return new Call(variant, decisionId, replaces, applied, copy);
    }

    private async ValueTask<(ChatVariant Variant, string? DecisionId)> DecideAsync(IReadOnlyCollection<ChatMessage> messages, ChatOptions? options, CancellationToken cancellationToken)
    {
        try
        {
            var request = new DecideRequest
            {
                UserId = _userId?.Invoke(messages, options),
                Context = _context(messages, options),
                Actions = _actions,
                BaselineActionId = _variants[0].Id,
            };
            using var timer = new CancellationTokenSource(_decideTimeout, _time);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
            var decision = await _connection.DecideAsync(request, timeout.Token).ConfigureAwait(false);
            foreach (var v in _variants)
            {
                if (v.Id == decision.ChosenActionId)
                {
                    return (v, decision.DecisionId);
                }
            }
            throw new InvalidOperationException($"The engine chose '{decision.ChosenActionId}', which is no variant.");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            LogDecideFailed(_logger, ex, Loop, _variants[0].Id);
            return (_variants[0], null);
        }
    }

    private void Apply(ChatVariant variant, List<ChatMessage> messages, ChatOptions options)
    {
        if (variant.UserTemplate is { } template)
        {
            var last = messages.FindLastIndex(m => m.Role == ChatRole.User);
            if (last >= 0)
            {
                messages[last] = new ChatMessage(ChatRole.User, template.Replace("{input}", messages[last].Text, StringComparison.Ordinal));
            }
        }
        if (variant.SystemPrompt is { } prompt)
        {
            if (_systemPromptMode == SystemPromptMode.Replace)
            {
                messages.RemoveAll(m => m.Role == ChatRole.System);
            }
            messages.Insert(0, new ChatMessage(ChatRole.System, prompt));
        }
        if (variant.ModelId is { } model)
        {
            options.ModelId = model;
        }
        if (variant.Temperature is { } temperature)
        {
            options.Temperature = temperature;
        }
        if (variant.MaxOutputTokens is { } max)
        {
            options.MaxOutputTokens = max;
        }
        variant.Configure?.Invoke(messages, options);
    }

    private void Tag(AdditionalPropertiesDictionary properties, Call call)
    {
        properties[FlywheelChatResponseExtensions.LoopKey] = Loop;
        properties[FlywheelChatResponseExtensions.VariantKey] = call.Variant.Id;
        if (call.DecisionId is { } id)
        {
            properties[FlywheelChatResponseExtensions.DecisionIdKey] = id;
        }
    }

    private void Record(Call call, string text)
    {
        if (!_storeOutputs || call.DecisionId is not { } decisionId)
        {
            return;
        }
        var prompt = new List<PromptMessage>(call.Messages.Count + 1);
        if (call.Options.Instructions is { Length: > 0 } instructions)
        {
            prompt.Add(new PromptMessage("system", instructions));
        }
        foreach (var m in call.Messages)
        {
            var role = m.Role.Value;
            if (PromptMessage.Roles.Contains(role))
            {
                prompt.Add(new PromptMessage(role, m.Text));
            }
        }
        var output = new OutputInput { Text = text, Messages = prompt, Replaces = call.Replaces };
        try
        {
            if (!_connection.TryEnqueueOutput(decisionId, output))
            {
                LogQueueFull(_logger, Loop, "output");
            }
        }
        catch (ObjectDisposedException)
        {
            LogQueueFull(_logger, Loop, "output");
        }
    }

    private void Enqueue(SignalInput signal)
    {
        try
        {
            if (!_connection.TryEnqueueSignal(signal))
            {
                LogQueueFull(_logger, Loop, signal.Type);
            }
        }
        catch (ObjectDisposedException)
        {
            LogQueueFull(_logger, Loop, signal.Type);
        }
    }

    private static ActionCandidate[] BuildActions(ChatVariant[] variants)
    {
        if (variants.Length == 0)
        {
            throw new ArgumentException("Declare at least one variant (FlywheelChatOptions.Variants).", "options");
        }
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var actions = new ActionCandidate[variants.Length];
        for (var i = 0; i < variants.Length; i++)
        {
            var variant = variants[i] ?? throw new ArgumentException($"Variants[{i}] is null.", "options");
            if (!FlywheelLimits.Default.IsValidId(variant.Id))
            {
                throw new ArgumentException($"Variants[{i}].Id '{variant.Id}' is not a valid action id.", "options");
            }
            if (!ids.Add(variant.Id))
            {
                throw new ArgumentException($"Variants[{i}].Id '{variant.Id}' is declared twice.", "options");
            }
            var features = ActionFeatures(variant);
            try
            {
                features.Validate($"variants[{i}].features");
            }
            catch (FlywheelValidationException ex)
            {
                throw new ArgumentException($"{ex.Field}: {ex.Problem}", "options", ex);
            }
            actions[i] = new ActionCandidate(variant.Id, features);
        }
        return actions;
    }

    private static EngineConnection Connect(string loop, IFlywheelEngine engine, FlywheelChatOptions options, ILogger? logger)
    {
        ArgumentException.ThrowIfNullOrEmpty(loop);
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(options);
        return new EngineConnection(engine, loop, logger ?? NullLogger.Instance, options.TimeProvider);
    }

    private static RemoteConnection Connect(string loop, FlywheelClient client, FlywheelChatOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(loop);
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Batcher is { } batcher)
        {
            if (batcher.Loop != loop)
            {
                throw new ArgumentException($"The batcher sends to loop '{batcher.Loop}', not '{loop}'.", nameof(options));
            }
            return new RemoteConnection(client, batcher, ownsBatcher: false, options.TimeProvider);
        }
        return new RemoteConnection(client, client.CreateBatcher(loop), ownsBatcher: true, options.TimeProvider);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "No decision from loop {Loop}; the call goes on with the first variant, {Variant}, and is not recorded")]
    private static partial void LogDecideFailed(ILogger logger, Exception exception, string loop, string variant);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The queue of loop {Loop} is full or closed: a {What} is dropped")]
    private static partial void LogQueueFull(ILogger logger, string loop, string what);
}

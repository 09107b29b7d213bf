using Flywheel.Client;
using Flywheel.Core;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flywheel.AI;

/// <summary>
/// Reports what people did with a generated response: kept it, copied it, edited it, regenerated it, rated it. Each
/// report is a signal on the response's decision, queued and sent in the background in the order reported, after the
/// output it concerns (through the client's <see cref="FlywheelSignalBatcher"/>, or a queue in front of the
/// in-process engine). Get it from the chat client (<c>chatClient.GetService&lt;FlywheelChatFeedback&gt;()</c>) or
/// create one over a batcher or an engine.
/// </summary>
/// <remarks>
/// The methods taking a <see cref="ChatResponse"/> return false, and send nothing, for a response without a decision
/// (its call fell back to the first variant). The signal types are those of <see cref="GenerationConfig"/> plus
/// <c>thumbs_up</c> and <c>thumbs_down</c>; the loop must declare each type it receives.
/// </remarks>
public sealed class FlywheelChatFeedback : IAsyncDisposable
{
    /// <summary>The signal type of a thumbs-up.</summary>
    public const string ThumbsUpSignal = "thumbs_up";

    /// <summary>The signal type of a thumbs-down.</summary>
    public const string ThumbsDownSignal = "thumbs_down";

    private readonly FlywheelConnection _connection;
    private readonly bool _ownsConnection;

    internal FlywheelChatFeedback(FlywheelConnection connection, bool loopStoresText, bool ownsConnection)
    {
        _connection = connection;
        LoopStoresText = loopStoresText;
        _ownsConnection = ownsConnection;
    }

    /// <summary>Feedback for a loop of a remote server, sent through <paramref name="batcher"/> (which the caller keeps owning).</summary>
    /// <param name="client">The client the batcher belongs to.</param>
    /// <param name="batcher">The loop's batcher.</param>
    /// <param name="loopStoresText">False for a loop whose <c>generation.storeText</c> is false (see <see cref="LoopStoresText"/>).</param>
    /// <param name="timeProvider">The clock of the signals' times; null for the system's.</param>
    public FlywheelChatFeedback(FlywheelClient client, FlywheelSignalBatcher batcher, bool loopStoresText = true, TimeProvider? timeProvider = null)
        : this(new RemoteConnection(client ?? throw new ArgumentNullException(nameof(client)), batcher ?? throw new ArgumentNullException(nameof(batcher)),
            ownsBatcher: false, timeProvider ?? TimeProvider.System), loopStoresText, ownsConnection: true)
    {
    }

    /// <summary>Feedback for a loop of an in-process engine; dispose it to send what it still holds.</summary>
    /// <param name="engine">The engine.</param>
    /// <param name="loop">The loop's id.</param>
    /// <param name="loopStoresText">False for a loop whose <c>generation.storeText</c> is false (see <see cref="LoopStoresText"/>).</param>
    /// <param name="logger">Where failed sends are logged; null for none.</param>
    /// <param name="timeProvider">The clock of the retry pauses; null for the system's.</param>
    public FlywheelChatFeedback(IFlywheelEngine engine, string loop, bool loopStoresText = true, ILogger? logger = null, TimeProvider? timeProvider = null)
        : this(new EngineConnection(engine ?? throw new ArgumentNullException(nameof(engine)), Checked(loop), logger ?? NullLogger.Instance,
            timeProvider ?? TimeProvider.System), loopStoresText, ownsConnection: true)
    {
    }

    /// <summary>The loop the feedback goes to.</summary>
    public string Loop => _connection.Loop;

    /// <summary>
    /// Whether the loop stores outputs. When true an edit sends the user's final text and the server measures the edit
    /// distance against the stored output; when false it sends the distance, computed here with
    /// <see cref="EditDistance.Normalized"/>, and no text.
    /// </summary>
    public bool LoopStoresText { get; }

    /// <summary>The user kept the response as it was (<c>kept</c>).</summary>
    /// <param name="response">The response, as the chat client returned it.</param>
    /// <param name="cancellationToken">Stops waiting for room in a full queue.</param>
    /// <returns>True when queued; false when the response has no decision.</returns>
    public ValueTask<bool> KeptAsync(ChatResponse response, CancellationToken cancellationToken = default)
        => ForResponseAsync(response, GenerationConfig.KeptSignal, cancellationToken);

    /// <summary>The user kept the output of <paramref name="decisionId"/> as it was (<c>kept</c>).</summary>
    /// <param name="decisionId">The decision (<see cref="FlywheelChatResponseExtensions.GetFlywheelDecisionId(ChatResponse)"/>).</param>
    /// <param name="cancellationToken">Stops waiting for room in a full queue.</param>
    /// <returns>A task that completes once the signal is queued.</returns>
    public ValueTask KeptAsync(string decisionId, CancellationToken cancellationToken = default)
        => SignalAsync(decisionId, GenerationConfig.KeptSignal, null, cancellationToken);

    /// <summary>The user copied the response out (<c>copied</c>).</summary>
    /// <param name="response">The response, as the chat client returned it.</param>
    /// <param name="cancellationToken">Stops waiting for room in a full queue.</param>
    /// <returns>True when queued; false when the response has no decision.</returns>
    public ValueTask<bool> CopiedAsync(ChatResponse response, CancellationToken cancellationToken = default)
        => ForResponseAsync(response, GenerationConfig.CopiedSignal, cancellationToken);

    /// <summary>The user copied the output of <paramref name="decisionId"/> out (<c>copied</c>).</summary>
    /// <param name="decisionId">The decision.</param>
    /// <param name="cancellationToken">Stops waiting for room in a full queue.</param>
    /// <returns>A task that completes once the signal is queued.</returns>
    public ValueTask CopiedAsync(string decisionId, CancellationToken cancellationToken = default)
        => SignalAsync(decisionId, GenerationConfig.CopiedSignal, null, cancellationToken);

    /// <summary>The user threw the response away for a new generation (<c>regenerated</c>).</summary>
    /// <remarks>
    /// A call made with <see cref="FlywheelChatResponseExtensions.RegenerationOf(ChatOptions, ChatResponse)"/> reports
    /// this itself; use this method when the new generation does not go through the chat client.
    /// </remarks>
    /// <param name="response">The response, as the chat client returned it.</param>
    /// <param name="cancellationToken">Stops waiting for room in a full queue.</param>
    /// <returns>True when queued; false when the response has no decision.</returns>
    public ValueTask<bool> RegeneratedAsync(ChatResponse response, CancellationToken cancellationToken = default)
        => ForResponseAsync(response, GenerationConfig.RegeneratedSignal, cancellationToken);

    /// <summary>The user threw the output of <paramref name="decisionId"/> away for a new generation (<c>regenerated</c>).</summary>
    /// <param name="decisionId">The decision.</param>
    /// <param name="cancellationToken">Stops waiting for room in a full queue.</param>
    /// <returns>A task that completes once the signal is queued.</returns>
    public ValueTask RegeneratedAsync(string decisionId, CancellationToken cancellationToken = default)
        => SignalAsync(decisionId, GenerationConfig.RegeneratedSignal, null, cancellationToken);

    /// <summary>A thumbs-up on the response (<c>thumbs_up</c>).</summary>
    /// <param name="response">The response, as the chat client returned it.</param>
    /// <param name="cancellationToken">Stops waiting for room in a full queue.</param>
    /// <returns>True when queued; false when the response has no decision.</returns>
    public ValueTask<bool> ThumbsUpAsync(ChatResponse response, CancellationToken cancellationToken = default)
        => ForResponseAsync(response, ThumbsUpSignal, cancellationToken);

    /// <summary>A thumbs-up on the output of <paramref name="decisionId"/> (<c>thumbs_up</c>).</summary>
    /// <param name="decisionId">The decision.</param>
    /// <param name="cancellationToken">Stops waiting for room in a full queue.</param>
    /// <returns>A task that completes once the signal is queued.</returns>
    public ValueTask ThumbsUpAsync(string decisionId, CancellationToken cancellationToken = default)
        => SignalAsync(decisionId, ThumbsUpSignal, null, cancellationToken);

    /// <summary>A thumbs-down on the response (<c>thumbs_down</c>).</summary>
    /// <param name="response">The response, as the chat client returned it.</param>
    /// <param name="cancellationToken">Stops waiting for room in a full queue.</param>
    /// <returns>True when queued; false when the response has no decision.</returns>
    public ValueTask<bool> ThumbsDownAsync(ChatResponse response, CancellationToken cancellationToken = default)
        => ForResponseAsync(response, ThumbsDownSignal, cancellationToken);

    /// <summary>A thumbs-down on the output of <paramref name="decisionId"/> (<c>thumbs_down</c>).</summary>
    /// <param name="decisionId">The decision.</param>
    /// <param name="cancellationToken">Stops waiting for room in a full queue.</param>
    /// <returns>A task that completes once the signal is queued.</returns>
    public ValueTask ThumbsDownAsync(string decisionId, CancellationToken cancellationToken = default)
        => SignalAsync(decisionId, ThumbsDownSignal, null, cancellationToken);

    /// <summary>The user edited the response into <paramref name="finalText"/> (<c>edited</c>).</summary>
    /// <param name="response">The response, as the chat client returned it (its text is the original when the loop stores none).</param>
    /// <param name="finalText">The text the user ended with.</param>
    /// <param name="cancellationToken">Stops waiting for room in a full queue.</param>
    /// <returns>True when queued; false when the response has no decision.</returns>
    public async ValueTask<bool> EditedAsync(ChatResponse response, string finalText, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (response.GetFlywheelDecisionId() is not { } decisionId)
        {
            return false;
        }
        await EditedAsync(decisionId, finalText, response.Text, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>The user edited the output of <paramref name="decisionId"/> into <paramref name="finalText"/> (<c>edited</c>).</summary>
    /// <param name="decisionId">The decision.</param>
    /// <param name="finalText">The text the user ended with.</param>
    /// <param name="originalText">
    /// The output as generated: required when the loop stores no text (<see cref="LoopStoresText"/>); otherwise, when
    /// given, the distance is measured here and sent with the text, so the edit counts even without a stored output.
    /// </param>
    /// <param name="cancellationToken">Stops waiting for room in a full queue.</param>
    /// <returns>A task that completes once the signal is queued.</returns>
    /// <exception cref="ArgumentException">The loop stores no text and <paramref name="originalText"/> is null.</exception>
    public ValueTask EditedAsync(string decisionId, string finalText, string? originalText = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(decisionId);
        ArgumentNullException.ThrowIfNull(finalText);
        if (LoopStoresText)
        {
            // With the original at hand the distance goes along: the edit then counts even if its output never reached
            // the server (refused as too long, or dropped from a full queue); the server keeps the text either way.
            var value = originalText is null ? (double?)null : EditDistance.Normalized(originalText, finalText);
            return _connection.EnqueueSignalAsync(new SignalInput { DecisionId = decisionId, Type = GenerationConfig.EditedSignal, Text = finalText, Value = value }, cancellationToken);
        }
        if (originalText is null)
        {
            throw new ArgumentException("The loop stores no text: pass the output as generated, to measure the edit here.", nameof(originalText));
        }
        return SignalAsync(decisionId, GenerationConfig.EditedSignal, EditDistance.Normalized(originalText, finalText), cancellationToken);
    }

    /// <summary>Any signal the loop declares, on a decision.</summary>
    /// <param name="decisionId">The decision.</param>
    /// <param name="type">The signal type.</param>
    /// <param name="value">The value; null for 1.</param>
    /// <param name="cancellationToken">Stops waiting for room in a full queue.</param>
    /// <returns>A task that completes once the signal is queued.</returns>
    public ValueTask SignalAsync(string decisionId, string type, double? value = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(decisionId);
        ArgumentException.ThrowIfNullOrEmpty(type);
        return _connection.EnqueueSignalAsync(new SignalInput { DecisionId = decisionId, Type = type, Value = value }, cancellationToken);
    }

    /// <summary>Waits until everything queued so far (outputs and feedback) is stored, or dropped as refused.</summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>A task that completes when the queue before the call is drained.</returns>
    public Task FlushAsync(CancellationToken cancellationToken = default) => _connection.FlushAsync(cancellationToken);

    /// <summary>Sends what is queued and stops, when this instance owns its queue (not when the chat client does).</summary>
    /// <returns>A task that completes when the queue is drained.</returns>
    public ValueTask DisposeAsync() => _ownsConnection ? _connection.DisposeAsync() : ValueTask.CompletedTask;

    internal FlywheelConnection Connection => _connection;

    private async ValueTask<bool> ForResponseAsync(ChatResponse response, string type, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (response.GetFlywheelDecisionId() is not { } decisionId)
        {
            return false;
        }
        await SignalAsync(decisionId, type, null, cancellationToken).ConfigureAwait(false);
        return true;
    }

    private static string Checked(string loop)
    {
        ArgumentException.ThrowIfNullOrEmpty(loop);
        return loop;
    }
}

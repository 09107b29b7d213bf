using Flywheel.Client;
using Flywheel.Core;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace Flywheel.AI.Tests;

/// <summary>The middleware against a real server on 127.0.0.1, through <see cref="FlywheelClient"/> and its batcher.</summary>
public sealed class RemoteServerTests : IAsyncLifetime
{
    private readonly FakeChatClient _model = new();
    private readonly HttpClient _http = new();
    private ServerFixture _server = null!;
    private FlywheelClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await ServerFixture.StartAsync();
        _client = new FlywheelClient(_http, new FlywheelClientOptions { BaseAddress = _server.Address });
        await _client.PutLoopAsync(Loops.Config());
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    private IChatClient Pipeline() => new ChatClientBuilder(_model).UseFlywheel(Loops.Summarize, o =>
    {
        Loops.Configure(o);
        o.Client = _client;
    }).Build();

    private Task<LoopCounts> CountsAsync() => _server.Services.GetRequiredService<IFlywheelEngine>().GetCountsAsync(Loops.Summarize).AsTask();

    [Fact]
    public async Task Calls_BlockingAndStreaming_AreOneDecisionEach_WithVariantAppliedAndOutputStored()
    {
        using var chat = Pipeline();

        var responses = new List<ChatResponse>();
        for (var i = 0; i < 4; i++)
        {
            responses.Add(await chat.GetResponseAsync(Loops.Request(i)));
        }
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in chat.GetStreamingResponseAsync(Loops.Request(4)))
        {
            updates.Add(update);
        }
        responses.Add(updates.ToChatResponse());
        await chat.GetService<FlywheelChatFeedback>()!.FlushAsync();

        Assert.Equal(5, (await CountsAsync()).Decisions);
        Assert.All(updates, u => Assert.Equal(updates[0].GetFlywheelDecisionId(), u.GetFlywheelDecisionId()));
        for (var i = 0; i < 5; i++)
        {
            var id = responses[i].GetFlywheelDecisionId();
            Assert.NotNull(id);
            var variant = Loops.Variant(responses[i].GetFlywheelVariant()!);
            var (messages, options) = _model.Calls[i];
            Assert.Equal(variant.SystemPrompt, messages[0].Text);
            Assert.Equal(variant.ModelId, options!.ModelId);
            Assert.Equal(variant.Temperature, options.Temperature);

            var audit = await _client.GetDecisionAsync(Loops.Summarize, id);
            Assert.NotNull(audit);
            Assert.Equal(variant.Id, audit.Decision.ChosenActionId);
            Assert.Equal(responses[i].Text, audit.Output!.Text);
            Assert.Equal(FakeChatClient.Answer(messages, options), audit.Output.Text);
            Assert.Equal([("system", variant.SystemPrompt!), ("user", Loops.Request(i)[0].Text)], audit.Output.Messages.Select(m => (m.Role, m.Content)));
        }
        Assert.Equal(5, responses.Select(r => r.GetFlywheelDecisionId()).Distinct().Count());
    }

    [Fact]
    public async Task Feedback_KeptEditedRegenerated_ReachTheServer()
    {
        using var chat = Pipeline();
        var feedback = chat.GetService<FlywheelChatFeedback>()!;
        var kept = await chat.GetResponseAsync(Loops.Request(1));
        var edited = await chat.GetResponseAsync(Loops.Request(2));
        var thrownAway = await chat.GetResponseAsync(Loops.Request(3));
        var regenerated = await chat.GetResponseAsync(Loops.Request(3), new ChatOptions().RegenerationOf(thrownAway));
        const string FinalText = "Tram line: council met, cost discussed.";

        await feedback.KeptAsync(kept);
        await feedback.EditedAsync(edited, FinalText);
        await feedback.KeptAsync(regenerated);
        await feedback.FlushAsync();

        var keptAudit = await _client.GetDecisionAsync(Loops.Summarize, kept.GetFlywheelDecisionId()!);
        Assert.Equal("kept", Assert.Single(keptAudit!.Signals).Type);
        var edit = Assert.Single((await _client.GetDecisionAsync(Loops.Summarize, edited.GetFlywheelDecisionId()!))!.Signals);
        Assert.Equal("edited", edit.Type);
        Assert.Equal(FinalText, edit.Text);
        Assert.Equal(EditDistance.Normalized(edited.Text, FinalText), edit.Value, 12);
        var old = await _client.GetDecisionAsync(Loops.Summarize, thrownAway.GetFlywheelDecisionId()!);
        Assert.Equal("regenerated", Assert.Single(old!.Signals).Type);
        var @new = await _client.GetDecisionAsync(Loops.Summarize, regenerated.GetFlywheelDecisionId()!);
        Assert.Equal(thrownAway.GetFlywheelDecisionId(), @new!.Output!.Replaces);
        Assert.Equal("kept", Assert.Single(@new.Signals).Type);
    }

    [Fact]
    public async Task StandaloneFeedback_OverTheClientsBatcher_ReachesTheServer()
    {
        using var chat = Pipeline();
        var response = await chat.GetResponseAsync(Loops.Request(1));
        await chat.GetService<FlywheelChatFeedback>()!.FlushAsync();

        // Another part of the application, holding only the decision id.
        await using var batcher = _client.CreateBatcher(Loops.Summarize);
        var feedback = new FlywheelChatFeedback(_client, batcher);
        await feedback.ThumbsDownAsync(response.GetFlywheelDecisionId()!);
        await feedback.CopiedAsync(response.GetFlywheelDecisionId()!);
        await feedback.FlushAsync();

        var audit = await _client.GetDecisionAsync(Loops.Summarize, response.GetFlywheelDecisionId()!);
        Assert.Equal(["thumbs_down", "copied"], audit!.Signals.Select(s => s.Type));
        Assert.Equal(2, batcher.Sent);
    }

    [Fact]
    public async Task EditedAsync_LoopStoresNoTextAndNoOriginal_Throws()
    {
        await using var batcher = _client.CreateBatcher(Loops.Summarize);
        var feedback = new FlywheelChatFeedback(_client, batcher, loopStoresText: false);

        await Assert.ThrowsAsync<ArgumentException>(async () => await feedback.EditedAsync("d-1", "final"));
        Assert.Equal(0, batcher.Pending);
    }

    [Fact]
    public async Task GetResponseAsync_ServerRefusesTheDecision_CallSucceedsWithTheFirstVariant()
    {
        using var chat = new ChatClientBuilder(_model).UseFlywheel("not-declared", o =>
        {
            Loops.Configure(o);
            o.Client = _client;
        }).Build();

        var response = await chat.GetResponseAsync(Loops.Request(1));
        var streamed = new List<ChatResponseUpdate>();
        await foreach (var update in chat.GetStreamingResponseAsync(Loops.Request(2)))
        {
            streamed.Add(update);
        }

        Assert.Equal(FakeChatClient.Answer(_model.Calls[0].Messages, _model.Calls[0].Options), response.Text);
        Assert.Null(response.GetFlywheelDecisionId());
        Assert.Equal("short", response.GetFlywheelVariant());
        Assert.All(streamed, u => Assert.Null(u.GetFlywheelDecisionId()));
        Assert.All(_model.Calls, c => Assert.Equal(Loops.Short.ModelId, c.Options!.ModelId));
    }

    [Fact]
    public async Task GetResponseAsync_ServerUnreachable_CallSucceedsWithTheFirstVariant()
    {
        var refusing = new RefusingHandler();
        using var http = new HttpClient(refusing);
        var down = new FlywheelClient(http, new FlywheelClientOptions { BaseAddress = _server.Address, MaxRetries = 0 });
        using var chat = new ChatClientBuilder(_model).UseFlywheel(Loops.Summarize, o =>
        {
            Loops.Configure(o);
            o.Client = down;
        }).Build();

        var response = await chat.GetResponseAsync(Loops.Request(1));

        Assert.Equal(1, refusing.Attempts);
        Assert.Equal(FakeChatClient.Answer(_model.Calls[0].Messages, _model.Calls[0].Options), response.Text);
        Assert.Null(response.GetFlywheelDecisionId());
        Assert.Equal("short", response.GetFlywheelVariant());
        Assert.Equal(0, (await CountsAsync()).Decisions);
    }
}

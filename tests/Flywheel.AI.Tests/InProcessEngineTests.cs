using Flywheel.Core;
using Flywheel.Engine;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Flywheel.AI.Tests;

/// <summary>The middleware over an in-process engine (SQLite in a temporary folder, fake clock).</summary>
public sealed class InProcessEngineTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);

    private readonly TempDirectory _dir = new("flywheel-ai-");
    private readonly FakeTimeProvider _time = new(Start);
    private readonly FakeChatClient _model = new();
    private FlywheelEngine _engine = null!;

    public async Task InitializeAsync()
    {
        _engine = await FlywheelEngine.OpenAsync(new FlywheelOptions { ScheduleTurns = false }.UseSqlite(_dir.Path), _time);
        await _engine.PutLoopAsync(Loops.Config());
    }

    public async Task DisposeAsync()
    {
        await _engine.DisposeAsync();
        _dir.Dispose();
    }

    private IChatClient Pipeline(Action<FlywheelChatOptions>? configure = null)
        => new ChatClientBuilder(_model).UseFlywheel(Loops.Summarize, o =>
        {
            Loops.Configure(o);
            o.Engine = _engine;
            o.TimeProvider = _time;
            configure?.Invoke(o);
        }).Build();

    [Fact]
    public async Task GetResponseAsync_EachCall_IsOneDecisionWithTheChosenVariantApplied()
    {
        using var chat = Pipeline();

        var responses = new List<ChatResponse>();
        for (var i = 0; i < 6; i++)
        {
            responses.Add(await chat.GetResponseAsync(Loops.Request(i)));
        }
        await chat.GetService<FlywheelChatClient>()!.FlushAsync();

        Assert.Equal(6, (await _engine.GetCountsAsync(Loops.Summarize)).Decisions);
        Assert.Equal(6, responses.Select(r => r.GetFlywheelDecisionId()).Distinct().Count());
        for (var i = 0; i < 6; i++)
        {
            var variant = Loops.Variant(responses[i].GetFlywheelVariant()!);
            var (messages, options) = _model.Calls[i];
            Assert.Equal(variant.SystemPrompt, messages[0].Text);
            Assert.Equal(ChatRole.System, messages[0].Role);
            Assert.Equal(variant.ModelId, options!.ModelId);
            Assert.Equal(variant.Temperature, options.Temperature);
            Assert.Equal(variant.MaxOutputTokens, options.MaxOutputTokens);
            Assert.Equal(Loops.Summarize, responses[i].GetFlywheelLoop());

            var audit = await _engine.GetDecisionAsync(Loops.Summarize, responses[i].GetFlywheelDecisionId()!);
            Assert.NotNull(audit);
            Assert.Equal(variant.Id, audit.Decision.ChosenActionId);
            var output = Assert.IsType<OutputRecord>(audit.Output);
            Assert.Equal(responses[i].Text, output.Text);
            Assert.Equal([("system", variant.SystemPrompt!), ("user", Loops.Request(i)[0].Text)], output.Messages.Select(m => (m.Role, m.Content)));
        }
    }

    [Fact]
    public async Task GetResponseAsync_CallersMessagesAndOptions_AreLeftUnchanged()
    {
        using var chat = Pipeline();
        var messages = Loops.Request(1);
        var options = new ChatOptions { ModelId = "caller-model", Temperature = 1f };

        await chat.GetResponseAsync(messages, options);

        Assert.Single(messages);
        Assert.Equal("caller-model", options.ModelId);
        Assert.Equal(1f, options.Temperature);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_TagsEveryUpdate_AndRecordsTheAccumulatedText()
    {
        using var chat = Pipeline();

        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in chat.GetStreamingResponseAsync(Loops.Request(7)))
        {
            updates.Add(update);
        }
        await chat.GetService<FlywheelChatClient>()!.FlushAsync();

        Assert.True(updates.Count > 3);
        var decisionId = updates[0].GetFlywheelDecisionId();
        Assert.NotNull(decisionId);
        Assert.All(updates, u => Assert.Equal(decisionId, u.GetFlywheelDecisionId()));
        Assert.All(updates, u => Assert.Equal(updates[0].GetFlywheelVariant(), u.GetFlywheelVariant()));
        Assert.Equal(1, (await _engine.GetCountsAsync(Loops.Summarize)).Decisions);
        var audit = await _engine.GetDecisionAsync(Loops.Summarize, decisionId);
        Assert.Equal(string.Concat(updates.Select(u => u.Text)), audit!.Output!.Text);
        Assert.Equal(FakeChatClient.Answer(_model.Calls[0].Messages, _model.Calls[0].Options), audit.Output.Text);
        Assert.Equal(decisionId, updates.ToChatResponse().GetFlywheelDecisionId());
    }

    [Fact]
    public async Task GetStreamingResponseAsync_ConsumerStopsEarly_RecordsWhatWasStreamed()
    {
        using var chat = Pipeline();

        var seen = new List<ChatResponseUpdate>();
        await foreach (var update in chat.GetStreamingResponseAsync(Loops.Request(8)))
        {
            seen.Add(update);
            if (seen.Count == 2)
            {
                break;
            }
        }
        await chat.GetService<FlywheelChatClient>()!.FlushAsync();

        var audit = await _engine.GetDecisionAsync(Loops.Summarize, seen[0].GetFlywheelDecisionId()!);
        Assert.Equal(seen[0].Text + seen[1].Text, audit!.Output!.Text);
        Assert.NotEqual(FakeChatClient.Answer(_model.Calls[0].Messages, _model.Calls[0].Options), audit.Output.Text);
    }

    [Fact]
    public async Task Feedback_KeptEditedThumbs_ReachTheEngine_EditMeasuredAgainstTheStoredOutput()
    {
        using var chat = Pipeline();
        var feedback = chat.GetService<FlywheelChatFeedback>()!;
        var kept = await chat.GetResponseAsync(Loops.Request(1));
        var edited = await chat.GetResponseAsync(Loops.Request(2));
        const string FinalText = "The council discussed the tram line.";

        Assert.True(await feedback.KeptAsync(kept));
        Assert.True(await feedback.ThumbsUpAsync(kept));
        Assert.True(await feedback.EditedAsync(edited, FinalText));
        await feedback.FlushAsync();

        var keptAudit = await _engine.GetDecisionAsync(Loops.Summarize, kept.GetFlywheelDecisionId()!);
        Assert.Equal(["kept", "thumbs_up"], keptAudit!.Signals.Select(s => s.Type));
        var editAudit = await _engine.GetDecisionAsync(Loops.Summarize, edited.GetFlywheelDecisionId()!);
        var edit = Assert.Single(editAudit!.Signals);
        Assert.Equal("edited", edit.Type);
        Assert.Equal(FinalText, edit.Text);
        Assert.Equal(EditDistance.Normalized(edited.Text, FinalText), edit.Value, 12);
        Assert.True(edit.Value > 0.3);
    }

    [Fact]
    public async Task EditedAsync_WithTheOriginal_CountsEvenWithoutAStoredOutput()
    {
        // An output can fail to reach the engine (a prompt over the loop's limit, a full queue); the edit still counts
        // when the original is at hand, because its distance goes with it.
        using var chat = Pipeline();
        var feedback = chat.GetService<FlywheelChatFeedback>()!;
        var decision = await _engine.DecideAsync(Loops.Summarize, new DecideRequest { DecisionId = "no-output", Actions = chat.GetService<FlywheelChatClient>()!.Actions });

        await feedback.EditedAsync(decision.DecisionId, "The council approved it.", originalText: "The council discussed the tram line.");
        await feedback.FlushAsync();

        var edit = Assert.Single((await _engine.GetDecisionAsync(Loops.Summarize, "no-output"))!.Signals);
        Assert.Equal(EditDistance.Normalized("The council discussed the tram line.", "The council approved it."), edit.Value, 12);
        Assert.Equal("The council approved it.", edit.Text);
    }

    [Fact]
    public async Task RegenerationOf_SendsRegeneratedOnTheOldDecision_AndTheNewOutputReplacesIt()
    {
        using var chat = Pipeline();
        var first = await chat.GetResponseAsync(Loops.Request(3));

        var options = new ChatOptions().RegenerationOf(first);
        var second = await chat.GetResponseAsync(Loops.Request(3), options);
        await chat.GetService<FlywheelChatClient>()!.FlushAsync();

        Assert.NotEqual(first.GetFlywheelDecisionId(), second.GetFlywheelDecisionId());
        Assert.Null(_model.Calls[1].Options!.AdditionalProperties);
        var old = await _engine.GetDecisionAsync(Loops.Summarize, first.GetFlywheelDecisionId()!);
        Assert.Equal("regenerated", Assert.Single(old!.Signals).Type);
        var @new = await _engine.GetDecisionAsync(Loops.Summarize, second.GetFlywheelDecisionId()!);
        Assert.Equal(first.GetFlywheelDecisionId(), @new!.Output!.Replaces);
    }

    [Fact]
    public async Task StoreOutputsFalse_RecordsNoOutput_AndEditsCarryTheDistanceComputedLocally()
    {
        await _engine.PutLoopAsync(Loops.Config(storeText: false) with { Id = "private" });
        using var chat = new ChatClientBuilder(_model).UseFlywheel("private", o =>
        {
            Loops.Configure(o);
            o.Engine = _engine;
            o.StoreOutputs = false;
        }).Build();
        var feedback = chat.GetService<FlywheelChatFeedback>()!;

        var response = await chat.GetResponseAsync(Loops.Request(4));
        await feedback.EditedAsync(response, "Something else entirely.");
        await feedback.FlushAsync();

        var audit = await _engine.GetDecisionAsync("private", response.GetFlywheelDecisionId()!);
        Assert.Null(audit!.Output);
        var edit = Assert.Single(audit.Signals);
        Assert.Null(edit.Text);
        Assert.Equal(EditDistance.Normalized(response.Text, "Something else entirely."), edit.Value, 12);
    }

    [Fact]
    public async Task GetResponseAsync_LoopMissing_FallsBackToTheFirstVariantWithoutDecision()
    {
        using var chat = new ChatClientBuilder(_model).UseFlywheel("no-such-loop", o =>
        {
            Loops.Configure(o);
            o.Engine = _engine;
        }).Build();

        var response = await chat.GetResponseAsync(Loops.Request(5));

        Assert.Equal(FakeChatClient.Answer(_model.Calls[0].Messages, _model.Calls[0].Options), response.Text);
        Assert.Equal("short", response.GetFlywheelVariant());
        Assert.Null(response.GetFlywheelDecisionId());
        Assert.Equal(Loops.Short.SystemPrompt, _model.Calls[0].Messages[0].Text);
        Assert.False(await chat.GetService<FlywheelChatFeedback>()!.KeptAsync(response));
    }

    [Fact]
    public async Task GetResponseAsync_DecideSlowerThanTheTimeout_FallsBackOnceTheFakeClockPassesIt()
    {
        var (slow, proxy) = SlowDecideProxy.Create(_engine);
        using var chat = new ChatClientBuilder(_model).UseFlywheel(Loops.Summarize, o =>
        {
            Loops.Configure(o);
            o.Engine = slow;
            o.TimeProvider = _time;
            o.DecideTimeout = TimeSpan.FromSeconds(2);
        }).Build();

        var call = chat.GetResponseAsync(Loops.Request(6));
        await proxy.Entered.Task.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.False(call.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(2));
        var response = await call.WaitAsync(TimeSpan.FromMinutes(1));

        Assert.Null(response.GetFlywheelDecisionId());
        Assert.Equal("short", response.GetFlywheelVariant());
    }

    [Fact]
    public async Task GetResponseAsync_CallerCancels_IsCancelledNotFallenBack()
    {
        using var chat = Pipeline();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => chat.GetResponseAsync(Loops.Request(1), cancellationToken: cancelled.Token));

        Assert.Empty(_model.Calls);
    }

    [Fact]
    public void Actions_DeriveFeaturesFromTheVariantSettings()
    {
        using var chat = (FlywheelChatClient)Pipeline();

        var bullets = chat.Actions.Single(a => a.Id == "bullets").Features["variant"];
        Assert.Equal("model-b", bullets["model"].Text);
        Assert.Equal(0.7, bullets["temperature"].Number, 6);
        Assert.Equal(200, bullets["max_output_tokens"].Number);
        Assert.Equal(Loops.Bullets.SystemPrompt!.Length, bullets["prompt_chars"].Number);
        Assert.Equal("bullets", bullets["style"].Text);
    }

    [Fact]
    public void UseFlywheel_NoVariant_Throws()
    {
        var builder = new ChatClientBuilder(_model).UseFlywheel(Loops.Summarize, o => o.Engine = _engine);
        Assert.Throws<ArgumentException>(() => builder.Build());
    }

    [Fact]
    public void UseFlywheel_NeitherEngineNorClient_Throws()
    {
        var builder = new ChatClientBuilder(_model).UseFlywheel(Loops.Summarize, Loops.Configure);
        Assert.Throws<InvalidOperationException>(() => builder.Build(new ServiceCollection().BuildServiceProvider()));
    }

    [Fact]
    public async Task UseFlywheel_EngineFromServices_IsUsed()
    {
        var services = new ServiceCollection().AddSingleton<IFlywheelEngine>(_engine).BuildServiceProvider();
        using var chat = new ChatClientBuilder(_model).UseFlywheel(Loops.Summarize, Loops.Configure).Build(services);

        var response = await chat.GetResponseAsync(Loops.Request(9));

        Assert.NotNull(await _engine.GetDecisionAsync(Loops.Summarize, response.GetFlywheelDecisionId()!));
    }

    [Fact]
    public async Task UserTemplateAndReplaceMode_RewriteTheRequest()
    {
        using var chat = new ChatClientBuilder(_model).UseFlywheel(Loops.Summarize, o =>
        {
            o.Variants.Add(new ChatVariant { Id = "templated", SystemPrompt = "Be brief.", UserTemplate = "Summarise:\n\n{input}" });
            o.SystemPromptMode = SystemPromptMode.Replace;
            o.Engine = _engine;
        }).Build();

        await chat.GetResponseAsync([new(ChatRole.System, "app prompt"), new(ChatRole.User, "hello there")]);

        var seen = _model.Calls[0].Messages;
        Assert.Equal([(ChatRole.System, "Be brief."), (ChatRole.User, "Summarise:\n\nhello there")], seen.Select(m => (m.Role, m.Text)));
    }

}

/// <summary>An engine whose decide waits until its token is cancelled (a proxy: every other call goes to the real engine).</summary>
public class SlowDecideProxy : System.Reflection.DispatchProxy
{
    public IFlywheelEngine Inner { get; set; } = null!;

    public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static (IFlywheelEngine Engine, SlowDecideProxy Proxy) Create(IFlywheelEngine inner)
    {
        var engine = Create<IFlywheelEngine, SlowDecideProxy>();
        var proxy = (SlowDecideProxy)(object)engine;
        proxy.Inner = inner;
        return (engine, proxy);
    }

    protected override object? Invoke(System.Reflection.MethodInfo? targetMethod, object?[]? args)
    {
        if (targetMethod!.Name == nameof(IFlywheelEngine.DecideAsync))
        {
            Entered.TrySetResult();
            return WaitAsync((CancellationToken)args![2]!);
        }
        return targetMethod.Invoke(Inner, args);
    }

    private static async ValueTask<Decision> WaitAsync(CancellationToken cancellationToken)
    {
        await Task.Delay(Timeout.Infinite, cancellationToken);
        throw new InvalidOperationException("unreachable");
    }
}

using Flywheel.Client;
using Flywheel.Core;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace Flywheel.AI.Tests;

/// <summary>Outputs and feedback queued while the server is down reach it, once each, when it is back.</summary>
public sealed class OutageTests
{
    [Fact]
    public async Task Batcher_ServerStoppedAndRestarted_LosesNoOutputOrFeedback_AndStoresEachOnce()
    {
        using var data = new TempDirectory("flywheel-ai-outage-");
        var first = await ServerFixture.StartAsync(dataDirectory: data.Path);
        var redirect = new RedirectHandler(first.Address);
        using var http = new HttpClient(redirect);
        // Nothing is sent until a flush: the test decides when each send happens.
        var client = new FlywheelClient(http, new FlywheelClientOptions
        {
            BaseAddress = first.Address,
            FlushInterval = TimeSpan.FromHours(1),
            MaxRetries = 1,
            InitialBackoff = TimeSpan.FromMilliseconds(10),
        });
        await client.PutLoopAsync(Loops.Config());
        var model = new FakeChatClient();
        using var chat = new ChatClientBuilder(model).UseFlywheel(Loops.Summarize, o =>
        {
            Loops.Configure(o);
            o.Client = client;
        }).Build();
        var feedback = chat.GetService<FlywheelChatFeedback>()!;
        var batcher = ((RemoteConnection)feedback.Connection).Batcher;

        // Three calls while the server is up: decided, outputs queued but not sent.
        var kept = await chat.GetResponseAsync(Loops.Request(1));
        var edited = await chat.GetResponseAsync(Loops.Request(2));
        var thrownAway = await chat.GetResponseAsync(Loops.Request(3));
        Assert.Equal(3, batcher.Pending);
        await first.DisposeAsync();
        redirect.Target = null;

        // The server is down: feedback is queued, a regeneration falls back but still reports on the old decision.
        await feedback.KeptAsync(kept);
        await feedback.ThumbsUpAsync(kept);
        await feedback.EditedAsync(edited, "A short summary of my own.");
        var fallback = await chat.GetResponseAsync(Loops.Request(3), new ChatOptions().RegenerationOf(thrownAway));
        Assert.Null(fallback.GetFlywheelDecisionId());
        await Assert.ThrowsAnyAsync<Exception>(() => feedback.FlushAsync());
        Assert.Equal(7, batcher.Pending);
        Assert.True(batcher.FailedSends > 0);

        // Back on the same data (on whatever port it gets): one flush sends everything, in order (outputs before the
        // edit they measure).
        await using var second = await ServerFixture.StartAsync(dataDirectory: data.Path);
        redirect.Target = second.Address;
        await feedback.FlushAsync();

        Assert.Equal(0, batcher.Pending);
        Assert.Equal(0, batcher.Failed);
        Assert.Equal(3, batcher.OutputsSent);
        Assert.Equal(4, batcher.Sent);
        var engine = second.Services.GetRequiredService<IFlywheelEngine>();
        var counts = await engine.GetCountsAsync(Loops.Summarize);
        Assert.Equal(3, counts.Decisions);
        Assert.Equal(4, counts.Signals);
        foreach (var response in new[] { kept, edited, thrownAway })
        {
            var audit = await client.GetDecisionAsync(Loops.Summarize, response.GetFlywheelDecisionId()!);
            Assert.Equal(response.Text, audit!.Output!.Text);
        }
        Assert.Equal(["kept", "thumbs_up"], (await client.GetDecisionAsync(Loops.Summarize, kept.GetFlywheelDecisionId()!))!.Signals.Select(s => s.Type));
        var edit = Assert.Single((await client.GetDecisionAsync(Loops.Summarize, edited.GetFlywheelDecisionId()!))!.Signals);
        Assert.Equal(EditDistance.Normalized(edited.Text, "A short summary of my own."), edit.Value, 12);
        Assert.Equal("regenerated", Assert.Single((await client.GetDecisionAsync(Loops.Summarize, thrownAway.GetFlywheelDecisionId()!))!.Signals).Type);

        // A second flush resends nothing: each id was stored once.
        await feedback.FlushAsync();
        Assert.Equal(4, (await engine.GetCountsAsync(Loops.Summarize)).Signals);
    }
}

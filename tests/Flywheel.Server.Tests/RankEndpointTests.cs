using System.Net;
using System.Text.Json;
using Flywheel.Client;
using Flywheel.Core;

namespace Flywheel.Server.Tests;

/// <summary>A rank loop over HTTP, raw and through the .NET SDK: slots, per-slot signals, position bias, export.</summary>
public sealed class RankEndpointTests : IAsyncLifetime
{
    private const string Loop = "search";
    private ServerFixture _server = null!;
    private FlywheelClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await ServerFixture.StartAsync();
        _client = new FlywheelClient(_server.Http, new FlywheelClientOptions { BaseAddress = _server.Address });
        await _client.PutLoopAsync(new LoopConfig
        {
            Id = Loop,
            Kind = LoopKind.Rank,
            Rank = new RankConfig { Slots = 2, PositionBias = PositionBias.Given(1, 0.5), InterventionRate = 0.1 },
            Signals = new Dictionary<string, SignalTypeConfig> { ["click"] = new() { Weight = 1 }, ["purchase"] = new() { Weight = 2, ClosesWindow = true } },
            Reward = new RewardConfig { Max = 3 },
        });
        (await _server.SendAsync(HttpMethod.Put, "/v1/loops/feed", ServerFixture.FeedLoop)).EnsureSuccessStatusCode();
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static DecideRequest Query(string id) => new()
    {
        DecisionId = id,
        Context = new Features { ["query"] = { ["text"] = "boots" } },
        Actions = [new ActionCandidate("p1"), new ActionCandidate("p2"), new ActionCandidate("p3")],
    };

    [Fact]
    public async Task Sdk_RankLoop_SlotsSignalsAndTheirRewardsRoundTrip()
    {
        var decision = await _client.DecideAsync(Loop, Query("q1"));
        var second = decision.Ranking[1].ActionId;

        var result = await _client.SignalAsync(Loop,
        [
            new SignalInput { DecisionId = "q1", ActionId = second, Type = "click" },
            new SignalInput { DecisionId = "q1", ActionId = second, Type = "purchase" },
        ]);
        var audit = await _client.GetDecisionAsync(Loop, "q1");
        var config = await _client.GetLoopAsync(Loop);
        var bias = await _client.GetPositionBiasAsync(Loop);

        Assert.Equal([1, 2], decision.Ranking.Select(r => r.Slot));
        Assert.Equal(2, result.Accepted);
        Assert.Equal(new SlotReward(2, second, 3, 2), audit!.Reward!.Slots![1]);
        Assert.Equal(0, audit.Reward.Slots[0].Reward);
        Assert.Equal(second, audit.Signals[0].ActionId);
        Assert.Equal(PositionBias.Given(1, 0.5), config!.RankSettings.PositionBias);
        Assert.Equal([1.0, 0.5], bias.Slots.Select(s => s.Used));
    }

    [Fact]
    public async Task Signals_WithoutOrWithAnUnservedActionId_Are422NamingIt()
    {
        var decision = await _client.DecideAsync(Loop, Query("q2"));
        var unserved = new[] { "p1", "p2", "p3" }.Single(a => decision.Ranking.All(r => r.ActionId != a));

        using var missing = await _server.SendAsync(HttpMethod.Post, $"/v1/loops/{Loop}/signals", """{"signals":[{"decisionId":"q2","type":"click"}]}""");
        using var notServed = await _server.SendAsync(HttpMethod.Post, $"/v1/loops/{Loop}/signals", $$"""{"signals":[{"decisionId":"q2","actionId":"{{unserved}}","type":"click"}]}""");
        var sdk = await Assert.ThrowsAnyAsync<FlywheelValidationException>(() => _client.SignalAsync(Loop, [new SignalInput { DecisionId = "q2", Type = "click" }]));

        foreach (var response in new[] { missing, notServed })
        {
            Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal("signals[0].actionId", problem.RootElement.GetProperty("field").GetString());
        }
        Assert.Equal("signals[0].actionId", sdk.Field);
    }

    [Fact]
    public async Task PositionBiasAndExport_OnTheWrongKindOrFormat_Are422()
    {
        using var choose = await _server.Http.GetAsync("/v1/loops/feed/position-bias");
        using var vw = await _server.Http.GetAsync($"/v1/loops/{Loop}/export?format=vw");
        using var unknown = await _server.Http.GetAsync("/v1/loops/nope/position-bias");

        Assert.Equal(HttpStatusCode.UnprocessableEntity, choose.StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, vw.StatusCode);
        Assert.Contains("jsonl", await vw.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }
}

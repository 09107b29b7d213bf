using System.Net;
using System.Text.Json.Nodes;
using Flywheel.Client;
using Flywheel.Core;
using Microsoft.Extensions.Time.Testing;

namespace Flywheel.Server.Tests;

/// <summary><c>DELETE /v1/users/{userId}</c> and <c>GET /v1/erasures</c> on a real server, raw and through the .NET SDK.</summary>
public sealed class ErasureEndpointTests : IAsyncLifetime
{
    private const string Loop = "feed";
    private const string Erased = "user with spaces+é:@?#";

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero));
    private ServerFixture _server = null!;
    private FlywheelClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await ServerFixture.StartAsync(o => o.TimeProvider = _time);
        _client = new FlywheelClient(_server.Http, new FlywheelClientOptions { BaseAddress = _server.Address });
        (await _server.SendAsync(HttpMethod.Put, $"/v1/loops/{Loop}", ServerFixture.FeedLoop)).EnsureSuccessStatusCode();
        foreach (var (id, user) in new[] { ("d1", Erased), ("d2", "u-kept"), ("d3", Erased) })
        {
            await _client.DecideAsync(Loop, new DecideRequest
            {
                DecisionId = id,
                UserId = user,
                Context = new Features { ["user"] = { ["country"] = "fr" } },
                Actions = [new ActionCandidate("a0"), new ActionCandidate("a1")],
            });
        }
        await _client.SignalAsync(Loop, [new SignalInput { DecisionId = "d1", Type = "skip" }, new SignalInput { DecisionId = "d2", Type = "skip" }]);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task DeleteUser_RawHttp_AnswersTheAuditEntryAndTheUsersDecisionsAreGone()
    {
        using var response = await _server.Http.DeleteAsync("/v1/users/" + Uri.EscapeDataString(Erased));
        var text = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        var body = JsonNode.Parse(text)!;
        Assert.Equal(Erased, (string?)body["userId"]);
        Assert.Equal(2, (long)body["audit"]!["removed"]!["decisions"]!);
        Assert.Equal(1, (long)body["audit"]!["removed"]!["signals"]!);
        Assert.Equal(1, (long)body["audit"]!["removed"]!["rewards"]!);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Http.GetAsync($"/v1/loops/{Loop}/decisions/d1")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _server.Http.GetAsync($"/v1/loops/{Loop}/decisions/d2")).StatusCode);

        var export = await _server.Http.GetStringAsync($"/v1/loops/{Loop}/export?format=jsonl");
        Assert.Contains("\"d2\"", export, StringComparison.Ordinal);
        Assert.DoesNotContain("\"d1\"", export, StringComparison.Ordinal);
        Assert.DoesNotContain("with spaces", export, StringComparison.Ordinal);
        var erasures = await _server.Http.GetStringAsync("/v1/erasures");
        Assert.Single(JsonNode.Parse(erasures)!["erasures"]!.AsArray());
        Assert.DoesNotContain("with spaces", erasures, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EraseUserAsync_ThroughTheSdk_ReturnsCountsAndTheTrailListsIt()
    {
        var result = await _client.EraseUserAsync(Erased);
        var again = await _client.EraseUserAsync(Erased);

        Assert.Equal(new ErasureCounts(2, 1, 1), result.Audit.Removed);
        Assert.Equal(new ErasureCounts(0, 0, 0), again.Audit.Removed);
        Assert.Equal([1L, 2L], (await _client.ListErasuresAsync()).Select(e => e.Sequence));
    }
}

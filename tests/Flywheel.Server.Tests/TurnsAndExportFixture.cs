using Flywheel.Client;
using Flywheel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Flywheel.Server.Tests;

/// <summary>
/// A real server on a fake clock with one loop, <c>feed</c>, that has served <see cref="Decisions"/> decisions, one a
/// second from <see cref="Start"/>, each rewarded at once by a window-closing click (1) or skip (0). Every reward is
/// learned before the tests run, and nothing is sent afterwards, so the champion does not change under them.
/// </summary>
public sealed class TurnsAndExportFixture : IAsyncLifetime
{
    public const int Decisions = 3000;
    public const int PerSecond = 20;

    public static readonly DateTimeOffset Start = new(2026, 11, 24, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Signals close every window at once; turns never run on schedule, and a manual turn promotes nothing by itself.</summary>
    public const string LoopConfig = """
        { "signals": { "click": { "weight": 1.0, "closesWindow": true },
                       "skip":  { "weight": 0.0, "closesWindow": true } },
          "reward": { "windowSeconds": 600 },
          "turns": { "everySeconds": 31536000, "minDecisions": 200, "promoteWhen": "manual" } }
        """;

    public static readonly string[] Countries = ["fr", "de", "jp"];

    public FakeTimeProvider Time { get; } = new(Start);

    public ServerFixture Server { get; private set; } = null!;

    public FlywheelClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await ServerFixture.StartAsync(o => o.TimeProvider = Time);
        Client = new FlywheelClient(Server.Http, new FlywheelClientOptions { BaseAddress = Server.Address });
        await SeedAsync("feed", Decisions, seed: 20261124);
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();

    /// <summary>Creates <paramref name="loop"/> and has it serve <paramref name="decisions"/> decisions, all rewarded and learned.</summary>
    public async Task SeedAsync(string loop, int decisions, int seed)
    {
        (await Server.SendAsync(HttpMethod.Put, $"/v1/loops/{loop}", LoopConfig)).EnsureSuccessStatusCode();
        await ServeAsync(loop, 0, decisions, new Random(seed));
    }

    /// <summary>
    /// Has <paramref name="loop"/> serve decisions <paramref name="first"/> to <paramref name="first"/> + <paramref name="decisions"/> − 1
    /// (ids <c>{loop}-d{i}</c>), each rewarded at once, <see cref="PerSecond"/> a second; returns once all are learned.
    /// </summary>
    public async Task<IReadOnlyList<string>> ServeAsync(string loop, int first, int decisions, Random random)
    {
        var ids = new List<string>(decisions);
        for (var start = first; start < first + decisions; start += PerSecond)
        {
            var batch = Enumerable.Range(start, Math.Min(PerSecond, first + decisions - start)).ToList();
            var served = await Task.WhenAll(batch.Select(i => Client.DecideAsync(loop, Request(loop, i))));
            var signals = new List<SignalInput>();
            for (var j = 0; j < batch.Count; j++)
            {
                var country = batch[j] % Countries.Length;
                var chosen = int.Parse(served[j].ChosenActionId.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture);
                var click = random.NextDouble() < (chosen == country ? 0.7 : 0.2);
                signals.Add(new SignalInput { SignalId = $"{served[j].DecisionId}-s", DecisionId = served[j].DecisionId, Type = click ? "click" : "skip" });
            }
            await Client.SignalAsync(loop, signals);
            ids.AddRange(served.Select(d => d.DecisionId));
            Time.Advance(TimeSpan.FromSeconds(1));
        }
        await FlushAsync();
        return ids;
    }

    /// <summary>Waits until every accepted event is joined and learned, and the serving model reflects it.</summary>
    public async Task FlushAsync() => await Server.Services.GetRequiredService<IFlywheelEngine>().FlushAsync();

    public static DecideRequest Request(string loop, int i) => new()
    {
        DecisionId = $"{loop}-d{i}",
        UserId = $"u{i % 50}",
        Context = new Features { ["user"] = { ["country"] = Countries[i % Countries.Length] } },
        Actions = [new ActionCandidate("a0"), new ActionCandidate("a1"), new ActionCandidate("a2"), new ActionCandidate("a3")],
    };
}

using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace Flywheel.Server.Tests;

/// <summary>
/// `flywheel serve` as a child process under abuse: a flood of idle connections, a burst of large signal batches and
/// decides far above what two cores can take, and the heaviest legal decide. The process stays up, its memory stays
/// under a stated bound (docs/operations.md), excess work is answered 503 with Retry-After, and every acknowledged event
/// is stored. Nothing here depends on how fast the machine is: the bounds are on memory and on outcomes.
/// </summary>
public sealed class OverloadTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>The stated bound on the server's resident memory under every abuse below.</summary>
    private const long MemoryBound = 1L << 30;

    private readonly TempDirectory _dir = new("flywheel-overload-");

    public void Dispose() => _dir.Dispose();

    private const string Loop = """
        { "signals": { "watch": { "kind": "implicit", "weight": 1.0 },
                       "skip": { "kind": "implicit", "weight": -0.5, "closesWindow": true } } }
        """;

    [Fact]
    public async Task IdleConnectionFlood_NeitherEndsNorBloatsTheServer()
    {
        using var server = await ServerProcess.StartAsync(_dir.Path, ServerProcess.FreePort());
        var before = server.ResidentBytes();
        var sockets = new ConcurrentBag<Socket>();
        // Past the default limit of 4,096 connections: the extra ones are closed by the server at once.
        foreach (var chunk in Enumerable.Range(0, 6_000).Chunk(500))
        {
            await Task.WhenAll(chunk.Select(async _ =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    await socket.ConnectAsync(IPAddress.Loopback, server.Address.Port);
                    sockets.Add(socket);
                }
                catch (SocketException)
                {
                    socket.Dispose(); // refused or reset: also a way to say no
                }
            }));
        }
        Assert.True(server.IsRunning, "the server ended under the idle-connection flood");
        var peak = server.PeakResidentBytes();
        output.WriteLine($"{sockets.Count} connections opened; resident {before / 1048576} MiB before, peak {peak / 1048576} MiB");
        Assert.True(peak < MemoryBound, $"peak resident memory {peak / 1048576} MiB is over the bound of {MemoryBound / 1048576} MiB");
        foreach (var socket in sockets)
        {
            socket.Dispose();
        }
        await AssertAnswersAsync(server);
    }

    [Fact]
    public async Task Burst_FarAboveCapacity_IsShedWith503_KeepsEveryAcknowledgedEvent_AndBoundedMemory()
    {
        using var server = await ServerProcess.StartAsync(_dir.Path, ServerProcess.FreePort());
        using var http = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromMinutes(5) };
        (await http.PutAsync("/v1/loops/feed", Json(Loop))).EnsureSuccessStatusCode();
        const int decisions = 20;
        for (var d = 0; d < decisions; d++)
        {
            (await http.PostAsync("/v1/loops/feed/decide", Json(Decide($"d{d}")))).EnsureSuccessStatusCode();
        }

        // 40 senders of 10,000-signal batches of about 3 MB each (120 MB at once, twice the default in-flight budget),
        // beside 32 deciders, all at once.
        var acknowledged = new ConcurrentDictionary<string, int>();
        var statuses = new ConcurrentBag<HttpStatusCode>();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var padding = new string('p', 200);
        var senders = Enumerable.Range(0, 40).Select(s => Task.Run(async () =>
        {
            await start.Task;
            for (var b = 0; b < 2; b++)
            {
                var body = new StringBuilder("{\"signals\":[");
                for (var i = 0; i < 10_000; i++)
                {
                    body.Append(i == 0 ? "" : ",").Append($$"""{"signalId":"{{padding}}-{{s}}-{{b}}-{{i}}","decisionId":"d{{i % decisions}}","type":"watch","value":0.5}""");
                }
                using var response = await http.PostAsync("/v1/loops/feed/signals", Json(body.Append("]}").ToString()));
                statuses.Add(await CheckAsync(response, HttpStatusCode.Accepted));
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    for (var d = 0; d < decisions; d++)
                    {
                        acknowledged.AddOrUpdate($"d{d}", 500, (_, n) => n + 500);
                    }
                }
            }
        }));
        var decided = new ConcurrentBag<string>();
        var deciders = Enumerable.Range(0, 32).Select(c => Task.Run(async () =>
        {
            await start.Task;
            for (var i = 0; i < 50; i++)
            {
                var id = $"burst-{c}-{i}";
                using var response = await http.PostAsync("/v1/loops/feed/decide", Json(Decide(id)));
                statuses.Add(await CheckAsync(response, HttpStatusCode.OK));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    decided.Add(id);
                }
            }
        }));
        start.SetResult();
        await Task.WhenAll([.. senders, .. deciders]);

        Assert.True(server.IsRunning);
        var peak = server.PeakResidentBytes();
        var shed = statuses.Count(s => s == HttpStatusCode.ServiceUnavailable);
        output.WriteLine($"{statuses.Count} requests: {shed} answered 503; {decided.Count} decides acknowledged; peak resident {peak / 1048576} MiB");
        Assert.True(peak < MemoryBound, $"peak resident memory {peak / 1048576} MiB is over the bound of {MemoryBound / 1048576} MiB");

        foreach (var id in decided)
        {
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"/v1/loops/feed/decisions/{id}")).StatusCode);
        }
        foreach (var (id, count) in acknowledged)
        {
            using var audit = JsonDocument.Parse(await http.GetStringAsync($"/v1/loops/feed/decisions/{id}"));
            Assert.Equal(count, audit.RootElement.GetProperty("signals").GetArrayLength());
        }
    }

    [Fact]
    public async Task HeaviestLegalDecide_Repeated_IsRefusedWithoutBloat()
    {
        using var server = await ServerProcess.StartAsync(_dir.Path, ServerProcess.FreePort());
        using var http = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromMinutes(5) };
        (await http.PutAsync("/v1/loops/feed", Json(Loop))).EnsureSuccessStatusCode();
        var body = new StringBuilder("""{"context":{""");
        for (var n = 0; n < 8; n++)
        {
            body.Append(n == 0 ? "" : ",").Append($"\"n{n}\":{{").AppendJoin(',', Enumerable.Range(0, 1024).Select(f => $"\"f{f}\":{f + 1}")).Append('}');
        }
        var heavy = body.Append("},\"actions\":[").AppendJoin(',', Enumerable.Range(0, 1000).Select(a => $"{{\"id\":\"a{a}\"}}")).Append("]}").ToString();
        var answers = await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
        {
            using var response = await http.PostAsync("/v1/loops/feed/decide", Json(heavy));
            return response.StatusCode;
        }));
        Assert.All(answers, s => Assert.True(s is HttpStatusCode.RequestEntityTooLarge or HttpStatusCode.ServiceUnavailable, $"answered {(int)s}"));
        Assert.Contains(HttpStatusCode.RequestEntityTooLarge, answers);
        var peak = server.PeakResidentBytes();
        output.WriteLine($"{heavy.Length / 1024} KiB decide ×16: peak resident {peak / 1048576} MiB");
        Assert.True(peak < MemoryBound, $"peak resident memory {peak / 1048576} MiB is over the bound of {MemoryBound / 1048576} MiB");
        await AssertAnswersAsync(server);
    }

    /// <summary>The answer's status when it is the expected one or a proper refusal (503 with Retry-After); fails otherwise.</summary>
    private static async Task<HttpStatusCode> CheckAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
        {
            Assert.NotNull(response.Headers.RetryAfter);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        else if (response.StatusCode != expected)
        {
            Assert.Fail($"answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
        return response.StatusCode;
    }

    private static async Task AssertAnswersAsync(ServerProcess server)
    {
        using var http = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromMinutes(2) };
        using var response = await http.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static string Decide(string id) => $$$"""{"decisionId":"{{{id}}}","context":{"user":{"country":"fr"}},"actions":[{"id":"v1"},{"id":"v2"},{"id":"v3"}]}""";

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}

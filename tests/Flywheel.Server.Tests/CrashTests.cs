using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Flywheel.Core;
using Flywheel.Engine;
using Flywheel.Learning;
using Flywheel.Storage.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Flywheel.Server.Tests;

public sealed class CrashTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _dir = new("flywheel-crash-");

    public void Dispose() => _dir.Dispose();

    private const string Loop = """
        { "signals": { "click": { "kind": "implicit", "weight": 1.0, "closesWindow": true },
                       "dwell": { "kind": "implicit", "weight": 0.5 } },
          "reward": { "windowSeconds": 2 },
          "learner": { "interactions": ["context*action", "context*context*action"] } }
        """;

    private static readonly string[] Countries = ["fr", "de", "jp", "br"];

    /// <summary>Start, ingest from four clients, SIGKILL at a seeded moment, restart: this many times.</summary>
    private const int Rounds = 20;

    /// <summary>A hang guard only: every wait below ends on a count of acknowledgements, never on the clock.</summary>
    private static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task Serve_SigkillUnderConcurrentLoad_KeepsEveryAcknowledgedEventExactlyOnce()
    {
        var random = new Random(20261125);
        var decisions = new ConcurrentBag<string>();
        var signals = new ConcurrentBag<(string DecisionId, string SignalId)>();
        var port = ServerProcess.FreePort();
        for (var round = 0; round < Rounds; round++)
        {
            using var server = await ServerProcess.StartAsync(_dir.Path, port);
            using var http = new HttpClient { BaseAddress = server.Address, Timeout = HangGuard };
            if (round == 0)
            {
                using var put = await http.PutAsync("/v1/loops/feed", Json(Loop));
                put.EnsureSuccessStatusCode();
            }
            else
            {
                await AssertAllPresentAsync(http, decisions, signals);
            }
            // Kill once the clients have had a seeded number of decisions acknowledged this round, whatever the
            // machine's speed: 10 to 49 a round, a few hundred in all.
            var killAfter = decisions.Count + 10 + random.Next(40);
            var enough = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            void Acknowledged()
            {
                if (decisions.Count >= killAfter)
                {
                    enough.TrySetResult();
                }
            }
            using var stop = new CancellationTokenSource();
            var r = round;
            var clients = Enumerable.Range(0, 4).Select(c => Task.Run(() => ClientAsync(http, r, c, decisions, signals, Acknowledged, stop.Token))).ToArray();
            var clientsEnded = Task.WhenAll(clients);
            Assert.True(await Task.WhenAny(enough.Task, clientsEnded).WaitAsync(HangGuard) == enough.Task,
                $"round {round}: the clients stopped with {decisions.Count} of {killAfter} decisions acknowledged, before the kill");
            server.Kill();
            await stop.CancelAsync();
            await clientsEnded;
            AssertIntact(_dir.Path);
            output.WriteLine($"round {round}: {decisions.Count} decisions and {signals.Count} signals acknowledged so far");
        }

        Assert.True(decisions.Count >= Rounds * 10, "the clients must have made progress");
        using (var server = await ServerProcess.StartAsync(_dir.Path, port))
        using (var http = new HttpClient { BaseAddress = server.Address })
        {
            await AssertAllPresentAsync(http, decisions, signals);
            // Close every window still open before the last kill, so the rewards compared below do not depend on how
            // long the rounds happened to run: a closing signal closes its window in the commit that acknowledges it.
            await CloseEveryWindowAsync(http, decisions);
            server.Kill();
        }

        // The learner after twenty crashes equals one that learned every stored reward exactly once.
        await using var engine = await FlywheelEngine.OpenAsync(new FlywheelOptions().UseSqlite(_dir.Path));
        var config = (await engine.GetLoopAsync("feed"))!;
        var reference = new BanditLearner(config.Learner);
        var featurizer = new Featurizer(config.Learner);
        var learned = 0;
        // Beside the engine in this process: the directory lock is for a second engine, not for a reader.
        await using (var store = new SqliteFlywheelStore(new SqliteStoreOptions { DataDirectory = _dir.Path, TakeDirectoryLock = false }))
        {
            await store.InitializeAsync();
            await foreach (var (decision, reward) in store.ReadRewardsAsync("feed", 0))
            {
                var vector = new FeatureVector();
                featurizer.SetContext(HashedFeatureSet.FromContext(decision.Context));
                featurizer.AddAction(HashedFeatureSet.FromAction(decision.Actions.Single(a => a.Id == decision.ChosenActionId)), vector);
                reference.Learn(vector.Indices(0), vector.Values(0), (float)-reward.Reward, decision.ChosenProbability, decision.Actions.Count);
                learned++;
            }
        }
        output.WriteLine($"{learned} rewards learned");
        Assert.True(learned > 50);
        var model = reference.ToServingModel(1);
        foreach (var country in Countries)
        {
            var context = Context(country, 1);
            var actions = Actions();
            var restored = await engine.ScoreAsync("feed", context, actions);
            featurizer.SetContext(HashedFeatureSet.FromContext(context));
            var vector = new FeatureVector();
            for (var a = 0; a < actions.Count; a++)
            {
                featurizer.AddAction(HashedFeatureSet.FromAction(actions[a]), vector);
                Assert.True(Math.Abs(model.Predict(vector.Indices(a), vector.Values(a)) - restored[a]) <= 1e-6);
            }
        }
    }

    /// <summary>SQLite's full integrity check of the store the killed server left behind, WAL included, before the next start.</summary>
    private static void AssertIntact(string dataDirectory)
    {
        var path = new SqliteStoreOptions { DataDirectory = dataDirectory }.DatabasePath;
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA integrity_check;";
        Assert.Equal("ok", command.ExecuteScalar() as string);
    }

    private static async Task ClientAsync(HttpClient http, int round, int client, ConcurrentBag<string> decisions, ConcurrentBag<(string, string)> signals, Action acknowledged, CancellationToken stop)
    {
        var random = new Random(round * 100 + client);
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            var id = $"r{round}-c{client}-{i}";
            try
            {
                var request = new DecideRequest
                {
                    DecisionId = id,
                    Context = Context(Countries[random.Next(Countries.Length)], random.Next(3)),
                    Actions = Actions(),
                };
                using var decide = await http.PostAsync("/v1/loops/feed/decide", Json(FlywheelJson.ToString(w => FlywheelJson.Write(w, request))), CancellationToken.None);
                if (decide.StatusCode != HttpStatusCode.OK)
                {
                    return;
                }
                decisions.Add(id);
                acknowledged();
                var chosen = JsonDocument.Parse(await decide.Content.ReadAsStringAsync(CancellationToken.None)).RootElement.GetProperty("chosenActionId").GetString();
                SignalInput[] batch =
                [
                    new() { SignalId = $"{id}-dwell", DecisionId = id, Type = "dwell", Value = random.NextDouble() },
                    .. chosen == "a0" ? [new SignalInput { SignalId = $"{id}-click", DecisionId = id, Type = "click" }] : Array.Empty<SignalInput>(),
                ];
                using var sent = await http.PostAsync("/v1/loops/feed/signals", Json(FlywheelJson.ToString(w => FlywheelJson.Write(w, new SignalBatch(batch)))), CancellationToken.None);
                if (sent.StatusCode != HttpStatusCode.Accepted)
                {
                    return;
                }
                foreach (var s in batch)
                {
                    signals.Add((id, s.SignalId!));
                }
            }
            catch (HttpRequestException)
            {
                return; // The server died: whatever was not acknowledged may or may not be stored.
            }
            catch (TaskCanceledException)
            {
                return;
            }
        }
    }

    private static async Task AssertAllPresentAsync(HttpClient http, IEnumerable<string> decisions, IEnumerable<(string DecisionId, string SignalId)> signals)
    {
        var stored = new Dictionary<string, List<string>>();
        foreach (var id in decisions)
        {
            using var response = await http.GetAsync($"/v1/loops/feed/decisions/{id}");
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"acknowledged decision {id} is missing");
            using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            stored[id] = doc.RootElement.GetProperty("signals").EnumerateArray().Select(s => s.GetProperty("signalId").GetString()!).ToList();
        }
        foreach (var (decisionId, signalId) in signals)
        {
            Assert.Equal(1, stored[decisionId].Count(s => s == signalId));
        }
    }

    private static async Task CloseEveryWindowAsync(HttpClient http, IEnumerable<string> decisions)
    {
        var ids = decisions.ToList();
        foreach (var chunk in ids.Chunk(100))
        {
            // Late for a window already closed, which changes no reward; closing for one still open.
            var batch = chunk.Select(id => new SignalInput { SignalId = $"{id}-close", DecisionId = id, Type = "click" }).ToArray();
            using var sent = await http.PostAsync("/v1/loops/feed/signals", Json(FlywheelJson.ToString(w => FlywheelJson.Write(w, new SignalBatch(batch)))));
            Assert.Equal(HttpStatusCode.Accepted, sent.StatusCode);
        }
        foreach (var id in ids)
        {
            using var response = await http.GetAsync($"/v1/loops/feed/decisions/{id}");
            using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.True(doc.RootElement.GetProperty("reward").ValueKind == JsonValueKind.Object, $"decision {id} has no reward after its window was closed");
        }
    }

    private static Features Context(string country, int slot) => new()
    {
        ["user"] = { ["country"] = country },
        ["time"] = { ["slot"] = slot },
    };

    private static List<ActionCandidate> Actions() => Enumerable.Range(0, 5).Select(a => new ActionCandidate($"a{a}", new Features { ["item"] = { ["rank"] = a } })).ToList();

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}

using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Xunit.Abstractions;

namespace Flywheel.Server.Tests;

/// <summary>
/// A seeded fuzz run of 10,000 malformed and hostile requests against `flywheel serve` as a child process: random JSON,
/// deep nesting, huge numbers, invalid UTF-8, unknown fields, wrong and tricky content types, oversized bodies, ids
/// reused with other bodies, odd paths. No answer may be a 5xx, the process must stay up, its memory must stay under
/// the stated bound, and it must still serve a plain decide at the end.
/// </summary>
public sealed class FuzzTests(ITestOutputHelper output) : IDisposable
{
    private const int Requests = 10_000;
    private const long MemoryBound = 512L << 20;
    private readonly TempDirectory _dir = new("flywheel-fuzz-");

    public void Dispose() => _dir.Dispose();

    private const string Loop = """
        { "signals": { "watch": { "kind": "implicit", "weight": 1.0 },
                       "skip": { "kind": "implicit", "weight": -0.5, "closesWindow": true },
                       "stars": { "kind": "explicit", "weight": 0.2 } },
          "reward": { "windowSeconds": 60 } }
        """;

    private const string ValidDecide = """{"decisionId":"d-0","userId":"u-1","context":{"user":{"country":"fr","age":31,"topics":["a","b"]}},"actions":[{"id":"v1","features":{"item":{"len":30}}},{"id":"v2"}]}""";

    private const string ValidSignals = """{"signals":[{"signalId":"s-0","decisionId":"d-0","type":"watch","value":0.5},{"decisionId":"d-0","type":"stars","value":4}]}""";

    private static readonly string[] ContentTypes =
    [
        "application/json", "application/json; charset=utf-8", "application/problem+json", "application/vnd.flywheel+json",
        "text/plain", "text/plain;charset=+json", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
        "application/json; charset=utf-16", "application/jsonx", "application/json, text/plain", "*/*", "json", ";;;", "",
    ];

    [Fact]
    public async Task Serve_TenThousandHostileRequests_NeverAnswers5xx_StaysUp_AndKeepsMemoryBounded()
    {
        using var server = await ServerProcess.StartAsync(_dir.Path, ServerProcess.FreePort());
        using var http = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromMinutes(2) };
        (await http.PutAsync("/v1/loops/feed", new StringContent(Loop, Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
        (await http.PostAsync("/v1/loops/feed/decide", new StringContent(ValidDecide, Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();

        var failures = new List<string>();
        var statuses = new SortedDictionary<int, int>();
        var gate = new object();
        // Four workers, each with its own seeded stream of requests, so the run is the same whatever the interleaving.
        await Task.WhenAll(Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            var random = new Random(20261207 + w);
            for (var i = w; i < Requests; i += 4)
            {
                using var request = Hostile(random, i);
                var description = $"#{i} {request.Method} {request.RequestUri}";
                HttpStatusCode status;
                string body;
                try
                {
                    using var response = await http.SendAsync(request);
                    status = response.StatusCode;
                    body = (int)status >= 500 ? await response.Content.ReadAsStringAsync() : "";
                }
                catch (HttpRequestException) when (request.Content?.Headers.ContentLength > 64 << 10)
                {
                    // Kestrel may answer a large request early (413 from the declared length, 400 for a path it will not
                    // decode) and close the connection while the body is still being sent: the client sees its send
                    // fail. Counted apart; the server itself is checked below.
                    lock (gate)
                    {
                        statuses[0] = statuses.GetValueOrDefault(0) + 1;
                    }
                    continue;
                }
                catch (HttpRequestException ex)
                {
                    lock (gate)
                    {
                        failures.Add($"{description}: no answer ({ex.Message})");
                    }
                    continue;
                }
                lock (gate)
                {
                    statuses[(int)status] = statuses.GetValueOrDefault((int)status) + 1;
                    if ((int)status >= 500)
                    {
                        failures.Add($"{description}: {(int)status} {body}");
                    }
                }
            }
        })));

        output.WriteLine(string.Join(", ", statuses.Select(s => s.Key == 0 ? $"closed while sending: {s.Value}" : $"{s.Key}: {s.Value}")));
        var peak = server.PeakResidentBytes();
        output.WriteLine($"peak resident memory {peak / 1048576} MiB");
        Assert.True(failures.Count == 0, $"{failures.Count} requests failed; first ones:\n{string.Join("\n", failures.Take(10))}\nserver log:\n{server.Log}");
        Assert.Equal(Requests, statuses.Values.Sum());
        Assert.True(server.IsRunning);
        Assert.True(peak < MemoryBound, $"peak resident memory {peak / 1048576} MiB is over the bound of {MemoryBound / 1048576} MiB");
        // Still serving, with the loop's own config (a fuzzed PUT to "feed" may have changed it, validly).
        (await http.PutAsync("/v1/loops/feed", new StringContent(Loop, Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
        using var last = await http.PostAsync("/v1/loops/feed/decide", new StringContent(ValidDecide.Replace("d-0", "d-last", StringComparison.Ordinal), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, last.StatusCode);
    }

    private static HttpRequestMessage Hostile(Random random, int i)
    {
        var (method, path) = Target(random);
        var request = new HttpRequestMessage(method, path);
        if (method == HttpMethod.Get || method == HttpMethod.Delete)
        {
            if (random.Next(4) == 0)
            {
                request.Content = Content(Encoding.UTF8.GetBytes(RandomJson(random, 3)), random);
            }
            return request;
        }
        byte[] body = (random.Next(12)) switch
        {
            0 => Encoding.UTF8.GetBytes(RandomJson(random, 6)),
            1 => Encoding.UTF8.GetBytes(Deep(random)),
            2 => Encoding.UTF8.GetBytes(Mutate(random, ValidDecide)),
            3 => Encoding.UTF8.GetBytes(Mutate(random, ValidSignals)),
            4 => InvalidUtf8(random),
            5 => Encoding.UTF8.GetBytes(WithUnknownFields(random)),
            6 => Encoding.UTF8.GetBytes(HugeNumbers(random)),
            7 => Encoding.UTF8.GetBytes(ReusedId(random, i)),
            8 => i % 400 == 8 ? Oversized() : Encoding.UTF8.GetBytes(LongStrings(random)),
            9 => Encoding.UTF8.GetBytes(random.Next(2) == 0 ? "" : "{}"),
            10 => Encoding.UTF8.GetBytes(WrongTypes(random)),
            _ => RandomBytes(random),
        };
        request.Content = Content(body, random);
        return request;
    }

    private static HttpContent Content(byte[] body, Random random)
    {
        var content = new ByteArrayContent(body);
        // Mostly the right type, so the bodies reach the parsers; the rest probe the media-type check.
        var type = random.Next(3) == 0 ? ContentTypes[random.Next(ContentTypes.Length)] : "application/json";
        if (type.Length > 0)
        {
            content.Headers.TryAddWithoutValidation("Content-Type", type);
        }
        return content;
    }

    private static (HttpMethod, string) Target(Random random)
    {
        string[] loops = ["feed", "feed", "feed", "feed", "feed", "feed", "fuzz-a", "nope", "%00", "a%2Fb", "..", "%E2%82", new string('x', 300), "%20feed", "fe%C0%AFed"];
        var loop = loops[random.Next(loops.Length)];
        var id = random.Next(4) switch { 0 => "d-0", 1 => "%FF%FE", 2 => Uri.EscapeDataString(RandomString(random, 20)), _ => "x" };
        var version = random.Next(4) switch { 0 => "1", 1 => "-1", 2 => "99999999999999999999", _ => "v2" };
        return random.Next(24) switch
        {
            < 6 => (HttpMethod.Post, $"/v1/loops/{loop}/decide"),
            < 11 => (HttpMethod.Post, $"/v1/loops/{loop}/signals"),
            < 13 => (HttpMethod.Put, $"/v1/loops/{(random.Next(3) == 0 ? "feed" : loop == "feed" ? "fuzz-a" : loop)}"),
            13 => (HttpMethod.Post, $"/v1/loops/{loop}/evaluate"),
            14 => (HttpMethod.Post, $"/v1/loops/{loop}/models/{version}/{(random.Next(3) switch { 0 => "promote", 1 => "shadow", _ => "retire" })}"),
            15 => (HttpMethod.Post, $"/v1/loops/{loop}/rollback"),
            16 => (HttpMethod.Get, $"/v1/loops/{loop}/decisions/{id}"),
            17 => (HttpMethod.Get, $"/v1/loops/{loop}/export?format={(random.Next(3) switch { 0 => "jsonl", 1 => "vw", _ => "%00" })}&since={RandomString(random, 5)}&limit={random.Next(-5, 50)}"),
            18 => (HttpMethod.Get, $"/v1/loops/{loop}/health?window={RandomString(random, 4)}"),
            19 => (HttpMethod.Get, $"/v1/loops/{loop}/models/{version}/shadow"),
            20 => (HttpMethod.Delete, $"/v1/users/{id}"),
            21 => (HttpMethod.Get, $"/v1/loops/{loop}/turns?limit={RandomString(random, 3)}"),
            22 => (random.Next(2) == 0 ? HttpMethod.Patch : HttpMethod.Options, $"/v1/loops/{loop}"),
            _ => (HttpMethod.Post, $"/v1/{RandomString(random, 8)}/{new string('a', random.Next(5000))}"),
        };
    }

    private static string RandomString(Random random, int max)
    {
        var chars = new char[random.Next(max + 1)];
        for (var c = 0; c < chars.Length; c++)
        {
            chars[c] = random.Next(6) switch
            {
                0 => (char)random.Next(0, 32),
                1 => (char)random.Next(0xD800, 0xE000), // surrogates, often lone
                2 => (char)random.Next(0x80, 0x800),
                _ => (char)random.Next('!', '~'),
            };
        }
        return new string(chars);
    }

    private static string RandomJson(Random random, int depth)
    {
        switch (depth <= 0 ? random.Next(5) : random.Next(8))
        {
            case 0: return "null";
            case 1: return random.Next(2) == 0 ? "true" : "false";
            case 2: return (random.NextDouble() * Math.Pow(10, random.Next(-30, 30)) * (random.Next(2) * 2 - 1)).ToString("R", System.Globalization.CultureInfo.InvariantCulture);
            case 3: return System.Text.Json.JsonSerializer.Serialize(RandomString(random, 12));
            case 4: return random.Next(-1000, 1000).ToString(System.Globalization.CultureInfo.InvariantCulture);
            case 5:
            case 6:
                var names = new[] { "decisionId", "signalId", "context", "actions", "signals", "type", "value", "features", "id", "userId", "reward", "learner", "exploration", "mode", "x" };
                return "{" + string.Join(",", Enumerable.Range(0, random.Next(5)).Select(_ => $"\"{names[random.Next(names.Length)]}\":{RandomJson(random, depth - 1)}")) + "}";
            default:
                return "[" + string.Join(",", Enumerable.Range(0, random.Next(5)).Select(_ => RandomJson(random, depth - 1))) + "]";
        }
    }

    private static string Deep(Random random)
    {
        var depth = random.Next(50, 20_000);
        return random.Next(3) switch
        {
            0 => new string('[', depth) + new string(']', depth),
            1 => string.Concat(Enumerable.Repeat("{\"context\":", depth)) + "1" + new string('}', depth),
            _ => "{\"decisionId\":\"deep\",\"context\":{\"user\":" + new string('[', depth) + new string(']', depth) + "},\"actions\":[{\"id\":\"v1\"}]}",
        };
    }

    private const string Punctuation = "{}[],:\"\\ 0-e";

    private static string Mutate(Random random, string valid)
    {
        var text = new StringBuilder(valid);
        for (var m = random.Next(1, 4); m > 0; m--)
        {
            if (text.Length == 0)
            {
                break;
            }
            var at = random.Next(text.Length);
            switch (random.Next(4))
            {
                case 0: text.Remove(at, Math.Min(random.Next(1, 6), text.Length - at)); break;
                case 1: text.Insert(at, Punctuation[random.Next(Punctuation.Length)]); break;
                case 2: text[at] = (char)random.Next(32, 127); break;
                default: text.Length = Math.Min(at, text.Length); break;
            }
        }
        return text.ToString();
    }

    private static byte[] InvalidUtf8(Random random)
    {
        var prefix = Encoding.UTF8.GetBytes("{\"decisionId\":\"");
        byte[][] bad = [[0xC0, 0xAF], [0xFF], [0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80], [0xE2, 0x82]];
        var suffix = Encoding.UTF8.GetBytes("\",\"context\":{},\"actions\":[{\"id\":\"v1\"}]}");
        return [.. prefix, .. bad[random.Next(bad.Length)], .. suffix];
    }

    private static string WithUnknownFields(Random random)
        => random.Next(2) == 0
            ? ValidDecide.Replace("\"userId\"", "\"surprise\":{\"nested\":[1,2]},\"userId\"", StringComparison.Ordinal).Replace("d-0", $"unknown-{random.Next(100)}", StringComparison.Ordinal)
            : ValidSignals.Replace("\"type\"", "\"extra\":true,\"type\"", StringComparison.Ordinal);

    private static string HugeNumbers(Random random)
    {
        string[] numbers = ["1e400", "-1e400", "123456789012345678901234567890", "1e-400", "NaN", "Infinity", "-0", "0x10", "1.7976931348623157e308", "4.9e-324", "00012", "1.", ".5"];
        var n = numbers[random.Next(numbers.Length)];
        return random.Next(2) == 0
            ? ValidDecide.Replace("31", n, StringComparison.Ordinal).Replace("d-0", $"num-{random.Next(1000)}", StringComparison.Ordinal)
            : ValidSignals.Replace("0.5", n, StringComparison.Ordinal).Replace("s-0", $"num-{random.Next(1000)}", StringComparison.Ordinal);
    }

    // The same decisionId or signalId as stored ones, with other content: a conflict (409), never a 200 or a 5xx.
    private static string ReusedId(Random random, int i)
        => random.Next(2) == 0
            ? ValidDecide.Replace("u-1", $"u-{i}", StringComparison.Ordinal)
            : ValidSignals.Replace("0.5", $"0.{i % 9 + 1}", StringComparison.Ordinal);

    private static byte[] Oversized() => Encoding.UTF8.GetBytes("{\"signals\":[" + new string(' ', 9 << 20) + "]}");

    private static string LongStrings(Random random)
        => ValidDecide.Replace("fr", new string('é', random.Next(200, 100_000)), StringComparison.Ordinal).Replace("d-0", $"long-{random.Next(100)}", StringComparison.Ordinal);

    private static string WrongTypes(Random random)
    {
        string[] bodies =
        [
            """{"decisionId":5,"context":[],"actions":"v1"}""",
            """{"context":{"user":{"x":{"deeper":1}}},"actions":[{"id":"v1"}]}""",
            """{"context":null,"actions":[null]}""",
            """{"context":{},"actions":[{"id":""}]}""",
            """{"context":{},"actions":[{"id":"a"},{"id":"a"}]}""",
            """{"signals":{"decisionId":"d-0"}}""",
            """{"signals":[{"decisionId":"d-0","type":"nope"}]}""",
            """{"signals":[{"decisionId":"d-0","type":"watch","value":"high"}]}""",
            """{"signals":[{"decisionId":"d-0","type":"watch","at":"yesterday"}]}""",
            """{"kind":"rank","learner":{"bits":99},"exploration":{"bags":100000}}""",
            """{"reward":{"windowSeconds":-1},"signals":{}}""",
            """{"mode":"frozen","learner":{"interactions":["context*action*action*action"]}}""",
        ];
        return bodies[random.Next(bodies.Length)];
    }

    private static byte[] RandomBytes(Random random)
    {
        var bytes = new byte[random.Next(1, 2000)];
        random.NextBytes(bytes);
        return bytes;
    }
}

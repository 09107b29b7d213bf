using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace Flywheel.Server.Tests;

public sealed partial class MetricsEndpointTests : IAsyncLifetime
{
    // Meters are subscribed to by name across the process, and other tests' servers run beside this one: loop ids of
    // this test alone keep its series apart.
    private readonly string _feed = $"metrics-{Guid.NewGuid():N}";
    private readonly string _other = $"metrics-{Guid.NewGuid():N}";
    private ServerFixture _server = null!;

    public async Task InitializeAsync() => _server = await ServerFixture.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task GetMetrics_AfterDecisionsAndSignals_CountsEqualWhatWasSent()
    {
        await PutLoopAsync(_feed);
        await PutLoopAsync(_other);
        for (var i = 0; i < 7; i++)
        {
            await DecideAsync(_feed, $"f{i}");
        }
        for (var i = 0; i < 3; i++)
        {
            await DecideAsync(_other, $"o{i}");
        }
        await SignalsAsync(_feed, """
            {"signalId":"s1","decisionId":"f0","type":"watch_complete"},
            {"signalId":"s2","decisionId":"f1","type":"watch_complete"},
            {"signalId":"s3","decisionId":"f2","type":"watch_complete"},
            {"signalId":"s4","decisionId":"f0","type":"thumbs_up"},
            {"signalId":"s5","decisionId":"f3","type":"thumbs_up"},
            {"signalId":"s6","decisionId":"f4","type":"skip"}
            """);
        await SignalsAsync(_feed, """
            {"signalId":"s1","decisionId":"f0","type":"watch_complete"},
            {"signalId":"s7","decisionId":"f4","type":"watch_complete"},
            {"signalId":"s8","decisionId":"never-made","type":"thumbs_up"}
            """);
        await SignalsAsync(_other, """{"signalId":"s1","decisionId":"o0","type":"skip"}""");

        using var response = await _server.Http.GetAsync("/metrics");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        var samples = Parse(text);
        // Decisions: every one, split by whether it explored.
        Assert.Equal(7, Sum(samples, "flywheel_decisions_total", ("loop", _feed)));
        Assert.Equal(3, Sum(samples, "flywheel_decisions_total", ("loop", _other)));
        // Signals accepted by type and kind: the late and the orphaned one are stored, the retried one is not.
        Assert.Equal(4, Sum(samples, "flywheel_signals_total", ("loop", _feed), ("type", "watch_complete"), ("kind", "implicit")));
        Assert.Equal(3, Sum(samples, "flywheel_signals_total", ("loop", _feed), ("type", "thumbs_up"), ("kind", "explicit")));
        Assert.Equal(1, Sum(samples, "flywheel_signals_total", ("loop", _feed), ("type", "skip"), ("kind", "implicit")));
        Assert.Equal(8, Sum(samples, "flywheel_signals_total", ("loop", _feed)));
        Assert.Equal(1, Sum(samples, "flywheel_signals_total", ("loop", _other), ("type", "skip")));
        Assert.Equal(1, Sum(samples, "flywheel_signals_unjoined_total", ("loop", _feed), ("outcome", "duplicate")));
        Assert.Equal(1, Sum(samples, "flywheel_signals_unjoined_total", ("loop", _feed), ("outcome", "late")));
        Assert.Equal(1, Sum(samples, "flywheel_signals_unjoined_total", ("loop", _feed), ("outcome", "orphaned")));
        Assert.Equal(0, Sum(samples, "flywheel_signals_unjoined_total", ("loop", _other)));
        // Each skip closed its decision's window into a reward in the same commit.
        Assert.Equal(1, Sum(samples, "flywheel_rewards_total", ("loop", _feed), ("closed_by", "signal")));
        Assert.Equal(1, Sum(samples, "flywheel_rewards_total", ("loop", _other), ("closed_by", "signal")));
        Assert.Contains(samples, s => s.Name == "flywheel_ingest_queue_depth");
        // Request latency comes from ASP.NET Core's own meter, by route.
        Assert.True(Sum(samples, "http_server_request_duration_seconds_count", ("http_route", "/v1/loops/{loop}/decide")) >= 1, text);
    }

    [Fact]
    public async Task GetMetrics_Always_ParsesAsPrometheusText()
    {
        await PutLoopAsync(_feed);
        await DecideAsync(_feed, "d1");
        await SignalsAsync(_feed, """{"decisionId":"d1","type":"thumbs_up"}""");

        var text = await _server.Http.GetStringAsync("/metrics");

        var lines = text.Split('\n');
        Assert.Equal("", lines[^1]); // the exposition format ends with a line feed
        foreach (var line in lines[..^1])
        {
            var valid = line.StartsWith("# HELP ", StringComparison.Ordinal) ? HelpLine().IsMatch(line)
                : line.StartsWith("# TYPE ", StringComparison.Ordinal) ? TypeLine().IsMatch(line)
                : line.Length == 0 || line.StartsWith('#') || SampleLine().IsMatch(line);
            Assert.True(valid, $"not Prometheus text: '{line}'");
        }
        // Every sample's family is declared with a TYPE line (histograms by their base name).
        var types = lines.Select(l => TypeLine().Match(l)).Where(m => m.Success).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        foreach (var sample in Parse(text))
        {
            var family = HistogramSuffix().Replace(sample.Name, "");
            Assert.True(types.ContainsKey(sample.Name) || types.GetValueOrDefault(family) == "histogram", $"no # TYPE for {sample.Name}");
        }
        Assert.Equal("counter", types["flywheel_decisions_total"]);
        Assert.Equal("counter", types["flywheel_signals_total"]);
        Assert.Equal("gauge", types["flywheel_ingest_queue_depth"]);
        Assert.Equal("histogram", types["http_server_request_duration_seconds"]);
        Assert.Equal("flywheel", Assert.Single(Parse(text), s => s.Name == "target_info").Labels["service_name"]);
    }

    private async Task PutLoopAsync(string loop)
        => (await _server.SendAsync(HttpMethod.Put, $"/v1/loops/{loop}", ServerFixture.FeedLoop)).EnsureSuccessStatusCode();

    private async Task DecideAsync(string loop, string decisionId)
        => (await _server.SendAsync(HttpMethod.Post, $"/v1/loops/{loop}/decide", $$"""{"decisionId":"{{decisionId}}","actions":[{"id":"v1"},{"id":"v2"}]}""")).EnsureSuccessStatusCode();

    private async Task SignalsAsync(string loop, string signals)
        => (await _server.SendAsync(HttpMethod.Post, $"/v1/loops/{loop}/signals", $$"""{"signals":[{{signals}}]}""")).EnsureSuccessStatusCode();

    private sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

    /// <summary>The samples of Prometheus text: <c>name{label="value",…} value [timestamp]</c> lines; comments skipped.</summary>
    private static List<Sample> Parse(string text)
    {
        var samples = new List<Sample>();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }
            var match = SampleLine().Match(line);
            Assert.True(match.Success, $"not a sample line: '{line}'");
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (Match label in Label().Matches(match.Groups["labels"].Value))
            {
                labels.Add(label.Groups[1].Value, Regex.Unescape(label.Groups[2].Value));
            }
            samples.Add(new Sample(match.Groups["name"].Value, labels, ParseValue(match.Groups["value"].Value)));
        }
        return samples;
    }

    private static double ParseValue(string value) => value switch
    {
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        "NaN" => double.NaN,
        _ => double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture),
    };

    /// <summary>The sum of the samples named <paramref name="name"/> whose labels include every one of <paramref name="labels"/>.</summary>
    private static double Sum(List<Sample> samples, string name, params (string Key, string Value)[] labels)
        => samples.Where(s => s.Name == name && labels.All(l => s.Labels.GetValueOrDefault(l.Key) == l.Value)).Sum(s => s.Value);

    private const string Name = "[a-zA-Z_:][a-zA-Z0-9_:]*";
    private const string LabelPair = @"[a-zA-Z_][a-zA-Z0-9_]*=""(?:[^""\\\n]|\\[\\""n])*""";
    private const string Number = @"(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]Inf|NaN)";

    [GeneratedRegex($"^(?<name>{Name})(?:\\{{(?<labels>(?:{LabelPair})(?:,{LabelPair})*,?)?\\}})? (?<value>{Number})(?: -?\\d+)?$")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"([a-zA-Z_][a-zA-Z0-9_]*)=""((?:[^""\\]|\\.)*)""")]
    private static partial Regex Label();

    [GeneratedRegex($"^# HELP {Name} .*$")]
    private static partial Regex HelpLine();

    [GeneratedRegex($"^# TYPE ({Name}) (counter|gauge|histogram|summary|untyped)$")]
    private static partial Regex TypeLine();

    [GeneratedRegex("_(?:bucket|sum|count)$")]
    private static partial Regex HistogramSuffix();
}

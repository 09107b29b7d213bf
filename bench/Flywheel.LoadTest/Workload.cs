using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Flywheel.Core;

namespace Flywheel.LoadTest;

/// <summary>
/// What the load test sends. Each decide request: 10 actions; a context of 20 features in 2 namespaces
/// (<c>user</c>, <c>session</c>: 10 each) and 10 features per action in namespace <c>item</c>, so every action is
/// scored on 30 raw features (20 shared + 10 own) — with the default <c>context*action</c> interactions that is 2 × 10 × 10
/// crosses + 10 action features + a constant = 211 hashed features per action. Strings, numbers and booleans are mixed
/// as a product would send them. Bodies are built once (a pool of distinct requests, cycled) so the client spends its
/// share of the 2 cores on sending, not serializing.
/// </summary>
internal static class Workload
{
    public const string LoopId = "loadtest";
    public const int ActionsPerDecision = 10;
    public const int ContextFeatures = 20;
    public const int FeaturesPerAction = 10;

    /// <summary>Signal types used by the signal phase; none closes the window, so every signal joins an open decision.</summary>
    public static readonly string[] SignalTypes = ["click", "dwell", "thumbs_up"];

    private static readonly string[] Countries = ["fr", "de", "us", "gb", "es", "it", "br", "jp", "in", "ca", "mx", "nl", "se", "pl", "kr", "au", "ar", "tr", "za", "ng"];
    private static readonly string[] Languages = ["fr", "en", "de", "es", "it", "pt", "ja", "ko"];
    private static readonly string[] Segments = ["new", "casual", "regular", "power", "lapsed", "returning"];
    private static readonly string[] Devices = ["ios", "android", "web", "tv"];
    private static readonly string[] AgeBuckets = ["13-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+"];
    private static readonly string[] Weekdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    private static readonly string[] Referrers = ["home", "search", "push", "email", "share", "external"];
    private static readonly string[] Networks = ["wifi", "4g", "5g", "3g", "ethernet"];
    private static readonly string[] Formats = ["short", "long", "live", "series", "clip"];
    private static readonly string[] Regions = ["eu", "na", "latam", "apac", "mea"];

    /// <summary>The loop: choose, epsilon-greedy (0.05), the default learner, a few signal types.</summary>
    public static string LoopConfigJson(double windowSeconds) => string.Create(CultureInfo.InvariantCulture, $$"""
        {
          "id": "{{LoopId}}",
          "kind": "choose",
          "signals": {
            "click":     { "kind": "implicit", "weight": 1.0 },
            "dwell":     { "kind": "implicit", "weight": 0.5 },
            "skip":      { "kind": "implicit", "weight": -0.5, "closesWindow": true },
            "thumbs_up": { "kind": "explicit", "weight": 1.0 }
          },
          "reward": { "windowSeconds": {{windowSeconds}}, "default": 0.0, "aggregate": "sum", "min": -1.0, "max": 1.0 },
          "exploration": { "algorithm": "epsilon-greedy", "epsilon": 0.05 },
          "mode": "online"
        }
        """);

    /// <summary><paramref name="count"/> distinct decide bodies (UTF-8 JSON), reproducible from <paramref name="seed"/>.</summary>
    /// <param name="decisionIdPrefix">When set, request i carries the client-chosen decision id prefix + i (zero-padded).</param>
    public static byte[][] DecideBodies(int count, int seed, string? decisionIdPrefix = null)
    {
        var random = new Random(seed);
        var bodies = new byte[count][];
        for (var i = 0; i < count; i++)
        {
            var request = DecideRequest(random, decisionIdPrefix is null ? null : PoolDecisionId(decisionIdPrefix, i));
            bodies[i] = FlywheelJson.ToUtf8(w => FlywheelJson.Write(w, request));
        }
        return bodies;
    }

    /// <summary>Like <see cref="DecideBodies"/>, every body carrying the same <paramref name="decisionId"/> (the soak splices its own ids in).</summary>
    public static byte[][] DecideBodiesWithId(int count, int seed, string decisionId)
    {
        var random = new Random(seed);
        var bodies = new byte[count][];
        for (var i = 0; i < count; i++)
        {
            var request = DecideRequest(random, decisionId);
            bodies[i] = FlywheelJson.ToUtf8(w => FlywheelJson.Write(w, request));
        }
        return bodies;
    }

    /// <summary>Zero-padded, so creation order is also key order in the store's indexes.</summary>
    public static string PoolDecisionId(string prefix, int i) => prefix + i.ToString("D7", CultureInfo.InvariantCulture);

    private static DecideRequest DecideRequest(Random r, string? decisionId)
    {
        var context = new Features
        {
            ["user"] = new FeatureNamespace
            {
                ["country"] = Pick(r, Countries),
                ["lang"] = Pick(r, Languages),
                ["segment"] = Pick(r, Segments),
                ["device"] = Pick(r, Devices),
                ["age_bucket"] = Pick(r, AgeBuckets),
                ["tenure_days"] = r.Next(0, 3_000),
                ["sessions_7d"] = r.Next(0, 40),
                ["premium"] = r.Next(4) == 0,
                ["avg_watch_s"] = Math.Round(r.NextDouble() * 600, 1),
                ["notifications"] = r.Next(2) == 0,
            },
            ["session"] = new FeatureNamespace
            {
                ["hour"] = r.Next(0, 24),
                ["weekday"] = Pick(r, Weekdays),
                ["referrer"] = Pick(r, Referrers),
                ["network"] = Pick(r, Networks),
                ["app_version"] = "7." + r.Next(0, 12).ToString(CultureInfo.InvariantCulture),
                ["position"] = r.Next(0, 50),
                ["scroll_depth"] = Math.Round(r.NextDouble(), 3),
                ["is_weekend"] = r.Next(7) >= 5,
                ["last_topic"] = "topic-" + r.Next(0, 30).ToString(CultureInfo.InvariantCulture),
                ["query_len"] = r.Next(0, 30),
            },
        };
        var actions = new List<ActionCandidate>(ActionsPerDecision);
        var used = new HashSet<int>();
        while (actions.Count < ActionsPerDecision)
        {
            var item = r.Next(0, 500);
            if (!used.Add(item))
            {
                continue;
            }
            var features = new Features
            {
                ["item"] = new FeatureNamespace
                {
                    ["topic"] = "topic-" + (item % 30).ToString(CultureInfo.InvariantCulture),
                    ["creator"] = "creator-" + (item % 200).ToString(CultureInfo.InvariantCulture),
                    ["length_s"] = 10 + (item * 37 % 1_800),
                    ["age_h"] = item * 13 % 720,
                    ["lang"] = Languages[item % Languages.Length],
                    ["format"] = Formats[item % Formats.Length],
                    ["popularity"] = Math.Round((item * 7919 % 1_000) / 1_000.0, 3),
                    ["rating"] = Math.Round(1 + (item * 31 % 400) / 100.0, 2),
                    ["is_new"] = item % 9 == 0,
                    ["region"] = Regions[item % Regions.Length],
                },
            };
            actions.Add(new ActionCandidate("item-" + item.ToString(CultureInfo.InvariantCulture), features));
        }
        return new DecideRequest
        {
            DecisionId = decisionId,
            UserId = "u-" + r.Next(0, 100_000).ToString(CultureInfo.InvariantCulture),
            Context = context,
            Actions = actions,
        };
    }

    private static string Pick(Random r, string[] values) => values[r.Next(values.Length)];

    /// <summary>Writes <c>{ "signals": [ … ] }</c> with unique signal ids (<paramref name="idPrefix"/> + a sequence number).</summary>
    public static void WriteSignalBatch(ArrayBufferWriter<byte> buffer, Utf8JsonWriter writer, int batchSize, string idPrefix, ref long sequence,
        DecisionPicker decisions, Random random, bool withSignalIds)
    {
        var first = decisions.Reserve(batchSize);
        buffer.ResetWrittenCount();
        writer.Reset(buffer);
        writer.WriteStartObject();
        writer.WriteStartArray("signals");
        Span<char> id = stackalloc char[64];
        for (var i = 0; i < batchSize; i++)
        {
            writer.WriteStartObject();
            if (withSignalIds)
            {
                idPrefix.AsSpan().CopyTo(id);
                sequence++;
                sequence.TryFormat(id[idPrefix.Length..], out var written, default, CultureInfo.InvariantCulture);
                writer.WriteString("signalId", id[..(idPrefix.Length + written)]);
            }
            writer.WriteString("decisionId", decisions.Sequential ? decisions.At(first + i) : decisions.Random(random));
            writer.WriteString("type", SignalTypes[random.Next(SignalTypes.Length)]);
            writer.WriteNumber("value", 1.0);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.Flush();
    }
}

using System.Text.Json;
using Flywheel.Core;

namespace Flywheel.Core.Tests;

public class LoopConfigJsonTests
{
    /// <summary>A full example config, verbatim.</summary>
    private const string DesignExample = """
        {
          "id": "home-feed",
          "kind": "choose",
          "signals": {
            "watch_complete": { "kind": "implicit", "weight": 1.0 },
            "rewatch":        { "kind": "implicit", "weight": 0.5 },
            "skip":           { "kind": "implicit", "weight": -0.5, "closesWindow": true },
            "thumbs_up":      { "kind": "explicit", "weight": 1.0 },
            "thumbs_down":    { "kind": "explicit", "weight": -1.0 }
          },
          "reward": { "windowSeconds": 600, "default": 0.0, "aggregate": "sum", "min": -1.0, "max": 1.0 },
          "exploration": { "algorithm": "epsilon-greedy", "epsilon": 0.05 },
          "learner": { "bits": 18, "interactions": ["context*action"], "learningRate": 0.5, "reduction": "dm" },
          "turns": { "everySeconds": 3600, "minDecisions": 1000, "promoteWhen": "lower-bound-beats-champion", "confidence": 0.95 },
          "mode": "online"
        }
        """;

    private const string Minimal = """{"id":"x","signals":{"a":{"weight":1}}}""";

    [Fact]
    public void Parse_DesignExample_ReadsEveryValue()
    {
        var c = LoopConfigJson.Parse(DesignExample);

        Assert.Equal("home-feed", c.Id);
        Assert.Equal(LoopKind.Choose, c.Kind);
        Assert.Equal(LoopMode.Online, c.Mode);
        Assert.Equal(new[] { "watch_complete", "rewatch", "skip", "thumbs_up", "thumbs_down" }, c.Signals.Keys);
        Assert.Equal(new SignalTypeConfig { Kind = SignalKind.Implicit, Weight = 1.0 }, c.Signals["watch_complete"]);
        Assert.Equal(new SignalTypeConfig { Kind = SignalKind.Implicit, Weight = 0.5 }, c.Signals["rewatch"]);
        Assert.Equal(new SignalTypeConfig { Kind = SignalKind.Implicit, Weight = -0.5, ClosesWindow = true }, c.Signals["skip"]);
        Assert.Equal(new SignalTypeConfig { Kind = SignalKind.Explicit, Weight = 1.0 }, c.Signals["thumbs_up"]);
        Assert.Equal(new SignalTypeConfig { Kind = SignalKind.Explicit, Weight = -1.0 }, c.Signals["thumbs_down"]);
        Assert.Equal(new RewardConfig { WindowSeconds = 600, Default = 0, Aggregate = RewardAggregate.Sum, Min = -1, Max = 1 }, c.Reward);
        Assert.Equal(ExplorationAlgorithm.EpsilonGreedy, c.Exploration.Algorithm);
        Assert.Equal(0.05, c.Exploration.Epsilon);
        Assert.Equal(18, c.Learner.Bits);
        Assert.Equal(new[] { "context*action" }, c.Learner.Interactions);
        Assert.Equal(0.5, c.Learner.LearningRate);
        Assert.Equal(Reduction.Dm, c.Learner.Reduction);
        Assert.Equal(new TurnsConfig { EverySeconds = 3600, MinDecisions = 1000, PromoteWhen = PromotionPolicy.LowerBoundBeatsChampion, Confidence = 0.95 }, c.Turns);
    }

    [Fact]
    public void Parse_MissingSections_UsesDefaults()
    {
        var c = LoopConfigJson.Parse(Minimal);

        Assert.Equal("x", c.Id);
        Assert.Equal(LoopKind.Choose, c.Kind);
        Assert.Equal(LoopMode.Online, c.Mode);
        Assert.Equal(new SignalTypeConfig { Kind = SignalKind.Implicit, Weight = 1, ClosesWindow = false }, Assert.Single(c.Signals).Value);
        Assert.Equal(new RewardConfig(), c.Reward);
        Assert.Equal(new ExplorationConfig(), c.Exploration);
        Assert.Equal(new TurnsConfig(), c.Turns);
        var d = new LearnerConfig();
        Assert.Equal(d.Interactions, c.Learner.Interactions);
        Assert.Equal(d with { Interactions = c.Learner.Interactions }, c.Learner);
        Assert.Equal(600, c.Reward.WindowSeconds);
        Assert.Equal(18, c.Learner.Bits);
        Assert.Equal(0, c.Learner.Forgetting);
        Assert.Equal("drift", LoopConfigJson.Name(TurnTrigger.Drift));
        Assert.Equal(0.95, c.Turns.Confidence);
    }

    [Fact]
    public void Parse_PartialSection_DefaultsTheRest()
    {
        var c = LoopConfigJson.Parse("""{"id":"x","signals":{"a":{"weight":1}},"reward":{"windowSeconds":60},"learner":{"reduction":"mtr"}}""");

        Assert.Equal(new RewardConfig { WindowSeconds = 60 }, c.Reward);
        Assert.Equal(Reduction.Mtr, c.Learner.Reduction);
        Assert.Equal(18, c.Learner.Bits);
        Assert.Equal(new[] { "context*action" }, c.Learner.Interactions);
        Assert.Null(c.Learner.LearningRate);
        Assert.Equal(1.0, c.Learner.EffectiveLearningRate);
    }

    [Fact]
    public void LearningRate_Unset_IsTheReductionsDefaultAndIsWrittenOut()
    {
        Assert.Equal(0.6, new LearnerConfig().EffectiveLearningRate);
        Assert.Equal(0.65, new LearnerConfig().EffectivePowerT);
        Assert.Equal(0.25, new LearnerConfig { Reduction = Reduction.Dr }.EffectiveLearningRate);
        Assert.Equal(0.25, new LearnerConfig { Reduction = Reduction.Ips }.EffectiveLearningRate);
        Assert.Equal(0.5, new LearnerConfig { Reduction = Reduction.Dr }.EffectivePowerT);
        Assert.Equal(0.5, new LearnerConfig { Reduction = Reduction.Mtr }.EffectivePowerT);
        Assert.Equal(0.3, new LearnerConfig { PowerT = 0.3 }.EffectivePowerT);
        Assert.Equal(1.0, new LearnerConfig { Reduction = Reduction.Mtr }.EffectiveLearningRate);
        Assert.Equal(0.25, new LearnerConfig { Reduction = Reduction.Mtr, LearningRate = 0.25 }.EffectiveLearningRate);
        var written = LoopConfigJson.Serialize(LoopConfigJson.Parse("""{"id":"x","signals":{"a":{"weight":1}},"learner":{"reduction":"mtr"}}"""));
        Assert.Contains("\"learningRate\":1", written);
        Assert.Contains("\"powerT\":0.5", written);
        Assert.Equal(1.0, LoopConfigJson.Parse(written).Learner.LearningRate);
        Assert.Equal(0.5, LoopConfigJson.Parse(written).Learner.PowerT);
    }

    [Fact]
    public void Parse_NullSection_TreatedAsMissing()
    {
        var c = LoopConfigJson.Parse("""{"id":"x","signals":{"a":{"weight":1}},"reward":null,"mode":null}""");

        Assert.Equal(new RewardConfig(), c.Reward);
        Assert.Equal(LoopMode.Online, c.Mode);
    }

    [Fact]
    public void Parse_IdAbsentWithExpectedId_TakesIdFromUrl()
    {
        var c = LoopConfigJson.Parse("""{"signals":{"a":{"weight":1}}}""", "search");

        Assert.Equal("search", c.Id);
    }

    [Fact]
    public void Parse_IdEqualToExpectedId_Accepted()
    {
        var c = LoopConfigJson.Parse(Minimal, "x");

        Assert.Equal("x", c.Id);
    }

    [Fact]
    public void Parse_EmptyInteractions_Accepted()
    {
        var c = LoopConfigJson.Parse("""{"id":"x","signals":{"a":{"weight":1}},"learner":{"interactions":[]}}""");

        Assert.Empty(c.Learner.Interactions);
    }

    [Theory]
    [InlineData("context*action")]
    [InlineData("context*context*action")]
    [InlineData("user*time*item")]
    [InlineData("user.v2*action")]
    public void Parse_ValidInteraction_Accepted(string term)
    {
        var c = LoopConfigJson.Parse("""{"id":"x","signals":{"a":{"weight":1}},"learner":{"interactions":[""" + JsonSerializer.Serialize(term) + "]}}");

        Assert.Equal(new[] { term }, c.Learner.Interactions);
    }

    [Fact]
    public void SerializeThenParse_DesignExample_RoundTripsEqual()
    {
        var original = LoopConfigJson.Parse(DesignExample);

        var text = LoopConfigJson.Serialize(original);
        var again = LoopConfigJson.Parse(text);

        AssertConfigEqual(original, again);
        Assert.Equal(text, LoopConfigJson.Serialize(again));
    }

    [Fact]
    public void SerializeThenParse_EveryNonDefaultValue_RoundTripsEqual()
    {
        var original = new LoopConfig
        {
            Id = "next-exercise",
            Kind = LoopKind.Choose,
            Mode = LoopMode.Frozen,
            MinimumFeltEffect = 0.05,
            Signals = new Dictionary<string, SignalTypeConfig>
            {
                ["solved"] = new() { Kind = SignalKind.Explicit, Weight = 0.1 + 0.2, ClosesWindow = true },
                ["gave_up"] = new() { Weight = -1e-7 },
            },
            Reward = new RewardConfig { WindowSeconds = 12.5, Default = -0.25, Aggregate = RewardAggregate.Last, Min = -2, Max = 3 },
            Exploration = new ExplorationConfig { Algorithm = ExplorationAlgorithm.None, Epsilon = 0, Lambda = 2, Gamma = 50, Bags = 7 },
            Learner = new LearnerConfig
            {
                Bits = 20, Interactions = ["context*action", "user*time*item"], LearningRate = 0.1, PowerT = 0, L2 = 1e-6, Reduction = Reduction.Mtr, Forgetting = 0.002,
            },
            Turns = new TurnsConfig { EverySeconds = 60, MinDecisions = 5, PromoteWhen = PromotionPolicy.Manual, Confidence = 0.99 },
        };
        original.Validate();

        var again = LoopConfigJson.Parse(LoopConfigJson.Serialize(original, indented: true));

        AssertConfigEqual(original, again);
    }

    [Fact]
    public void Serialize_Indented_IsValidJsonWithAllSections()
    {
        var text = LoopConfigJson.Serialize(LoopConfigJson.Parse(Minimal), indented: true);

        using var doc = JsonDocument.Parse(text);
        var names = doc.RootElement.EnumerateObject().Select(p => p.Name).ToArray();
        Assert.Equal(new[] { "id", "kind", "signals", "reward", "exploration", "learner", "turns", "mode", "minimumFeltEffect" }, names);
        Assert.Contains('\n', text);
    }

    /// <summary>
    /// Malformed configs and the field each must be blamed on. Each row: the JSON, the id in the URL (or null), the
    /// expected <see cref="FlywheelValidationException.Field"/>.
    /// </summary>
    [Theory]
    // The document itself.
    [InlineData("""{"id":"x",""", null, "")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}}} trailing""", null, "")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},}""", null, "")]
    [InlineData("""{"id":"x", /* comment */ "signals":{"a":{"weight":1}}}""", null, "")]
    [InlineData("", null, "")]
    [InlineData("[]", null, "")]
    [InlineData("null", null, "")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"reward":{"min":[[[[[[[[[[[[[[[[[[0]]]]]]]]]]]]]]]]]}}""", null, "")]
    // Id.
    [InlineData("""{"signals":{"a":{"weight":1}}}""", null, "id")]
    [InlineData("""{"id":null,"signals":{"a":{"weight":1}}}""", null, "id")]
    [InlineData("""{"id":5,"signals":{"a":{"weight":1}}}""", null, "id")]
    [InlineData("""{"id":"Home Feed","signals":{"a":{"weight":1}}}""", null, "id")]
    [InlineData("""{"id":"-feed","signals":{"a":{"weight":1}}}""", null, "id")]
    [InlineData("""{"id":"","signals":{"a":{"weight":1}}}""", null, "id")]
    [InlineData("""{"id":"a1234567890123456789012345678901234567890123456789012345678901234","signals":{"a":{"weight":1}}}""", null, "id")]
    [InlineData("""{"id":"search","signals":{"a":{"weight":1}}}""", "home-feed", "id")]
    [InlineData("""{"signals":{"a":{"weight":1}}}""", "Not Valid", "id")]
    [InlineData("""{"id":"\ud800","signals":{"a":{"weight":1}}}""", null, "id")]
    // Unknown fields.
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"colour":"red"}""", null, "colour")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"Id":"x"}""", null, "Id")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"reward":{"windowSecs":600}}""", null, "reward.windowSecs")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1,"closes":true}}}""", null, "signals.a.closes")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"exploration":{"temperature":1}}""", null, "exploration.temperature")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"learner":{"bitz":18}}""", null, "learner.bitz")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"turns":{"every":60}}""", null, "turns.every")]
    // Duplicate property names.
    [InlineData("""{"id":"x","id":"y","signals":{"a":{"weight":1}}}""", null, "id")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1},"a":{"weight":2}}}""", null, "signals.a")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1,"weight":2}}}""", null, "signals.a.weight")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"reward":{"min":-1,"min":-2}}""", null, "reward.min")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"\u0069d":"y"}""", null, "id")]
    // Signals.
    [InlineData("""{"id":"x"}""", null, "signals")]
    [InlineData("""{"id":"x","signals":null}""", null, "signals")]
    [InlineData("""{"id":"x","signals":{}}""", null, "signals")]
    [InlineData("""{"id":"x","signals":[]}""", null, "signals")]
    [InlineData("""{"id":"x","signals":{"Skip!":{"weight":1}}}""", null, "signals.Skip!")]
    [InlineData("""{"id":"x","signals":{"":{"weight":1}}}""", null, "signals.")]
    [InlineData("""{"id":"x","signals":{"\ud800":{"weight":1}}}""", null, "signals")]
    [InlineData("""{"id":"x","signals":{"skip":1}}""", null, "signals.skip")]
    [InlineData("""{"id":"x","signals":{"skip":null}}""", null, "signals.skip")]
    [InlineData("""{"id":"x","signals":{"skip":{"kind":"implicit"}}}""", null, "signals.skip.weight")]
    [InlineData("""{"id":"x","signals":{"skip":{"weight":null}}}""", null, "signals.skip.weight")]
    [InlineData("""{"id":"x","signals":{"skip":{"weight":"1"}}}""", null, "signals.skip.weight")]
    [InlineData("""{"id":"x","signals":{"skip":{"weight":1e999}}}""", null, "signals.skip.weight")]
    [InlineData("""{"id":"x","signals":{"skip":{"weight":-1e999}}}""", null, "signals.skip.weight")]
    [InlineData("""{"id":"x","signals":{"skip":{"weight":1,"kind":"sometimes"}}}""", null, "signals.skip.kind")]
    [InlineData("""{"id":"x","signals":{"skip":{"weight":1,"kind":"Implicit"}}}""", null, "signals.skip.kind")]
    [InlineData("""{"id":"x","signals":{"skip":{"weight":1,"closesWindow":"yes"}}}""", null, "signals.skip.closesWindow")]
    // Reward.
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"reward":600}""", null, "reward")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"reward":{"windowSeconds":0}}""", null, "reward.windowSeconds")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"reward":{"windowSeconds":-5}}""", null, "reward.windowSeconds")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"reward":{"windowSeconds":2592001}}""", null, "reward.windowSeconds")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"reward":{"windowSeconds":"600"}}""", null, "reward.windowSeconds")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"reward":{"min":1,"max":1,"default":1}}""", null, "reward.min")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"reward":{"min":2,"max":1}}""", null, "reward.min")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"reward":{"default":2}}""", null, "reward.default")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"reward":{"default":-1.5}}""", null, "reward.default")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"reward":{"max":1e999}}""", null, "reward.max")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"reward":{"aggregate":"avg"}}""", null, "reward.aggregate")]
    // Exploration.
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"exploration":{"epsilon":1.5}}""", null, "exploration.epsilon")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"exploration":{"epsilon":-0.1}}""", null, "exploration.epsilon")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"exploration":{"algorithm":"thompson"}}""", null, "exploration.algorithm")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"exploration":{"bags":0}}""", null, "exploration.bags")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"exploration":{"bags":2.5}}""", null, "exploration.bags")]
    // Learner.
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"learner":{"bits":12}}""", null, "learner.bits")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"learner":{"bits":30}}""", null, "learner.bits")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"learner":{"bits":18.5}}""", null, "learner.bits")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"learner":{"bits":"18"}}""", null, "learner.bits")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"learner":{"bits":1e999}}""", null, "learner.bits")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"learner":{"interactions":"context*action"}}""", null, "learner.interactions")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"learner":{"interactions":{"a":"context*action"}}}""", null, "learner.interactions")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"learner":{"interactions":[5]}}""", null, "learner.interactions[0]")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"learner":{"interactions":["context*action",null]}}""", null, "learner.interactions[1]")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"learner":{"interactions":["context"]}}""", null, "learner.interactions[0]")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"learner":{"interactions":["a**b"]}}""", null, "learner.interactions[0]")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"learner":{"interactions":[""]}}""", null, "learner.interactions[0]")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"learner":{"interactions":["context * action"]}}""", null, "learner.interactions[0]")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"learner":{"interactions":["context*action","a*b*c*d"]}}""", null, "learner.interactions[1]")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"learner":{"interactions":["context*\ud800"]}}""", null, "learner.interactions[0]")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"learner":{"learningRate":0}}""", null, "learner.learningRate")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"learner":{"learningRate":-0.5}}""", null, "learner.learningRate")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"learner":{"powerT":1.5}}""", null, "learner.powerT")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"learner":{"l2":-1}}""", null, "learner.l2")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"learner":{"forgetting":-0.001}}""", null, "learner.forgetting")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"learner":{"forgetting":0.5}}""", null, "learner.forgetting")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"learner":{"forgetting":"0.01"}}""", null, "learner.forgetting")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"learner":{"reduction":"foo"}}""", null, "learner.reduction")]
    // Turns.
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"turns":{"confidence":1.0}}""", null, "turns.confidence")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"turns":{"confidence":0.5}}""", null, "turns.confidence")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"turns":{"minDecisions":0}}""", null, "turns.minDecisions")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"turns":{"minDecisions":1e10}}""", null, "turns.minDecisions")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"turns":{"everySeconds":0}}""", null, "turns.everySeconds")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"turns":{"promoteWhen":"always"}}""", null, "turns.promoteWhen")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"turns":{"mismatchWeight":0.5}}""", null, "turns.mismatchWeight")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"turns":{"mismatchWeight":101}}""", null, "turns.mismatchWeight")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"turns":{"mismatchWeight":"2"}}""", null, "turns.mismatchWeight")]
    // Kind and mode.
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"kind":"ability"}""", null, "signals.correct")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"kind":"Choose"}""", null, "kind")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"kind":1}""", null, "kind")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"mode":"sometimes"}""", null, "mode")]
    // The felt threshold: positive and no wider than the reward's range.
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"minimumFeltEffect":0}""", null, "minimumFeltEffect")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"minimumFeltEffect":-0.1}""", null, "minimumFeltEffect")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"minimumFeltEffect":2.5}""", null, "minimumFeltEffect")]
    [InlineData("""{"id":"x","signals":{"a":{"weight":1}},"minimumFeltEffect":"0.1"}""", null, "minimumFeltEffect")]
    public void Parse_MalformedConfig_ThrowsNamingField(string json, string? expectedId, string field)
    {
        var ex = Assert.Throws<FlywheelValidationException>(() => LoopConfigJson.Parse(json, expectedId));

        Assert.Equal(field, ex.Field);
        Assert.False(string.IsNullOrWhiteSpace(ex.Problem));
        Assert.False(string.IsNullOrWhiteSpace(ex.Message));
    }

    [Fact]
    public void Parse_WeightOverflow_MessageSaysFinite()
    {
        var ex = Assert.Throws<FlywheelValidationException>(() => LoopConfigJson.Parse("""{"id":"x","signals":{"skip":{"weight":1e999}}}"""));

        Assert.Contains("finite", ex.Message, StringComparison.Ordinal);
        Assert.StartsWith("signals.skip.weight: ", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_LoneSurrogateInDotNetString_ThrowsValidationNotArgumentException()
    {
        var json = "{\"id\":\"x\uD800\",\"signals\":{\"a\":{\"weight\":1}}}";

        var ex = Assert.Throws<FlywheelValidationException>(() => LoopConfigJson.Parse(json));

        Assert.Equal("", ex.Field);
    }

    [Fact]
    public void Parse_NullText_ThrowsArgumentNull()
    {
        Assert.Throws<ArgumentNullException>(() => LoopConfigJson.Parse((string)null!));
    }

    [Fact]
    public void Validate_UndefinedKindValue_ThrowsValidationNamingKind()
    {
        var config = new LoopConfig
        {
            Id = "x",
            Kind = (LoopKind)99,
            Signals = new Dictionary<string, SignalTypeConfig> { ["a"] = new() },
        };

        var ex = Assert.Throws<FlywheelValidationException>(config.Validate);

        Assert.Equal("kind", ex.Field);
    }

    private static readonly string[] NoTerms = [];

    private static void AssertConfigEqual(LoopConfig expected, LoopConfig actual)
    {
        Assert.Equal(expected.Id, actual.Id);
        Assert.Equal(expected.Kind, actual.Kind);
        Assert.Equal(expected.Mode, actual.Mode);
        Assert.Equal(expected.MinimumFeltEffect, actual.MinimumFeltEffect);
        Assert.Equal(expected.Signals.OrderBy(kv => kv.Key, StringComparer.Ordinal), actual.Signals.OrderBy(kv => kv.Key, StringComparer.Ordinal));
        Assert.Equal(expected.Reward, actual.Reward);
        Assert.Equal(expected.Exploration, actual.Exploration);
        Assert.Equal(expected.Learner.Interactions, actual.Learner.Interactions);
        // Serializing pins the reduction's default rate and decay (a stored loop keeps the learner it was trained with).
        Assert.Equal(Pinned(expected.Learner), Pinned(actual.Learner));
        Assert.Equal(expected.Turns, actual.Turns);
    }

    private static LearnerConfig Pinned(LearnerConfig learner)
        => learner with { Interactions = NoTerms, LearningRate = learner.EffectiveLearningRate, PowerT = learner.EffectivePowerT };
}

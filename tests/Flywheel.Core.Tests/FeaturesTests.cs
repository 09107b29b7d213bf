using System.Text.Json;
using Flywheel.Core;

namespace Flywheel.Core.Tests;

public class FeaturesTests
{
    private static readonly FlywheelLimits Small = new() { MaxNamespaces = 2, MaxFeaturesPerNamespace = 3, MaxStringLength = 8 };

    [Fact]
    public void Parse_DesignExample_ReadsEachKind()
    {
        var f = Features.Parse("""{ "user": { "country": "fr", "tenure_days": 31, "premium": true, "trial": false, "topics": ["cooking","diy"] } }""");

        var user = Assert.Single(f).Value;
        Assert.Equal("user", Assert.Single(f).Key);
        Assert.Equal(5, user.Count);
        Assert.Equal(FeatureValueKind.String, user["country"].Kind);
        Assert.Equal("fr", user["country"].Text);
        Assert.Equal(1, user["country"].Number);
        Assert.Equal(FeatureValueKind.Number, user["tenure_days"].Kind);
        Assert.Equal(31, user["tenure_days"].Number);
        Assert.Equal(FeatureValueKind.Boolean, user["premium"].Kind);
        Assert.Equal(1, user["premium"].Number);
        Assert.Equal(0, user["trial"].Number);
        Assert.Equal(FeatureValueKind.StringArray, user["topics"].Kind);
        Assert.Equal(new[] { "cooking", "diy" }, user["topics"].Strings);
    }

    [Theory]
    [InlineData("0", 0.0)]
    [InlineData("-2.5", -2.5)]
    [InlineData("1e3", 1000.0)]
    [InlineData("1e-400", 0.0)]
    public void Parse_Number_IsDenseValue(string literal, double expected)
    {
        var f = Features.Parse("""{"n":{"x":""" + literal + "}}");

        Assert.Equal(FeatureValue.FromNumber(expected), f["n"]["x"]);
    }

    [Fact]
    public void Parse_EmptyArray_IsEmptyStringArray()
    {
        var f = Features.Parse("""{"n":{"tags":[]}}""");

        Assert.Equal(FeatureValueKind.StringArray, f["n"]["tags"].Kind);
        Assert.Empty(f["n"]["tags"].Strings);
    }

    [Fact]
    public void Parse_KeepsInsertionOrder()
    {
        var f = Features.Parse("""{"z":{"b":1,"a":2},"a":{"y":1}}""");

        Assert.Equal(new[] { "z", "a" }, f.Select(kv => kv.Key));
        Assert.Equal(new[] { "b", "a" }, f["z"].Select(kv => kv.Key));
    }

    [Fact]
    public void FromJson_NullElement_IsEmpty()
    {
        using var doc = JsonDocument.Parse("null");

        Assert.Equal(0, Features.FromJson(doc.RootElement, "context").Count);
    }

    [Fact]
    public void Initializer_NestedIndexers_BuildsNamespaces()
    {
        var f = new Features { ["user"] = { ["country"] = "fr", ["tenure_days"] = 31 } };

        Assert.Equal(1, f.Count);
        Assert.Equal(2, f["user"].Count);
        Assert.Equal(FeatureValue.FromString("fr"), f["user"]["country"]);
        Assert.Equal(FeatureValue.FromNumber(31), f["user"]["tenure_days"]);
        Assert.Equal("""{"user":{"country":"fr","tenure_days":31}}""", f.ToJson());
    }

    [Fact]
    public void Initializer_EveryValueKind_ConvertsImplicitly()
    {
        var f = new Features
        {
            ["user"] = { ["premium"] = true, ["score"] = 0.25, ["visits"] = 3L, ["topics"] = new[] { "cooking", "diy" } },
            ["time"] = { ["hour"] = 9 },
        };

        Assert.Equal(FeatureValueKind.Boolean, f["user"]["premium"].Kind);
        Assert.Equal(0.25, f["user"]["score"].Number);
        Assert.Equal(3, f["user"]["visits"].Number);
        Assert.Equal(new[] { "cooking", "diy" }, f["user"]["topics"].Strings);
        Assert.Equal(new[] { "user", "time" }, f.Select(kv => kv.Key));
    }

    [Fact]
    public void Indexer_SetExistingFeature_Replaces()
    {
        var f = new Features { ["user"] = { ["country"] = "fr" } };

        f["user"]["country"] = "de";

        Assert.Equal(1, f["user"].Count);
        Assert.Equal("de", f["user"]["country"].Text);
    }

    [Fact]
    public void Indexer_MissingFeature_ThrowsKeyNotFound()
    {
        var f = new Features { ["user"] = { ["country"] = "fr" } };

        Assert.Throws<KeyNotFoundException>(() => f["user"]["city"]);
    }

    [Fact]
    public void ToJsonThenParse_EveryKind_RoundTrips()
    {
        var original = new Features
        {
            ["user"] = { ["country"] = "fr", ["tenure_days"] = 31, ["premium"] = true, ["trial"] = false, ["topics"] = new[] { "cooking", "diy" } },
            ["time"] = { ["hour"] = 0.1 + 0.2, ["weekday"] = "mon" },
        };

        var json = original.ToJson();
        var again = Features.Parse(json);

        Assert.Equal(json, again.ToJson());
        Assert.Equal(original.Select(kv => kv.Key), again.Select(kv => kv.Key));
        foreach (var (ns, features) in original)
        {
            Assert.Equal(features, again[ns]);
        }
        Assert.Equal(0.1 + 0.2, again["time"]["hour"].Number);
    }

    [Fact]
    public void Validate_WithinSmallLimits_Passes()
    {
        var f = Features.Parse("""{"a":{"x":"12345678","y":["1","2"]},"b":{}}""", Small);

        Assert.Equal(2, f.Count);
    }

    /// <summary>Each row: the JSON, whether to apply <see cref="Small"/>, the expected field, the expected kind.</summary>
    [Theory]
    [InlineData("[]", false, "", ValidationKind.Invalid)]
    [InlineData("\"user\"", false, "", ValidationKind.Invalid)]
    [InlineData("""{"user":1}""", false, "user", ValidationKind.Invalid)]
    [InlineData("""{"user":"fr"}""", false, "user", ValidationKind.Invalid)]
    [InlineData("""{"user":null}""", false, "user", ValidationKind.Invalid)]
    [InlineData("""{"user":["a"]}""", false, "user", ValidationKind.Invalid)]
    [InlineData("""{"user":{"country":null}}""", false, "user.country", ValidationKind.Invalid)]
    [InlineData("""{"user":{"country":{"code":"fr"}}}""", false, "user.country", ValidationKind.Invalid)]
    [InlineData("""{"user":{"topics":["a",1]}}""", false, "user.topics[1]", ValidationKind.Invalid)]
    [InlineData("""{"user":{"topics":[null]}}""", false, "user.topics[0]", ValidationKind.Invalid)]
    [InlineData("""{"user":{"topics":[["a"]]}}""", false, "user.topics[0]", ValidationKind.Invalid)]
    [InlineData("""{"user":{"x":1e999}}""", false, "user.x", ValidationKind.Invalid)]
    [InlineData("""{"user":{"x":-1e999}}""", false, "user.x", ValidationKind.Invalid)]
    [InlineData("""{"user":{"x":1},"user":{"y":1}}""", false, "user", ValidationKind.Invalid)]
    [InlineData("""{"user":{"x":1,"x":2}}""", false, "user.x", ValidationKind.Invalid)]
    [InlineData("""{"user":{"":1}}""", false, "user", ValidationKind.Invalid)]
    [InlineData("""{"user":{"country":""}}""", false, "user.country", ValidationKind.Invalid)]
    [InlineData("""{"user":{"topics":["a",""]}}""", false, "user.topics[1]", ValidationKind.Invalid)]
    [InlineData("""{"":{"x":1}}""", false, "", ValidationKind.Invalid)]
    [InlineData("""{"@x":{"x":1}}""", false, "@x", ValidationKind.Invalid)]
    [InlineData("""{"a b":{"x":1}}""", false, "a b", ValidationKind.Invalid)]
    [InlineData("""{".a":{"x":1}}""", false, ".a", ValidationKind.Invalid)]
    [InlineData("""{"a":{},"b":{},"c":{}}""", true, "", ValidationKind.TooLarge)]
    [InlineData("""{"a":{"w":1,"x":1,"y":1,"z":1}}""", true, "a", ValidationKind.TooLarge)]
    [InlineData("""{"a":{"w":1,"tags":["1","2","3"]}}""", true, "a", ValidationKind.TooLarge)]
    [InlineData("""{"a":{"x":"123456789"}}""", true, "a.x", ValidationKind.TooLarge)]
    [InlineData("""{"a":{"longname12":1}}""", true, "a.longname12", ValidationKind.TooLarge)]
    [InlineData("""{"a":{"x":["ok","123456789"]}}""", true, "a.x[1]", ValidationKind.TooLarge)]
    [InlineData("""{"namespace1":{"x":1}}""", true, "namespace1", ValidationKind.TooLarge)]
    public void Parse_InvalidFeatures_ThrowsNamingField(string json, bool small, string field, ValidationKind kind)
    {
        var ex = Assert.Throws<FlywheelValidationException>(() => Features.Parse(json, small ? Small : null));

        Assert.Equal(field, ex.Field);
        Assert.Equal(kind, ex.Kind);
        Assert.False(string.IsNullOrWhiteSpace(ex.Message));
    }

    [Theory]
    [InlineData("""{"user":{"x":1e999}}""", "context.user.x")]
    [InlineData("""{"user":5}""", "context.user")]
    [InlineData("""{"@x":{"a":1}}""", "context.@x")]
    [InlineData("5", "context")]
    public void FromJson_WithFieldPrefix_PrefixesErrorPath(string json, string field)
    {
        using var doc = JsonDocument.Parse(json);

        var ex = Assert.Throws<FlywheelValidationException>(() => Features.FromJson(doc.RootElement, "context"));

        Assert.Equal(field, ex.Field);
    }

    [Fact]
    public void Validate_NonFiniteBuiltInCSharp_ThrowsNamingField()
    {
        var f = new Features { ["user"] = { ["score"] = double.NaN } };

        var ex = Assert.Throws<FlywheelValidationException>(() => f.Validate("actions[2].features"));

        Assert.Equal("actions[2].features.user.score", ex.Field);
    }

    [Fact]
    public void Validate_BadNamespaceBuiltInCSharp_ThrowsNamingField()
    {
        var f = new Features { ["a b"] = { ["x"] = 1 } };

        var ex = Assert.Throws<FlywheelValidationException>(() => f.Validate("context"));

        Assert.Equal("context.a b", ex.Field);
    }

    [Fact]
    public void Indexer_EmptyName_ThrowsArgumentException()
    {
        var f = new Features();

        Assert.Throws<ArgumentException>(() => f[""]);
        Assert.Throws<ArgumentException>(() => f["user"][""] = 1);
    }
}

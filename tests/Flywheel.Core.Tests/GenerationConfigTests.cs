using Flywheel.Core;

namespace Flywheel.Core.Tests;

public class GenerationConfigTests
{
    private const string Signals = """ "kept": {"weight": 1}, "edited": {"kind": "explicit", "weight": -1} """;

    private static LoopConfig Parse(string members)
        => LoopConfigJson.Parse("{\"id\":\"summarize\",\"signals\":{" + Signals + "}" + (members.Length == 0 ? "" : "," + members) + "}");

    [Fact]
    public void Parse_GenerationSection_ReadsEveryField()
    {
        var c = Parse(""" "generation": {"storeText": false, "maxChars": 1000, "maxPromptChars": 5000} """);

        Assert.Equal(new GenerationConfig { StoreText = false, MaxChars = 1000, MaxPromptChars = 5000 }, c.Generation);
    }

    [Fact]
    public void Parse_EmptySection_TakesTheDefaultsAndWritesThem()
    {
        var c = Parse(""" "generation": {} """);

        Assert.Equal(new GenerationConfig(), c.Generation);
        var written = LoopConfigJson.Serialize(c);
        Assert.Contains("\"generation\":{\"storeText\":true,\"maxChars\":65536,\"maxPromptChars\":262144}", written, StringComparison.Ordinal);
        Assert.Equal(c.Generation, LoopConfigJson.Parse(written).Generation);
    }

    [Fact]
    public void Serialize_LoopWithoutSection_WritesNone()
    {
        var c = Parse("");

        Assert.Null(c.Generation);
        Assert.DoesNotContain("generation", LoopConfigJson.Serialize(c), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(""" "generation": {"maxChars": 0} """, "generation.maxChars")]
    [InlineData(""" "generation": {"maxChars": 1048577} """, "generation.maxChars")]
    [InlineData(""" "generation": {"maxPromptChars": 0} """, "generation.maxPromptChars")]
    [InlineData(""" "generation": {"maxPromptChars": 4194305} """, "generation.maxPromptChars")]
    [InlineData(""" "kind": "rank", "generation": {} """, "generation")]
    [InlineData(""" "generation": {"store": true} """, "generation.store")]
    public void Parse_Invalid_NamesTheField(string members, string field)
    {
        var ex = Assert.Throws<FlywheelValidationException>(() => Parse(members));

        Assert.Equal(field, ex.Field);
    }
}

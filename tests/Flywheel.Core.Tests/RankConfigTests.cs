using Flywheel.Core;

namespace Flywheel.Core.Tests;

public class RankConfigTests
{
    private const string Signals = """ "signals": {"click": {"weight": 1}, "bounce": {"weight": -1}} """;

    private static LoopConfig Parse(string members) => LoopConfigJson.Parse("{\"id\":\"search\"," + Signals + (members.Length == 0 ? "" : "," + members) + "}");

    [Fact]
    public void Parse_RankSection_ReadsEveryField()
    {
        var c = Parse(""" "kind": "rank", "rank": {"slots": 10, "positionBias": [1.0, 0.6, 0.4], "interventionRate": 0.1} """);

        Assert.Equal(LoopKind.Rank, c.Kind);
        Assert.Equal(10, c.RankSettings.Slots);
        Assert.Equal(PositionBiasMode.Given, c.RankSettings.PositionBias.Mode);
        Assert.Equal([1.0, 0.6, 0.4], c.RankSettings.PositionBias.Examination);
        Assert.Equal(0.4, c.RankSettings.PositionBias.GivenAt(7));
        Assert.Equal(0.1, c.RankSettings.InterventionRate);
    }

    [Fact]
    public void Parse_RankKindWithoutSection_TakesTheDefaultsAndWritesThem()
    {
        var c = Parse(""" "kind": "rank" """);

        Assert.Equal(new RankConfig(), c.Rank);
        var written = LoopConfigJson.Serialize(c);
        Assert.Contains("\"rank\":{\"slots\":5,\"positionBias\":\"estimate\",\"interventionRate\":0.05}", written, StringComparison.Ordinal);
        Assert.Equal(c.Rank, LoopConfigJson.Parse(written).Rank);
    }

    [Fact]
    public void Serialize_ChooseLoop_WritesNoRankSection()
        => Assert.DoesNotContain("rank", LoopConfigJson.Serialize(Parse("")), StringComparison.Ordinal);

    [Theory]
    [InlineData(""" "kind": "rank", "rank": {"slots": 0} """, "rank.slots")]
    [InlineData(""" "kind": "rank", "rank": {"slots": 101} """, "rank.slots")]
    [InlineData(""" "kind": "rank", "rank": {"interventionRate": 0.6} """, "rank.interventionRate")]
    [InlineData(""" "kind": "rank", "rank": {"interventionRate": 0} """, "rank.interventionRate")]
    [InlineData(""" "kind": "rank", "rank": {"positionBias": "sometimes"} """, "rank.positionBias")]
    [InlineData(""" "kind": "rank", "rank": {"positionBias": [1, "x"]} """, "rank.positionBias[1]")]
    [InlineData(""" "kind": "rank", "rank": {"positionBias": [1, 0]} """, "rank.positionBias[1]")]
    [InlineData(""" "kind": "rank", "rank": {"positionBias": []} """, "rank.positionBias")]
    [InlineData(""" "kind": "rank", "rank": {"slots": 2, "positionBias": [1, 0.5, 0.2]} """, "rank.positionBias")]
    [InlineData(""" "kind": "rank", "mode": "apprentice" """, "mode")]
    [InlineData(""" "kind": "rank", "exploration": {"algorithm": "bag"} """, "exploration.algorithm")]
    [InlineData(""" "kind": "rank", "learner": {"reduction": "ips"} """, "learner.reduction")]
    [InlineData(""" "rank": {"slots": 3} """, "rank")]
    public void Parse_BadRankSettings_NamesTheField(string members, string field)
    {
        var ex = Assert.Throws<FlywheelValidationException>(() => Parse(members));
        Assert.Equal(field, ex.Field);
    }

    [Fact]
    public void Parse_EstimateWithoutInterventions_SaysWhy()
    {
        var ex = Assert.Throws<FlywheelValidationException>(() => Parse(""" "kind": "rank", "rank": {"interventionRate": 0} """));
        Assert.Contains("shuffled decisions", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_NoneOrGivenWithoutInterventions_IsAccepted()
    {
        Assert.Equal(PositionBias.None, Parse(""" "kind": "rank", "rank": {"positionBias": "none", "interventionRate": 0} """).RankSettings.PositionBias);
        Assert.Equal(PositionBias.Given(1, 0.5), Parse(""" "kind": "rank", "rank": {"positionBias": [1, 0.5], "interventionRate": 0} """).RankSettings.PositionBias);
    }
}

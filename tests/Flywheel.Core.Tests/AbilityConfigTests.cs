using Flywheel.Core;

namespace Flywheel.Core.Tests;

public class AbilityConfigTests
{
    private const string Answer = """ "correct": {"kind": "explicit", "weight": 1, "closesWindow": true} """;

    private static LoopConfig Parse(string members, string signals = Answer)
        => LoopConfigJson.Parse("{\"id\":\"tutor\",\"signals\":{" + signals + "}" + (members.Length == 0 ? "" : "," + members) + "}");

    [Fact]
    public void Parse_AbilitySection_ReadsEveryField()
    {
        var c = Parse(""" "kind": "ability", "ability": {"targetSuccess": 0.8, "model": "irt", "guess": 0.25, "reviews": true, "retention": 0.85, "graceDays": 2, "dayStartHour": 4} """);

        Assert.Equal(LoopKind.Ability, c.Kind);
        Assert.Equal(new AbilityConfig { TargetSuccess = 0.8, Model = AbilityModel.Irt, Guess = 0.25, Reviews = true, Retention = 0.85, GraceDays = 2, DayStartHour = 4 }, c.Ability);
    }

    [Fact]
    public void Parse_AbilityKindWithoutSection_TakesTheDefaultsAndWritesThem()
    {
        var c = Parse(""" "kind": "ability" """);

        Assert.Equal(new AbilityConfig(), c.Ability);
        var written = LoopConfigJson.Serialize(c);
        Assert.Contains("\"ability\":{\"targetSuccess\":0.7,\"model\":\"elo\",\"guess\":0,\"reviews\":false,\"retention\":0.9,\"graceDays\":0,\"dayStartHour\":0}", written, StringComparison.Ordinal);
        Assert.Equal(c.Ability, LoopConfigJson.Parse(written).Ability);
    }

    [Fact]
    public void Serialize_ChooseLoop_WritesNoAbilitySection()
        => Assert.DoesNotContain("ability", LoopConfigJson.Serialize(Parse("")), StringComparison.Ordinal);

    [Theory]
    [InlineData(""" "kind": "ability", "ability": {"targetSuccess": 0.99} """, "ability.targetSuccess")]
    [InlineData(""" "kind": "ability", "ability": {"targetSuccess": 0.01} """, "ability.targetSuccess")]
    [InlineData(""" "kind": "ability", "ability": {"guess": 0.6} """, "ability.guess")]
    [InlineData(""" "kind": "ability", "ability": {"guess": 0.5, "targetSuccess": 0.5} """, "ability.targetSuccess")]
    [InlineData(""" "kind": "ability", "ability": {"retention": 1} """, "ability.retention")]
    [InlineData(""" "kind": "ability", "ability": {"graceDays": 8} """, "ability.graceDays")]
    [InlineData(""" "kind": "ability", "ability": {"dayStartHour": 24} """, "ability.dayStartHour")]
    [InlineData(""" "kind": "ability", "ability": {"model": "bkt"} """, "ability.model")]
    [InlineData(""" "kind": "ability", "mode": "apprentice" """, "mode")]
    [InlineData(""" "kind": "ability", "exploration": {"algorithm": "bag"} """, "exploration.algorithm")]
    [InlineData(""" "kind": "ability", "reward": {"min": 0.5} """, "reward.min")]
    [InlineData(""" "ability": {} """, "ability")]
    [InlineData(""" "kind": "rank", "ability": {} """, "ability")]
    public void Parse_Invalid_NamesTheField(string members, string field)
    {
        var ex = Assert.Throws<FlywheelValidationException>(() => Parse(members));
        Assert.Equal(field, ex.Field);
    }

    [Theory]
    [InlineData(""" "done": {"weight": 1, "closesWindow": true} """, "signals.correct")]
    [InlineData(""" "correct": {"weight": 2, "closesWindow": true} """, "signals.correct")]
    [InlineData(""" "correct": {"weight": 1} """, "signals.correct")]
    [InlineData(""" "correct": {"weight": 1, "closesWindow": true}, "hint": {"weight": -0.2} """, "signals.hint.weight")]
    public void Parse_AbilityLoopWithoutTheAnswerAsItsReward_IsRefused(string signals, string field)
    {
        var ex = Assert.Throws<FlywheelValidationException>(() => Parse(""" "kind": "ability" """, signals));
        Assert.Equal(field, ex.Field);
    }
}

using System.Text;
using System.Text.Json.Serialization.Metadata;
using Flywheel.Core;

namespace Flywheel.Core.Tests;

public class FlywheelJsonTests
{
    [Fact]
    public void Contract_EveryTimeProperty_HasTheUtcConverter()
    {
        // Times are attached one property at a time (a converter in the options would turn off the fast path), so a
        // new time property without it would silently be written as "+00:00" instead of "Z".
        var missing = new List<string>();
        foreach (var type in typeof(FlywheelJson).Assembly.GetTypes())
        {
            if (type.ContainsGenericParameters || type.IsByRefLike || type.IsPointer
                || !FlywheelJson.Options.TryGetTypeInfo(type, out var info) || info.Kind != JsonTypeInfoKind.Object)
            {
                continue;
            }
            foreach (var property in info.Properties)
            {
                var t = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
                if (t == typeof(DateTimeOffset) && property.CustomConverter is null)
                {
                    missing.Add($"{type.Name}.{property.Name}");
                }
            }
        }

        Assert.Empty(missing);
    }

    [Fact]
    public void Serialize_Time_IsUtcWithSevenFractionalDigits()
    {
        var mismatch = new Mismatch
        {
            DecisionId = "d",
            At = new DateTimeOffset(2026, 11, 24, 13, 0, 0, TimeSpan.FromHours(1)),
            Version = 2,
            ServedActionId = "a",
            ShadowActionId = "b",
            Reward = -1,
            Wrong = MismatchSide.Served,
        };

        var json = FlywheelJson.Serialize(mismatch);

        Assert.Equal("""{"decisionId":"d","at":"2026-11-24T12:00:00.0000000Z","version":2,"servedActionId":"a","shadowActionId":"b","reward":-1,"wrong":"served"}""", json);
        Assert.Equal(mismatch, FlywheelJson.Read<Mismatch>(Encoding.UTF8.GetBytes(json)));
    }

    [Theory]
    [InlineData("""{"actions":[{"id":"a","score":1}]}""", "actions[0].score")]
    [InlineData("""{"actions":[{"id":7}]}""", "actions[0].id")]
    [InlineData("""{"actions":[{"id":"a"}],"context":{"u":{"x":1e400}}}""", "context.u.x")]
    [InlineData("""{"actions":[{"id":"a","features":{"i":{"t":[1]}}}]}""", "actions[0].features.i.t[0]")]
    [InlineData("""{"actions":[{"id":"a"}],"actions":[]}""", "actions")]
    [InlineData("""{"actions":{}}""", "actions")]
    [InlineData("""[1]""", "")]
    [InlineData("""{"actions":[""", "")]
    public void Read_MalformedDecideRequest_NamesTheField(string json, string field)
    {
        var ex = Assert.Throws<FlywheelValidationException>(() => FlywheelJson.Read<DecideRequest>(Encoding.UTF8.GetBytes(json)));

        Assert.Equal(field, ex.Field);
        Assert.False(string.IsNullOrWhiteSpace(ex.Problem));
    }

    [Fact]
    public void Read_BrokenJson_IsMalformedNotInvalid()
    {
        var ex = Assert.Throws<FlywheelValidationException>(() => FlywheelJson.Read<SignalBatch>("""{"signals":[}"""u8));

        Assert.Equal(ValidationKind.Malformed, ex.Kind);
        Assert.StartsWith("is not valid JSON", ex.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_SignalWithoutType_NamesTheMissingField()
    {
        var ex = Assert.Throws<FlywheelValidationException>(() => FlywheelJson.Read<SignalBatch>("""{"signals":[{"decisionId":"d"}]}"""u8));

        Assert.Equal("signals[0].type", ex.Field);
        Assert.Equal("is required", ex.Problem);
    }

    [Fact]
    public void ReadIgnoringUnknown_SkipsFieldsOfANewerServer()
    {
        var decision = FlywheelJson.ReadIgnoringUnknown<Decision>(
            """{"decisionId":"d","loop":"l","modelVersion":1,"chosenActionId":"a","explored":false,"ranking":[{"actionId":"a","probability":1}],"new":true}"""u8);

        Assert.Equal("a", decision.ChosenActionId);
        Assert.Throws<FlywheelValidationException>(() => FlywheelJson.Read<Decision>(
            """{"decisionId":"d","loop":"l","modelVersion":1,"chosenActionId":"a","explored":false,"ranking":[],"new":true}"""u8));
    }
}

namespace Flywheel.Core.Tests;

public class FeatureValueLimitTests
{
    [Theory]
    [InlineData(1e16)]
    [InlineData(-1.7976931348623157e308)]
    public void Validate_ValueBeyondMaxFeatureValue_NamesTheFeatureAndTheLimit(double value)
    {
        var features = new Features { ["user"] = { ["age"] = value } };
        var ex = Assert.Throws<FlywheelValidationException>(() => features.Validate("context"));
        Assert.Equal("context.user.age", ex.Field);
        Assert.Contains("MaxFeatureValue", ex.Message);
    }

    [Fact]
    public void Validate_ValueAtTheLimit_Passes_AndTheLimitIsConfigurable()
    {
        new Features { ["t"] = { ["us"] = 1e15, ["neg"] = -1e15 } }.Validate("context");
        Assert.Throws<FlywheelValidationException>(() => new Features { ["t"] = { ["x"] = 11 } }.Validate("context", new FlywheelLimits { MaxFeatureValue = 10 }));
    }
}

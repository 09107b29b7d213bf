using Flywheel.Core;

namespace Flywheel.Core.Tests;

public sealed class FlywheelLimitsIdTests
{
    [Theory]
    [InlineData("d-1")]
    [InlineData("a b")]
    [InlineData("日本語")]
    [InlineData("emoji 😀")]
    [InlineData("a:b@c%d+e?f#g")]
    [InlineData("...")]
    [InlineData(".x")]
    public void IsValidId_LegalIds_AreAccepted(string id)
    {
        Assert.True(FlywheelLimits.Default.IsValidId(id));
        FlywheelLimits.Default.CheckId("decisionId", id);
    }

    public static TheoryData<string?, string> Invalid => new()
    {
        { null, "is required" },
        { "", "must not be empty" },
        { new string('x', 257), "the limit is 256" },
        { "a\0", "control characters (U+0000 at index 1)" },
        { "a\u009Fb", "control characters (U+009F at index 1)" },
        { "a/b", "'/'" },
        { "a\\b", "'\\'" },
        { "\u2003a", "whitespace" },
        { "a\r", "whitespace" },
        { ".", "'.'" },
        { "..", "'..'" },
        { "x\uD83D", "unpaired surrogate (U+D83D at index 1)" },
        { "\uDE00x", "unpaired surrogate (U+DE00 at index 0)" },
    };

    [Theory]
    [MemberData(nameof(Invalid), DisableDiscoveryEnumeration = true)] // xunit would turn lone surrogates into U+FFFD
    public void CheckId_InvalidIds_ThrowNamingTheFieldAndTheProblem(string? id, string problem)
    {
        Assert.False(FlywheelLimits.Default.IsValidId(id));

        var ex = Assert.Throws<FlywheelValidationException>(() => FlywheelLimits.Default.CheckId("signals[2].userId", id));

        Assert.Equal("signals[2].userId", ex.Field);
        Assert.Contains(problem, ex.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckId_NullWhenOptional_IsAccepted() => FlywheelLimits.Default.CheckId("userId", null, required: false);
}

using System.Globalization;
using Flywheel.Learning.Replay;

namespace Flywheel.Learning.Tests.Replay;

public class DecimalTextTests
{
    [Theory]
    [InlineData("0", 0.0)]
    [InlineData("16", 16.0)]
    [InlineData("-0.173", -0.173)]
    [InlineData("+2.5", 2.5)]
    [InlineData("0.001", 0.001)]
    [InlineData(".5", 0.5)]
    [InlineData("1.", 1.0)]
    [InlineData("1.50", 1.5)]
    [InlineData("000123.4500", 123.45)]
    [InlineData("999999999999999", 999999999999999.0)]
    [InlineData("0.0000000000000000000001", 1e-22)]
    public void TryParsePlain_PlainDecimals_GiveTheSameBitsAsDoubleParse(string text, double expected)
    {
        Assert.True(DecimalText.TryParsePlain(text, out var value));
        Assert.Equal(BitConverter.DoubleToInt64Bits(expected), BitConverter.DoubleToInt64Bits(value));
        Assert.Equal(BitConverter.DoubleToInt64Bits(double.Parse(text, CultureInfo.InvariantCulture)), BitConverter.DoubleToInt64Bits(value));
    }

    [Theory]
    [InlineData("")]
    [InlineData("-")]
    [InlineData(".")]
    [InlineData("1e3")]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("1.2.3")]
    [InlineData("0x10")]
    [InlineData("NaN")]
    [InlineData("1234567890123456")] // 16 significant digits: beyond the exact range
    [InlineData("0.00000000000000000000001")] // 23 decimals
    public void TryParsePlain_AnythingElse_IsLeftToTheFullParser(string text)
        => Assert.False(DecimalText.TryParsePlain(text, out _));

    [Fact]
    public void TryParsePlain_RandomDecimals_MatchDoubleParseBitForBit()
    {
        var random = new Random(674386);
        for (var i = 0; i < 200_000; i++)
        {
            var integer = random.Next(4) switch { 0 => "0", 1 => random.Next(10).ToString(CultureInfo.InvariantCulture), 2 => random.Next(100_000).ToString(CultureInfo.InvariantCulture), _ => random.NextInt64(1_000_000_000_000L).ToString(CultureInfo.InvariantCulture) };
            var fraction = new string(Enumerable.Range(0, random.Next(0, 12)).Select(_ => (char)('0' + random.Next(10))).ToArray());
            var text = (random.Next(2) == 0 ? "-" : "") + integer + (fraction.Length > 0 || random.Next(3) == 0 ? "." + fraction : "");
            if (DecimalText.TryParsePlain(text, out var value))
            {
                Assert.Equal(BitConverter.DoubleToInt64Bits(double.Parse(text, CultureInfo.InvariantCulture)), BitConverter.DoubleToInt64Bits(value));
                Assert.Equal((float)double.Parse(text, CultureInfo.InvariantCulture), (float)value);
            }
            else
            {
                Assert.True(text.Count(char.IsAsciiDigit) - text.TrimStart('-').TakeWhile(c => c is '0' or '.').Count(char.IsAsciiDigit) > 15, text);
            }
        }
    }
}

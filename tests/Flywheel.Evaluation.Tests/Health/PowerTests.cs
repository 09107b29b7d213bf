using Flywheel.Evaluation.Health;

namespace Flywheel.Evaluation.Tests.Health;

public class PowerTests
{
    [Fact]
    public void SampleSizePerArm_CohensSmallEffect_Is393()
    {
        // 2·(z_.975 + z_.8)²/d² = 2·(1.959963985 + 0.841621234)²/0.04 = 392.444 → 393 per arm (the t-test's 394 is
        // one more, from its heavier tails).
        Assert.Equal(393, Power.SampleSizePerArm(effect: 0.2, standardDeviation: 1));
        // Same standardised effect on another scale, and the sign of δ does not matter.
        Assert.Equal(393, Power.SampleSizePerArm(effect: -1, standardDeviation: 5));
    }

    [Fact]
    public void SampleSizePerArm_OneSided_UsesZOfAlpha()
    {
        // 2·(z_.95 + z_.8)²/0.04 = 2·(1.644853627 + 0.841621234)²/0.04 = 309.128 → 310.
        Assert.Equal(310, Power.SampleSizePerArm(0.2, 1, twoSided: false));
    }

    [Fact]
    public void MinimumDetectableEffect_UnequalArms_MatchesFormula()
    {
        // (1.959963985 + 0.841621234)·2·√(1/100 + 1/200) = 2.801585218·2·0.122474487 = 0.686245426 (mpmath).
        var mde = Power.MinimumDetectableEffect(100, 200, standardDeviation: 2);
        Assert.Equal(0.68624542553006884, mde, 1e-12);
    }

    [Fact]
    public void MinimumDetectableEffect_AtTheSampleSize_IsAtMostTheEffect()
    {
        // Inverse of SampleSizePerArm: 393 per arm detects d a hair below 0.2, 392 per arm does not reach it.
        Assert.InRange(Power.MinimumDetectableEffect(393, 393, 1), 0.199, 0.2);
        Assert.True(Power.MinimumDetectableEffect(392, 392, 1) > 0.2);
    }

    [Fact]
    public void CohensH_FortyVersusFortyFourPercent_Is0081068()
    {
        // 2·asin√0.44 − 2·asin√0.40 = 2·(0.726642 − 0.684719) = 0.0810680384 (mpmath).
        Assert.Equal(0.08106804, Power.CohensH(0.40, 0.44), 1e-8);
        Assert.Equal(-Power.CohensH(0.40, 0.44), Power.CohensH(0.44, 0.40), 1e-15);
    }

    [Fact]
    public void ProportionSampleSizePerArm_FortyVersusFortyFourPercent_Is2389()
    {
        // 2·(2.801585218/0.081068038)² = 2388.572 → 2,389 per arm (statsmodels' NormalIndPower root: 2388.566).
        Assert.Equal(2389, Power.ProportionSampleSizePerArm(0.40, 0.44));
    }

    [Fact]
    public void DetectableProportion_At2389PerArm_Is0439996()
    {
        // h_min = 2.801585218·√(2/2389) = 0.0810607766; p2 = sin²(asin√0.4 + h_min/2) = 0.4399963953 (mpmath).
        var p2 = Power.DetectableProportion(0.40, 2389, 2389);
        Assert.Equal(0.439996, p2, 1e-5);
        Assert.Equal(0.43999639534881602, p2, 1e-12);
    }

    [Fact]
    public void DetectableProportion_NearOne_IsNaNWhenNoIncreaseIsDetectable()
    {
        Assert.True(double.IsNaN(Power.DetectableProportion(0.999, 10, 10)));
        // The detectable decrease, by symmetry: a drop from 0.999 is visible with enough data.
        var lower = 1 - Power.DetectableProportion(1 - 0.999, 10_000, 10_000);
        Assert.InRange(lower, 0.99, 0.999);
    }

    [Fact]
    public void AchievedPower_At2389PerArm_Is080007()
    {
        // Exact two-sided power, both tails: 1 − Φ(1.95996 − h√(2389/2)) + Φ(−1.95996 − h√(2389/2)) = 0.8000712 (mpmath).
        var power = Power.AchievedPower(Power.CohensH(0.40, 0.44), 2389, 2389);
        Assert.Equal(0.80007121631183561, power, 1e-10);
    }

    [Fact]
    public void AchievedPower_NoEffect_IsAlpha()
    {
        Assert.Equal(0.05, Power.AchievedPower(0, 50, 70), 1e-14);
        Assert.Equal(0.05, Power.AchievedPower(0, 50, 70, twoSided: false), 1e-14);
    }

    [Fact]
    public void SampleSizePerArm_InvalidArguments_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Power.SampleSizePerArm(0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Power.SampleSizePerArm(0.2, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Power.SampleSizePerArm(0.2, 1, alpha: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Power.SampleSizePerArm(0.2, 1, power: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Power.SampleSizePerArm(1e-300, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Power.ProportionSampleSizePerArm(0.4, 0.4));
        Assert.Throws<ArgumentOutOfRangeException>(() => Power.CohensH(-0.1, 0.4));
        Assert.Throws<ArgumentOutOfRangeException>(() => Power.MinimumDetectableEffect(0, 10, 1));
    }
}

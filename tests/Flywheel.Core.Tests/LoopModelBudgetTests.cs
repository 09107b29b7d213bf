using Flywheel.Core;

namespace Flywheel.Core.Tests;

public class LoopModelBudgetTests
{
    private static LoopConfig Loop(int bits = 18, ExplorationConfig? exploration = null, Reduction reduction = Reduction.Dm) => new()
    {
        Id = "feed",
        Signals = new Dictionary<string, SignalTypeConfig> { ["click"] = new() },
        Exploration = exploration ?? new ExplorationConfig(),
        Learner = new LearnerConfig { Bits = bits, Reduction = reduction },
    };

    private static ExplorationConfig Bag(int bags) => new() { Algorithm = ExplorationAlgorithm.Bag, Bags = bags };

    [Fact]
    public void ModelBytes_CountsEveryRegressorDenseWithItsServedCopy()
    {
        Assert.Equal(16L << 18, Loop().ModelBytes()); // 4 MiB: 12 bytes of learner state and 4 served per slot
        Assert.Equal(5 * 16L << 18, Loop(exploration: Bag(5)).ModelBytes());
        Assert.Equal((16L + 12) << 20, Loop(bits: 20, reduction: Reduction.Dr).ModelBytes()); // dr's reward model is never served
        Assert.Equal(16L << 30, Loop(bits: 24, exploration: Bag(64)).ModelBytes());
        // Bags count only when the loop explores by bagging.
        Assert.Equal(16L << 24, Loop(bits: 24, exploration: new ExplorationConfig { Bags = 64 }).ModelBytes());
    }

    [Fact]
    public void Validate_BitsAndBagsPastTheBudget_NamesTheFieldsTheSizeAndTheLimit()
    {
        var ex = Assert.Throws<FlywheelValidationException>(() => Loop(bits: 24, exploration: Bag(64)).Validate(FlywheelLimits.Default));

        Assert.Equal("learner.bits", ex.Field);
        Assert.Equal(ValidationKind.Invalid, ex.Kind);
        Assert.Equal(
            "24 bits with exploration.bags 64 need 16 GiB of weights once the model is dense (64 regressors of 2^24 slots); "
            + "at most 1 GiB per loop is allowed (FlywheelLimits.MaxLoopModelBytes): lower learner.bits or exploration.bags",
            ex.Problem);
    }

    [Fact]
    public void Validate_DrPastASmallerBudget_NamesTheRewardModel()
    {
        var limits = new FlywheelLimits { MaxLoopModelBytes = 256L << 20 };

        var ex = Assert.Throws<FlywheelValidationException>(() => Loop(bits: 24, reduction: Reduction.Dr).Validate(limits));

        Assert.Equal("learner.bits", ex.Field);
        Assert.Equal(
            "24 bits with learner.reduction dr (a reward model beside the policy) need 448 MiB of weights once the model is dense "
            + "(2 regressors of 2^24 slots); at most 256 MiB per loop is allowed (FlywheelLimits.MaxLoopModelBytes): lower learner.bits",
            ex.Problem);
    }

    [Theory]
    [InlineData(24, 1)] // 256 MiB
    [InlineData(24, 4)] // 1 GiB exactly: at most, so allowed
    [InlineData(20, 64)] // 1 GiB
    [InlineData(18, 64)] // the largest bag count at the default bits: 256 MiB
    public void Validate_WithinTheDefaultBudget_Passes(int bits, int bags)
        => Loop(bits: bits, exploration: Bag(bags)).Validate(FlywheelLimits.Default);

    [Fact]
    public void Validate_RaisedLimit_AllowsTheLargestConfig()
        => Loop(bits: 24, exploration: Bag(64), reduction: Reduction.Dr).Validate(new FlywheelLimits { MaxLoopModelBytes = 17L << 30 });

    [Fact]
    public void Validate_WithoutLimits_KeepsCheckingOnlyTheConfigsOwnRules()
    {
        // Stores and clients validate configs without the engine's limits: a stored config is never refused for its size.
        Loop(bits: 24, exploration: Bag(64)).Validate();
        var ex = Assert.Throws<FlywheelValidationException>(() => Loop(bits: 25).Validate(FlywheelLimits.Default));
        Assert.Equal("learner.bits", ex.Field);
        Assert.Contains("at most 24", ex.Problem, StringComparison.Ordinal);
    }
}

using Flywheel.Core;
using Flywheel.Learning;

namespace Flywheel.Learning.Tests;

public class ModelSnapshotTests
{
    private static BanditLearner Trained(LearnerConfig config)
    {
        var learner = new BanditLearner(config);
        var random = new Random(674386);
        for (var i = 0; i < 500; i++)
        {
            int[] indices = [random.Next(1 << config.Bits), random.Next(1 << config.Bits), 7];
            learner.Learn(indices, [(float)random.NextDouble(), 1f, 1f], random.Next(2), 0.5, 4);
        }
        return learner;
    }

    [Theory]
    [InlineData(Reduction.Dm)]
    [InlineData(Reduction.Mtr)]
    public void SaveLoad_TrainedLearner_RoundTripsBitExactly(Reduction reduction)
    {
        var config = new LearnerConfig { Bits = 16, Reduction = reduction };
        var learner = Trained(config);
        var bytes = ModelSnapshot.Save(learner);
        var loaded = ModelSnapshot.Load(bytes, config);
        Assert.Equal(learner.Examples, loaded.Examples);
        Assert.Equal(learner.ActionsSeen, loaded.ActionsSeen);
        Assert.Equal(learner.Regressor.NormalizedSum, loaded.Regressor.NormalizedSum);
        Assert.Equal(learner.Regressor.TotalWeight, loaded.Regressor.TotalWeight);
        Assert.True(learner.Regressor.Weights.SequenceEqual(loaded.Regressor.Weights));
        Assert.True(learner.Regressor.Gradients.SequenceEqual(loaded.Regressor.Gradients));
        Assert.True(learner.Regressor.Norms.SequenceEqual(loaded.Regressor.Norms));
        Assert.Equal(bytes, ModelSnapshot.Save(loaded));
    }

    [Fact]
    public void Load_AnyFlippedByte_IsDetected()
    {
        var config = new LearnerConfig { Bits = 16 };
        var bytes = ModelSnapshot.Save(Trained(config));
        for (var i = 0; i < bytes.Length; i += Math.Max(1, bytes.Length / 97))
        {
            var corrupt = (byte[])bytes.Clone();
            corrupt[i] ^= 0x10;
            Assert.Throws<ModelSnapshotException>(() => ModelSnapshot.Load(corrupt, config));
        }
    }

    [Fact]
    public void Load_Truncated_IsDetected()
    {
        var config = new LearnerConfig { Bits = 16 };
        var bytes = ModelSnapshot.Save(Trained(config));
        Assert.Throws<ModelSnapshotException>(() => ModelSnapshot.Load(bytes.AsSpan(0, bytes.Length - 3), config));
        Assert.Throws<ModelSnapshotException>(() => ModelSnapshot.Load([], config));
    }

    [Fact]
    public void Load_OtherSettings_IsRejectedWithAClearMessage()
    {
        var bytes = ModelSnapshot.Save(Trained(new LearnerConfig { Bits = 16 }));
        var ex = Assert.Throws<ModelSnapshotException>(() => ModelSnapshot.Load(bytes, new LearnerConfig { Bits = 16, Interactions = ["context*context*action"] }));
        Assert.Contains("settings", ex.Message);
    }
}

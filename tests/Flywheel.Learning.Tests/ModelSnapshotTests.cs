using System.Buffers.Binary;
using System.IO.Hashing;
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
        Assert.Equal(learner.Regressor.MinLabel, loaded.Regressor.MinLabel);
        Assert.Equal(learner.Regressor.MaxLabel, loaded.Regressor.MaxLabel);
        Assert.Equal(bytes, ModelSnapshot.Save(loaded));
    }

    [Fact]
    public void SaveLoad_Mtr_KeepsTheLabelRangeItClipsTo()
    {
        var config = new LearnerConfig { Bits = 16, Reduction = Reduction.Mtr };
        var learner = Trained(config);
        Assert.Equal(PredictionClip.Range, learner.Regressor.Clip);
        Assert.Equal((0f, 1f), (learner.Regressor.MinLabel, learner.Regressor.MaxLabel));
        var loaded = ModelSnapshot.Load(ModelSnapshot.Save(learner), config);
        Assert.Equal(PredictionClip.Range, loaded.Regressor.Clip);
        Assert.Equal((0f, 1f), (loaded.Regressor.MinLabel, loaded.Regressor.MaxLabel));
    }

    [Fact]
    public void Load_Format2_WithoutLabelRange_StillLoads()
    {
        var config = new LearnerConfig { Bits = 16 };
        var learner = Trained(config);
        var loaded = ModelSnapshot.Load(AsFormat2(ModelSnapshot.Save(learner)), config);
        Assert.Equal(learner.Examples, loaded.Examples);
        Assert.True(learner.Regressor.Weights.SequenceEqual(loaded.Regressor.Weights));
        Assert.Equal((0f, 0f), (loaded.Regressor.MinLabel, loaded.Regressor.MaxLabel));
    }

    [Fact]
    public void Load_UnknownFormat_IsRejectedWithAClearMessage()
    {
        var config = new LearnerConfig { Bits = 16 };
        var bytes = ModelSnapshot.Save(Trained(config));
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(8), 9);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(bytes.Length - 8), XxHash64.HashToUInt64(bytes.AsSpan(0, bytes.Length - 8)));
        var ex = Assert.Throws<ModelSnapshotException>(() => ModelSnapshot.Load(bytes, config));
        Assert.Contains("format 9", ex.Message);
    }

    // Rewrites a one-regressor format-3 snapshot as format 2: the version, no label range, a new checksum.
    private static byte[] AsFormat2(byte[] v3)
    {
        const int header = 8 + 4 + 8 + 4 + 4 + 8 + 8 + 8;
        var v2 = new List<byte>(v3.Length);
        v2.AddRange(v3.AsSpan(0, header + 16).ToArray());
        v2.AddRange(v3.AsSpan(header + 24, v3.Length - 8 - (header + 24)).ToArray());
        var body = v2.ToArray();
        BinaryPrimitives.WriteInt32LittleEndian(body.AsSpan(8), 2);
        var result = new byte[body.Length + 8];
        body.CopyTo(result, 0);
        BinaryPrimitives.WriteUInt64LittleEndian(result.AsSpan(body.Length), XxHash64.HashToUInt64(body));
        return result;
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

using Flywheel.Core;
using Flywheel.Learning;

namespace Flywheel.Learning.Tests;

public class FeaturizerTests
{
    private static readonly Features Context = new()
    {
        ["user"] = { ["country"] = "fr", ["tenure_days"] = 31, ["premium"] = true, ["topics"] = new[] { "cooking", "diy" } },
        ["time"] = { ["hour"] = 20 },
    };

    private static readonly ActionCandidate Action = new("v1", new Features { ["item"] = { ["topic"] = "cooking", ["length_s"] = 35 } });

    private static (int[] Indices, float[] Values) Build(LearnerConfig config, Features context, ActionCandidate action)
    {
        var featurizer = new Featurizer(config);
        var vector = new FeatureVector();
        featurizer.SetContext(HashedFeatureSet.FromContext(context));
        featurizer.AddAction(HashedFeatureSet.FromAction(action), vector);
        return (vector.Indices(0).ToArray(), vector.Values(0).ToArray());
    }

    [Fact]
    public void AddAction_ContextTimesAction_CountsConstantActionAloneAndCrosses()
    {
        // Context: country, tenure, premium, 2 topics, hour = 6 features. Action: topic, length + implicit id = 3.
        var (indices, _) = Build(new LearnerConfig(), Context, Action);
        Assert.Equal(1 + 3 + 6 * 3, indices.Length);
    }

    [Fact]
    public void CrossIndices_EveryLength_EqualsIndexOfCrossOneByOne()
    {
        var random = new Random(674386);
        foreach (var mask in new[] { (1 << 18) - 1, (1 << 24) - 1, 15 })
        {
            for (var n = 0; n <= 41; n++)
            {
                var left = Enumerable.Range(0, n).Select(_ => (ulong)random.NextInt64() ^ ((ulong)random.Next() << 40)).ToArray();
                var right = (ulong)random.NextInt64();
                var indices = new int[n + 3];
                FeatureHashing.CrossIndices(left.Select(FeatureHashing.CrossLeft).ToArray(), right, mask, indices);
                for (var i = 0; i < n; i++)
                {
                    Assert.Equal(FeatureHashing.Index(FeatureHashing.Cross(left[i], right), mask), indices[i]);
                }
                Assert.Equal([0, 0, 0], indices[n..]);
            }
        }
    }

    [Fact]
    public void AddAction_Mtr_LeavesOutTheSharedConstant()
    {
        var dm = new Featurizer(new LearnerConfig());
        var mtr = new Featurizer(new LearnerConfig { Reduction = Reduction.Mtr });
        Assert.True(dm.SharedConstant);
        Assert.False(mtr.SharedConstant);
        var (withConstant, _) = Build(new LearnerConfig(), Context, Action);
        var (without, _) = Build(new LearnerConfig { Reduction = Reduction.Mtr }, Context, Action);
        Assert.Equal(withConstant.Skip(1), without);
        Assert.Equal(FeatureHashing.Index(FeatureHashing.Constant, dm.Mask), withConstant[0]);
        Assert.DoesNotContain(withConstant[0], without);
    }

    [Fact]
    public void AddAction_ContextPairs_AddsEachUnorderedPairOnce()
    {
        var (indices, _) = Build(new LearnerConfig { Interactions = ["context*action", "context*context*action"] }, Context, Action);
        Assert.Equal(1 + 3 + 6 * 3 + 15 * 3, indices.Length);
    }

    [Fact]
    public void AddAction_TermOrder_DoesNotChangeTheIndices()
    {
        var a = Build(new LearnerConfig { Interactions = ["context*action"] }, Context, Action);
        var b = Build(new LearnerConfig { Interactions = ["action*context"] }, Context, Action);
        Assert.Equal(a.Indices, b.Indices);
    }

    [Fact]
    public void AddAction_NamedNamespaces_CrossOnlyThose()
    {
        var (indices, values) = Build(new LearnerConfig { Interactions = ["time*item"] }, Context, Action);
        Assert.Equal(1 + 3 + 1 * 2, indices.Length);
        Assert.Equal(20f * 35f, values[^1]);
    }

    [Fact]
    public void AddAction_SameInputInAnotherFeaturizer_SameIndices()
    {
        var config = new LearnerConfig { Interactions = ["context*action", "context*context*action"] };
        Assert.Equal(Build(config, Context, Action).Indices, Build(config, Context, Action).Indices);
    }

    [Fact]
    public void AddAction_DifferentActionIds_GetDifferentWeights()
    {
        var a = Build(new LearnerConfig(), Context, new ActionCandidate("a"));
        var b = Build(new LearnerConfig(), Context, new ActionCandidate("b"));
        Assert.Equal(a.Indices[0], b.Indices[0]); // the shared constant
        Assert.NotEqual(a.Indices[1..], b.Indices[1..]);
    }

    [Fact]
    public void AddAction_BeforeSetContext_Throws()
    {
        var featurizer = new Featurizer(new LearnerConfig());
        Assert.Throws<InvalidOperationException>(() => featurizer.AddAction(HashedFeatureSet.FromAction(Action), new FeatureVector()));
    }
}

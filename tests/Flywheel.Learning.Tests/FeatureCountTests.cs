using Flywheel.Core;

namespace Flywheel.Learning.Tests;

/// <summary>Featurizer.CountFeatures, the cost check before a decision is scored, must equal what scoring produces.</summary>
public class FeatureCountTests
{
    private static readonly string[][] TermSets =
    [
        ["context*action"],
        ["context*context*action"],
        ["context*action", "context*context"],
        ["action*action"],
        ["user*item", "user*user*item"],
        ["user*time", "item*@action"],
        ["context*action*action", "time*item*item"],
        ["missing*item", "user*missing"],
    ];

    [Fact]
    public void CountFeatures_RandomDecisions_EqualsTheFeaturesScoringProduces()
    {
        var random = new Random(4815162);
        foreach (var terms in TermSets)
        {
            foreach (var reduction in new[] { Reduction.Dr, Reduction.Mtr })
            {
                var config = new LearnerConfig { Interactions = terms, Reduction = reduction };
                for (var trial = 0; trial < 25; trial++)
                {
                    var context = RandomFeatures(random, ["user", "time", "session"]);
                    var actions = Enumerable.Range(0, 1 + random.Next(6))
                        .Select(a => new ActionCandidate($"a{a}", RandomFeatures(random, ["item", "creator"]))).ToList();
                    var featurizer = new Featurizer(config);
                    var vector = new FeatureVector();
                    featurizer.SetContext(HashedFeatureSet.FromContext(context));
                    foreach (var action in actions)
                    {
                        featurizer.AddAction(HashedFeatureSet.FromAction(action), vector);
                    }
                    Assert.Equal(vector.Count, new Featurizer(config).CountFeatures(context, actions));
                }
            }
        }
    }

    [Fact]
    public void CountFeatures_HugeCubicCross_IsCountedWithoutBuildingIt()
    {
        // 8 namespaces × 1,024 context features, 1,000 actions: C(8192, 2) pairs per action, about 3.4e10 in all.
        var context = new Features();
        for (var n = 0; n < 8; n++)
        {
            var ns = new FeatureNamespace();
            for (var f = 0; f < 1024; f++)
            {
                ns.Add($"f{f}", f + 1);
            }
            context.Add($"n{n}", ns);
        }
        var actions = Enumerable.Range(0, 1000).Select(a => new ActionCandidate($"a{a}", new Features())).ToList();
        var count = new Featurizer(new LearnerConfig { Interactions = ["context*context*action"] }).CountFeatures(context, actions);
        Assert.Equal(1000L * (1 + 1 + 8192L * 8191 / 2), count);
        Assert.Equal(8, context.Count); // counting adds no namespace to the request
    }

    private static Features RandomFeatures(Random random, string[] names)
    {
        var features = new Features();
        foreach (var name in names)
        {
            if (random.Next(4) == 0)
            {
                continue; // sometimes missing
            }
            var ns = new FeatureNamespace();
            for (var f = random.Next(5); f > 0; f--)
            {
                ns.Add($"f{f}", random.Next(4) switch
                {
                    0 => FeatureValue.FromNumber(random.Next(3)), // zero sometimes, which adds nothing
                    1 => FeatureValue.FromString($"s{random.Next(9)}"),
                    2 => FeatureValue.FromStrings(Enumerable.Range(0, random.Next(3)).Select(i => $"t{i}")),
                    _ => FeatureValue.FromBoolean(random.Next(2) == 1),
                });
            }
            features.Add(name, ns);
        }
        return features;
    }
}

using Flywheel.Core;

namespace Flywheel.Evaluation.Tests;

public class OffPolicyEvaluatorTests
{
    private static LoggedDecision Row(int i, string chosen, double p, double reward,
        Dictionary<string, double>? target = null, Dictionary<string, double>? estimates = null, int actions = 3)
        => new()
        {
            DecisionId = $"d{i}",
            Context = new Features { ["user"] = { ["country"] = i % 2 == 0 ? "fr" : "us", ["hour"] = i % 24 } },
            Actions = Enumerable.Range(0, actions).Select(a => new ActionCandidate($"a{a}", new Features { ["item"] = { ["k"] = a } })).ToList(),
            ChosenActionId = chosen,
            Probability = p,
            Reward = reward,
            TargetProbabilities = target,
            RewardEstimates = estimates,
        };

    [Fact]
    public void Evaluate_FileValues_AreUsedAsGiven()
    {
        var rows = new[]
        {
            Row(0, "a0", 0.5, 1, new() { ["a0"] = 1 }, new() { ["a0"] = 0.8, ["a1"] = 0.1, ["a2"] = 0 }),
            Row(1, "a1", 0.25, 0, new() { ["a0"] = 0.5, ["a1"] = 0.5 }, new() { ["a0"] = 0.4, ["a1"] = 0.2, ["a2"] = 0 }),
        };
        var report = OffPolicyEvaluator.Evaluate(rows);
        Assert.Equal("file", report.TargetPolicy);
        Assert.Equal("file", report.RewardEstimates);
        var e = report.Estimates;
        // w = [2, 2]; w·r = [2, 0]; q̂(x, π) = [0.8, 0.3]; DR = [0.8 + 2·0.2, 0.3 + 2·(0 − 0.2)].
        Assert.Equal(1.0, e.Ips.Value, 15);
        Assert.Equal(0.5, e.Snips.Value, 15);
        Assert.Equal(0.55, e.Dm.Value, 15);
        Assert.Equal((1.2 - 0.1) / 2, e.Dr.Value, 15);
        Assert.Equal(2, e.EffectiveSampleSize, 15);
    }

    [Fact]
    public void Evaluate_NoTargetProbabilities_UsesUniform()
    {
        var rows = new[]
        {
            Row(0, "a0", 0.5, 1, estimates: new() { ["a0"] = 1, ["a1"] = 0, ["a2"] = 0.5 }),
            Row(1, "a2", 0.2, 0.5, estimates: new() { ["a0"] = 0, ["a1"] = 0, ["a2"] = 0.5 }),
        };
        var report = OffPolicyEvaluator.Evaluate(rows);
        Assert.Equal("uniform", report.TargetPolicy);
        Assert.Equal("file", report.RewardEstimates);
        // w = (1/3)/p: [2/3, 5/3].
        Assert.Equal((2.0 / 3 * 1 + 5.0 / 3 * 0.5) / 2, report.Estimates.Ips.Value, 14);
        Assert.Equal((0.5 + 0.5 / 3) / 2, report.Estimates.Dm.Value, 14);
    }

    [Fact]
    public void Evaluate_CustomFallbackPolicy()
    {
        var rows = new[] { Row(0, "a1", 0.5, 1), Row(1, "a0", 0.5, 1) };
        var report = OffPolicyEvaluator.Evaluate(rows, new OffPolicyEvaluatorOptions { FallbackPolicy = new Always("a1") });
        Assert.Equal("always-a1", report.TargetPolicy);
        Assert.Equal(1.0, report.Estimates.Ips.Value, 15);
        Assert.Throws<InvalidOperationException>(() => OffPolicyEvaluator.Evaluate(rows, new OffPolicyEvaluatorOptions { FallbackPolicy = new Broken() }));
    }

    [Fact]
    public void Evaluate_NoRewardEstimates_FitsAModel_Progressively()
    {
        // Action a1 always pays 1 and the others 0: the fitted q̂ must learn it, so DM approaches the policy's value.
        var rows = Enumerable.Range(0, 2001).Select(i =>
        {
            var chosen = $"a{i % 3}";
            return Row(i, chosen, 1.0 / 3, chosen == "a1" ? 1 : 0, new() { ["a1"] = 1 });
        }).ToList();
        var report = OffPolicyEvaluator.Evaluate(rows);
        Assert.Equal("file", report.TargetPolicy);
        Assert.Equal("fitted", report.RewardEstimates);
        Assert.Equal(1.0, report.Estimates.Ips.Value, 12);
        Assert.InRange(report.Estimates.Dm.Value, 0.9, 1.05);
        Assert.InRange(report.Estimates.Dr.Value, 0.9, 1.1);
        // Deterministic: the same rows give the same numbers.
        Assert.Equal(report.Estimates, OffPolicyEvaluator.Evaluate(rows).Estimates);

        // The first row is scored before anything was learned: q̂ = 0, so DM's first term is 0.
        var first = OffPolicyEvaluator.Evaluate(rows.Take(1));
        Assert.Equal(0, first.Estimates.Dm.Value);
        Assert.Equal(0, first.Estimates.Dr.Value);
    }

    [Fact]
    public void Evaluate_SomeRowsWithValues_ReportsMixed()
    {
        var rows = new[]
        {
            Row(0, "a0", 0.5, 1, new() { ["a0"] = 1 }, new() { ["a0"] = 0.8, ["a1"] = 0.1, ["a2"] = 0 }),
            Row(1, "a1", 0.5, 0),
            Row(2, "a1", 0.5, 1, new() { ["a1"] = 1 }),
        };
        var report = OffPolicyEvaluator.Evaluate(rows);
        Assert.Equal("mixed", report.TargetPolicy);
        Assert.Equal("mixed", report.RewardEstimates);
        Assert.Equal(2, report.RowsWithTargetProbabilities);
        Assert.Equal(1, report.RowsWithRewardEstimates);
        Assert.Equal(3, report.Estimates.Count);
    }

    [Fact]
    public void Add_InvalidDecision_Throws()
    {
        var evaluator = new OffPolicyEvaluator();
        var ex = Assert.Throws<FlywheelValidationException>(() => evaluator.Add(Row(0, "zz", 0.5, 1)));
        Assert.Equal("chosenActionId", ex.Field);
        Assert.Equal(0, evaluator.Count);
        Assert.Throws<InvalidOperationException>(() => evaluator.GetReport());
    }

    [Fact]
    public void EvaluateFile_Empty_ThrowsNamingTheFile()
    {
        using var temp = new TempDirectory();
        var path = temp.Write("empty.jsonl", "\n\n");
        var ex = Assert.Throws<LoggedDataException>(() => OffPolicyEvaluator.EvaluateFile(path));
        Assert.Contains("no logged decisions", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_ManyActions_GrowsBuffers()
    {
        var target = Enumerable.Range(0, 40).ToDictionary(a => $"a{a}", _ => 1.0 / 40);
        var report = OffPolicyEvaluator.Evaluate([Row(0, "a39", 0.025, 2, target, actions: 40), Row(1, "a3", 0.025, 0, target, actions: 40)]);
        Assert.Equal(1.0, report.Estimates.Ips.Value, 12);
        Assert.Equal("fitted", report.RewardEstimates);
    }

    private sealed class Always(string id) : ITargetPolicy
    {
        public string Name => "always-" + id;

        public void GetProbabilities(LoggedDecision decision, Span<double> probabilities)
        {
            for (var a = 0; a < decision.Actions.Count; a++)
            {
                probabilities[a] = decision.Actions[a].Id == id ? 1 : 0;
            }
        }
    }

    private sealed class Broken : ITargetPolicy
    {
        public string Name => "broken";

        public void GetProbabilities(LoggedDecision decision, Span<double> probabilities) => probabilities[..decision.Actions.Count].Fill(0.5);
    }
}

using Flywheel.Core;
using Flywheel.Evaluation.Slates;
using Flywheel.Learning;

namespace Flywheel.Engine;

/// <summary>
/// A logged ranking as the slate estimators read it (docs/turns.md, "Rank loops"): the behaviour's prefix probabilities
/// from the probabilities logged per slot, the target's from a ranker's own ranking policy (<see cref="RankSampler"/>
/// with the loop's exploration and intervention rate), and the reward model Q̂_l(a) = d + θ_l·(γ̂(a) − d): the ranker's
/// predicted reward where looked at, γ̂, scaled by slot l's examination probability θ_l, so that it predicts what the
/// slot earns under the position-based model (d is the reward's default, what an unexamined result earns).
/// </summary>
internal static class RankingEvaluation
{
    /// <summary>The row under the ranking policy of <paramref name="costs"/> (a candidate's).</summary>
    public static LoggedSlate Slate(ReplayRow row, float[] costs, LoopConfig config, long examples, Func<int, double> examination)
    {
        var k = row.SlotOrder.Length;
        var relevance = Relevance(costs, config);
        var target = new double[k];
        var expected = new double[k];
        var rank = config.RankSettings;
        RankSampler.Probabilities(costs, config.Exploration, examples, rank.Slots, rank.InterventionRate, row.SlotOrder, target, relevance, expected);
        var model = new double[k];
        var underTarget = new double[k];
        for (var l = 0; l < k; l++)
        {
            var theta = examination(l + 1);
            model[l] = Predicted(config, theta, relevance[row.SlotOrder[l]]);
            underTarget[l] = Predicted(config, theta, expected[l]);
        }
        return Build(row, Prefix(target), model, underTarget);
    }

    /// <summary>The row under the policy that served it: weights of 1, and Q̂ of the served action as its own expectation, so DR is the observed value.</summary>
    public static LoggedSlate Logged(ReplayRow row, float[] costs, LoopConfig config, Func<int, double> examination)
    {
        var model = Model(row, costs, config, examination);
        return Build(row, null, model, model);
    }

    /// <summary>The row under a uniformly random ranking of the decision's actions.</summary>
    public static LoggedSlate Uniform(ReplayRow row, float[] costs, LoopConfig config, Func<int, double> examination)
    {
        var k = row.SlotOrder.Length;
        var n = row.ActionCount;
        var relevance = Relevance(costs, config);
        var target = new double[k];
        var underTarget = new double[k];
        var placed = new bool[n];
        var remaining = relevance.Sum();
        for (var l = 0; l < k; l++)
        {
            target[l] = 1.0 / (n - l);
            underTarget[l] = Predicted(config, examination(l + 1), remaining / (n - l));
            var served = row.SlotOrder[l];
            if (!placed[served])
            {
                placed[served] = true;
                remaining -= relevance[served];
            }
        }
        return Build(row, Prefix(target), Model(row, costs, config, examination), underTarget);
    }

    private static double[] Model(ReplayRow row, float[] costs, LoopConfig config, Func<int, double> examination)
    {
        var relevance = Relevance(costs, config);
        var model = new double[row.SlotOrder.Length];
        for (var l = 0; l < model.Length; l++)
        {
            model[l] = Predicted(config, examination(l + 1), relevance[row.SlotOrder[l]]);
        }
        return model;
    }

    private static LoggedSlate Build(ReplayRow row, double[]? targetPrefix, double[] model, double[] underTarget)
    {
        var ranking = row.Decision!.Ranking;
        var logged = new double[ranking.Count];
        for (var l = 0; l < logged.Length; l++)
        {
            logged[l] = ranking[l].Probability;
        }
        var behaviour = Prefix(logged);
        return new LoggedSlate
        {
            Rewards = [.. row.RewardRecord!.Slots!.Select(s => s.Reward)],
            BehaviorPrefix = behaviour,
            TargetPrefix = targetPrefix ?? behaviour,
            ModelReward = model,
            ModelRewardUnderTarget = underTarget,
        };
    }

    /// <summary>The ranker's predicted reward where looked at, γ̂ = −cost, for every action.</summary>
    private static double[] Relevance(float[] costs, LoopConfig config)
    {
        var relevance = new double[costs.Length];
        for (var a = 0; a < costs.Length; a++)
        {
            relevance[a] = double.IsFinite(costs[a]) ? -costs[a] : config.Reward.Default;
        }
        return relevance;
    }

    /// <summary>d + θ·(γ̂ − d), kept within the loop's reward range.</summary>
    private static double Predicted(LoopConfig config, double theta, double relevance)
    {
        var d = config.Reward.Default;
        return Math.Clamp(d + theta * (relevance - d), config.Reward.Min, config.Reward.Max);
    }

    /// <summary>Running products: the probability of each prefix.</summary>
    private static double[] Prefix(double[] perSlot)
    {
        var prefix = new double[perSlot.Length];
        var p = 1.0;
        for (var l = 0; l < perSlot.Length; l++)
        {
            p *= perSlot[l];
            prefix[l] = p;
        }
        return prefix;
    }
}

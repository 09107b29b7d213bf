using Flywheel.Core;
using Flywheel.Evaluation;
using Flywheel.Evaluation.Slates;
using Flywheel.Learning;

namespace Flywheel.Engine;

/// <summary>One rewarded decision of the log, prepared once by the loop's kind and shared by every learner of a turn.</summary>
internal sealed class ReplayRow
{
    /// <summary>The decision in the form the kind's learners read.</summary>
    public PreparedDecision Prepared { get; private set; } = null!;

    public int ActionCount { get; private set; }

    public int Chosen { get; private set; }

    /// <summary>The index of the product's baseline action, or −1.</summary>
    public int Baseline { get; private set; }

    public double Probability { get; private set; }

    public double Reward { get; private set; }

    /// <summary>Its position in the loop's learning order.</summary>
    public long Sequence { get; private set; }

    /// <summary>When the decision was made.</summary>
    public DateTimeOffset DecidedAt { get; private set; }

    /// <summary>When its reward window closed (and the live learner learned it).</summary>
    public DateTimeOffset ClosedAt { get; private set; }

    /// <summary>The probability the serving policy gave each action (aligned with the decision's actions).</summary>
    public double[] Logged { get; private set; } = [];

    /// <summary>How many times learners learn it: <c>turns.mismatchWeight</c> (rounded) for a shadow mismatch, else 1.</summary>
    public int Repeats { get; private set; } = 1;

    /// <summary>A rank decision as stored (rank learners learn from it whole); null for other kinds.</summary>
    public DecisionRecord? Decision { get; private set; }

    /// <summary>A rank decision's reward, with its slots' rewards; null for other kinds.</summary>
    public RewardRecord? RewardRecord { get; private set; }

    /// <summary>A rank decision's served actions in slot order, as indices into its actions.</summary>
    public int[] SlotOrder { get; private set; } = [];

    /// <summary>
    /// Fills the row from a stored decision; false when its chosen action is not among its actions. With
    /// <paramref name="prepare"/> false the decision is not prepared for learners (evaluation scores it itself).
    /// </summary>
    public bool Set(ILoopKind kind, DecisionRecord decision, RewardRecord reward, TurnsConfig turns, RewardConfig rewards, bool prepare = true)
    {
        Repeats = turns.MismatchWeight > 1 && Decisions.IsMismatch(decision, reward.Reward, rewards)
            ? (int)Math.Round(turns.MismatchWeight, MidpointRounding.AwayFromZero)
            : 1;
        var actions = decision.Actions;
        ActionCount = actions.Count;
        if (Logged.Length != actions.Count)
        {
            Logged = new double[actions.Count];
        }
        Array.Clear(Logged);
        Chosen = Decisions.IndexOf(actions, decision.ChosenActionId);
        Baseline = decision.BaselineActionId is null ? -1 : Decisions.IndexOf(actions, decision.BaselineActionId);
        foreach (var ranked in decision.Ranking)
        {
            var i = Decisions.IndexOf(actions, ranked.ActionId);
            if (i >= 0)
            {
                Logged[i] = ranked.Probability;
            }
        }
        if (prepare)
        {
            Prepared = kind.Prepare(decision, Prepared);
        }
        Reward = reward.Reward;
        Sequence = reward.Sequence;
        DecidedAt = decision.At;
        ClosedAt = reward.ClosedAt;
        if (kind.Kind == LoopKind.Rank)
        {
            return SetRanking(decision, reward);
        }
        Probability = decision.ChosenProbability;
        return Chosen >= 0 && Probability > 0;
    }

    /// <summary>A rank decision is replayed when every served slot names one of its actions with a probability in (0, 1] and has its reward.</summary>
    private bool SetRanking(DecisionRecord decision, RewardRecord reward)
    {
        Decision = decision;
        RewardRecord = reward;
        var ranking = decision.Ranking;
        if (ranking.Count == 0 || reward.Slots is not { } slots || slots.Count != ranking.Count)
        {
            return false;
        }
        SlotOrder = new int[ranking.Count];
        for (var l = 0; l < ranking.Count; l++)
        {
            SlotOrder[l] = Decisions.IndexOf(decision.Actions, ranking[l].ActionId);
            if (SlotOrder[l] < 0 || ranking[l].Probability is not (> 0 and <= 1) || slots[l].ActionId != ranking[l].ActionId)
            {
                return false;
            }
        }
        Probability = ranking[0].Probability;
        return true;
    }
}

/// <summary>
/// A learner with one set of settings, trained by replaying the reward log in learning order and, inside the
/// evaluation window, scored on each decision with exactly the rewards that had closed when it was made (as the live
/// learner saw them): its exploring distribution gives w = π(a|x)/p and its own predictions give q̂, so the estimates
/// say what it would have earned had it been serving.
/// </summary>
internal sealed class CandidateReplay
{
    private float[] _costs = new float[16];
    private double[] _pmf = new double[16];
    private OffPolicyAccumulator _accumulator;
    private readonly SlateAccumulator? _slates;
    private readonly LoopConfig _config;

    public CandidateReplay(ILoopKind kind, string name, LearnerConfig learner, ExplorationConfig exploration, LoopConfig loop, ulong seed)
    {
        Name = name;
        Reward = loop.Reward;
        LearnerConfig = learner;
        Exploration = exploration;
        Learner = kind.CreateLearner(learner, exploration, seed);
        _config = loop with { Learner = learner, Exploration = exploration };
        _slates = kind.Kind == LoopKind.Rank ? new SlateAccumulator() : null;
    }

    public string Name { get; }

    public LearnerConfig LearnerConfig { get; }

    public ExplorationConfig Exploration { get; }

    /// <summary>The loop's reward range: q̂ is the prediction clamped into it.</summary>
    public RewardConfig Reward { get; }

    public ILoopLearner Learner { get; }

    /// <summary>The last reward sequence learned.</summary>
    public long LearnedThrough { get; private set; }

    /// <summary>Rewards up to this sequence are not learned (a candidate on recent data only); 0 learns them all.</summary>
    public long LearnFrom { get; init; }

    /// <summary>
    /// Before learning the first reward after this sequence the learner restarts its adaptive state
    /// (<see cref="ILoopLearner.Refresh"/>); 0 never does.
    /// </summary>
    public long RefreshAt { get; init; }

    private bool _refreshed;

    /// <summary>The candidate's estimates, with intervals bounded by the loop's reward range.</summary>
    public OffPolicyEstimates Estimates(double z) => _slates is { } slates ? slates.Estimates(z, Reward.Min, Reward.Max) : _accumulator.GetEstimatesWithin(z, Reward.Min, Reward.Max);

    /// <summary>Scores a row as the candidate would have served it, and adds it to the estimates.</summary>
    public void Evaluate(ReplayRow row)
    {
        var k = row.ActionCount;
        if (_slates is not null)
        {
            _slates.Add(RankingEvaluation.Slate(row, Score(row), _config, Learner.Examples, Examination));
            return;
        }
        if (_costs.Length < k)
        {
            _costs = new float[k * 2];
            _pmf = new double[k * 2];
        }
        var costs = _costs.AsSpan(0, k);
        var pmf = _pmf.AsSpan(0, k);
        Learner.Score(row.Prepared, Exploration, costs, pmf);
        // From here the costs serve as q̂ (here and in AddReferences): a reward outside the loop's range is never a
        // better estimate, and the dm policy's clipping lets its best action's predicted cost run below the lowest.
        RewardEstimates.ClampCosts(costs, Reward);
        double policyEstimate = 0;
        for (var a = 0; a < k; a++)
        {
            policyEstimate += pmf[a] * -costs[a];
        }
        _accumulator.Add(pmf[row.Chosen] / row.Probability, row.Reward, policyEstimate, -costs[row.Chosen]);
    }

    /// <summary>Learns a row's reward.</summary>
    public void Learn(ReplayRow row)
    {
        if (row.Sequence <= LearnFrom)
        {
            return;
        }
        if (RefreshAt > 0 && !_refreshed && row.Sequence > RefreshAt)
        {
            Learner.Refresh();
            _refreshed = true;
        }
        if (row.Decision is { } decision)
        {
            Learner.Learn(decision, row.RewardRecord!, _config);
        }
        else
        {
            Learner.Learn(row.Prepared, row.Chosen, row.Reward, row.Probability, row.Repeats);
        }
        LearnedThrough = row.Sequence;
    }

    /// <summary>The candidate's predicted costs of the row's actions, clamped into the loop's reward range.</summary>
    private float[] Score(ReplayRow row)
    {
        var costs = new float[row.ActionCount];
        Learner.Score(row.Prepared, Exploration, costs, new double[row.ActionCount]);
        return costs;
    }

    /// <summary>The served rankings as logged (the champion's value) and a uniformly random ranking, with this replay's model.</summary>
    public void AddRankingReferences(ReplayRow row, SlateAccumulator logged, SlateAccumulator uniform)
    {
        var costs = Score(row);
        logged.Add(RankingEvaluation.Logged(row, costs, _config, Examination));
        uniform.Add(RankingEvaluation.Uniform(row, costs, _config, Examination));
    }

    /// <summary>The examination probability this replay's ranker divides slot rewards by now.</summary>
    private double Examination(int slot) => ((IRankingLearner)Learner).Examination(_config.RankSettings.PositionBias, slot);

    /// <summary>Adds the row to fixed reference policies, with this replay's predictions as q̂ (call after an evaluated step).</summary>
    public void AddReferences(ReplayRow row, ref OffPolicyAccumulator logged, ref OffPolicyAccumulator uniform, ref OffPolicyAccumulator baseline)
    {
        var k = row.ActionCount;
        var costs = _costs.AsSpan(0, k);
        double mean = 0, served = 0;
        for (var a = 0; a < k; a++)
        {
            mean -= costs[a];
            served -= row.Logged[a] * costs[a];
        }
        mean /= k;
        var chosenEstimate = -costs[row.Chosen];
        // The served policy is the logging policy itself: w = 1.
        logged.Add(1, row.Reward, served, chosenEstimate);
        uniform.Add(1.0 / k / row.Probability, row.Reward, mean, chosenEstimate);
        if (row.Baseline >= 0)
        {
            baseline.Add(row.Baseline == row.Chosen ? 1 / row.Probability : 0, row.Reward, -costs[row.Baseline], chosenEstimate);
        }
    }
}

/// <summary>Reward estimates q̂ taken from a policy's own predicted costs.</summary>
internal static class RewardEstimates
{
    /// <summary>Clamps predicted costs (−reward) into the loop's reward range [min, max].</summary>
    public static void ClampCosts(Span<float> costs, RewardConfig reward)
    {
        var lowest = (float)-reward.Max;
        var highest = (float)-reward.Min;
        for (var a = 0; a < costs.Length; a++)
        {
            costs[a] = Math.Clamp(costs[a], lowest, highest);
        }
    }
}

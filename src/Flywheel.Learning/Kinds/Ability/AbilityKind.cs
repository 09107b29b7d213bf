using Flywheel.Core;

namespace Flywheel.Learning;

/// <summary>
/// The <c>ability</c> kind: pick the next exercise for a learner, the one whose predicted success is nearest the loop's
/// target, from ability and difficulty learned online (<see cref="AbilityEstimator"/>). Its model is a table of
/// learners and items rather than weights over hashed features, and its reward is the answer, so turns, shadows and
/// off-policy evaluation, which compare policies by the reward they earn, do not apply to it (docs/ability.md).
/// </summary>
public sealed class AbilityKind : ILoopKind
{
    /// <summary>The one instance; the kind holds no state.</summary>
    public static AbilityKind Instance { get; } = new();

    private AbilityKind()
    {
    }

    /// <inheritdoc />
    public LoopKind Kind => LoopKind.Ability;

    /// <inheritdoc />
    public ILoopLearner CreateLearner(LearnerConfig learner, ExplorationConfig exploration, ulong seed = 0) => new AbilityLearner(new AbilityEstimator(), 0);

    /// <inheritdoc />
    public ILoopLearner LoadLearner(ReadOnlySpan<byte> snapshot, LearnerConfig learner, ExplorationConfig exploration)
    {
        var (estimator, examples) = AbilitySnapshot.Load(snapshot);
        return new AbilityLearner(estimator, examples);
    }

    /// <summary>
    /// Always: the model is its learners' history, which no turn would rebuild, so every setting applies to it as it
    /// is (a new guessing chance shifts predictions from the next answer on).
    /// </summary>
    public bool CanContinue(LoopConfig from, LoopConfig to)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        return true;
    }

    /// <inheritdoc />
    public IReadOnlyList<CandidateSettings> Candidates(LoopConfig config) => [];

    /// <inheritdoc />
    public PreparedDecision Prepare(DecisionRecord decision, PreparedDecision? reuse = null) => ChooseKind.Instance.Prepare(decision, reuse);
}

/// <summary>The <c>ability</c> kind's learner: an <see cref="AbilityEstimator"/> fed each answered decision once.</summary>
internal sealed class AbilityLearner(AbilityEstimator estimator, long examples) : ILoopLearner
{
    public AbilityEstimator Estimator { get; } = estimator;

    public long Examples { get; private set; } = examples;

    /// <summary>
    /// Learns from a decision whose window the answer closed; one that closed without an answer (the learner left) says
    /// nothing about ability, and decisions without a user cannot be credited to anyone.
    /// </summary>
    public void Learn(DecisionRecord decision, RewardRecord reward, LoopConfig config)
    {
        ArgumentNullException.ThrowIfNull(decision);
        ArgumentNullException.ThrowIfNull(reward);
        ArgumentNullException.ThrowIfNull(config);
        if (reward.ClosedBy != WindowClose.Signal || decision.UserId is null)
        {
            return;
        }
        var item = decision.Actions.FirstOrDefault(a => a.Id == decision.ChosenActionId);
        if (item is null)
        {
            return;
        }
        Estimator.Learn(decision.UserId, item.Id, item.Features, reward.Reward >= 0.5, reward.ClosedAt, decision.TimeZone, config.AbilitySettings);
        Examples++;
    }

    public void Learn(DecisionRecord decision, double reward, ExplorationConfig exploration) => throw NotSupported();

    public void Learn(PreparedDecision decision, int chosen, double reward, double probability, int repeats = 1) => throw NotSupported();

    public void Score(PreparedDecision decision, ExplorationConfig exploration, Span<float> costs, Span<double> pmf) => throw NotSupported();

    /// <summary>Nothing to restart: abilities follow learners as they grow, and a drop in success is what the target asks for when items get harder.</summary>
    public void Refresh(bool keepWeights = true)
    {
    }

    /// <summary>The published policy reads the live estimates: the next exercise must reflect the last answer at once.</summary>
    public ILoopPolicy Publish(int version, ILoopPolicy? previous = null) => new AbilityPolicy(version, Examples, Estimator);

    public byte[] Save() => AbilitySnapshot.Save(Estimator, Examples);

    private static NotSupportedException NotSupported()
        => new("ability loops learn from answered decisions only; replays of rewards without answers do not apply to them");
}

/// <summary>
/// The <c>ability</c> kind's serving model. Unlike other kinds' snapshots it reads the learner's live estimates (they
/// change per learner, and a tutor that forgot the last answer would repeat itself); its version and example count are
/// those of its publication.
/// </summary>
internal sealed class AbilityPolicy(int version, long examples, AbilityEstimator estimator) : IAbilityPolicy
{
    private static readonly AbilityConfig Defaults = new();

    public int Version { get; } = version;

    public long Examples { get; } = examples;

    public AbilityEstimator Estimates { get; } = estimator;

    /// <summary>As for a learner never seen, under the default settings.</summary>
    public void Score(ExplorationConfig exploration, Features context, IReadOnlyList<ActionCandidate> actions, Span<float> costs, Span<double> pmf)
        => Score(exploration, Defaults, "", DateTimeOffset.MinValue, actions, costs, pmf, stackalloc double[0]);

    public long CountFeatures(Features context, IReadOnlyList<ActionCandidate> actions)
    {
        ArgumentNullException.ThrowIfNull(actions);
        long count = 0;
        foreach (var a in actions)
        {
            foreach (var (_, ns) in a.Features)
            {
                count += ns.Count;
            }
        }
        return count + actions.Count;
    }

    public void Score(LoopConfig config, string userId, DateTimeOffset now, IReadOnlyList<ActionCandidate> actions, Span<float> costs, Span<double> pmf, Span<double> success)
    {
        ArgumentNullException.ThrowIfNull(config);
        Score(config.Exploration, config.AbilitySettings, userId, now, actions, costs, pmf, success);
    }

    /// <summary>
    /// Each exercise's cost is how far its predicted success lies from the learner's target; with reviews on, an item
    /// due for review costs less than any other (the less remembered, the less), so due reviews come first.
    /// </summary>
    private void Score(ExplorationConfig exploration, AbilityConfig settings, string userId, DateTimeOffset now, IReadOnlyList<ActionCandidate> actions, Span<float> costs, Span<double> pmf, Span<double> success)
    {
        ArgumentNullException.ThrowIfNull(actions);
        var k = actions.Count;
        var target = Estimates.AdjustedTarget(userId, settings.TargetSuccess);
        Span<double> recall = settings.Reviews ? new double[k] : [];
        if (settings.Reviews)
        {
            Estimates.DueRecall(userId, actions, now, settings, recall);
        }
        for (var i = 0; i < k; i++)
        {
            var p = Estimates.Predict(userId, actions[i].Id, actions[i].Features, settings);
            if (success.Length > i)
            {
                success[i] = p;
            }
            costs[i] = settings.Reviews && !double.IsNaN(recall[i]) ? (float)(-1 + recall[i] / 2) : (float)Math.Abs(p - target);
        }
        Exploration.Distribution(exploration, costs[..k], Examples, pmf[..k]);
    }
}

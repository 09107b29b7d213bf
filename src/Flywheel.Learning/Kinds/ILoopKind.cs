using Flywheel.Core;

namespace Flywheel.Learning;

/// <summary>
/// What a loop kind (<c>choose</c>, later <c>rank</c> and <c>ability</c>) brings to the engine: how it learns, how it
/// serves, how its weights are saved and how a turn replays it. The engine, the joiner and the turn runner only talk to
/// this seam, so adding a kind means implementing it and registering it in <see cref="LoopKinds"/>.
/// </summary>
public interface ILoopKind
{
    /// <summary>The kind a loop config names.</summary>
    LoopKind Kind { get; }

    /// <summary>A fresh learner for these settings; <paramref name="seed"/> seeds its own random draws (bootstrap bags).</summary>
    ILoopLearner CreateLearner(LearnerConfig learner, ExplorationConfig exploration, ulong seed = 0);

    /// <summary>
    /// Restores a learner saved by <see cref="ILoopLearner.Save"/>; throws <see cref="ModelSnapshotException"/> when the
    /// bytes are corrupt or were saved under other settings.
    /// </summary>
    ILoopLearner LoadLearner(ReadOnlySpan<byte> snapshot, LearnerConfig learner, ExplorationConfig exploration);

    /// <summary>
    /// Whether a learner built for <paramref name="from"/> keeps its meaning under <paramref name="to"/>; when it does
    /// not, a config change starts a new model version.
    /// </summary>
    bool CanContinue(LoopConfig from, LoopConfig to);

    /// <summary>The settings a turn trains beside the champion's, one change at a time.</summary>
    IReadOnlyList<CandidateSettings> Candidates(LoopConfig config);

    /// <summary>
    /// A logged decision in the form this kind's learners read, computed once and shared by every learner of a turn's
    /// replay. <paramref name="reuse"/> is a previous result whose buffers may be recycled.
    /// </summary>
    PreparedDecision Prepare(DecisionRecord decision, PreparedDecision? reuse = null);
}

/// <summary>
/// A model being trained: fed logged decisions in learning order by one thread at a time (not thread-safe), and
/// published as immutable <see cref="ILoopPolicy"/> snapshots that deciders read while it moves on.
/// </summary>
public interface ILoopLearner
{
    /// <summary>Examples learned so far.</summary>
    long Examples { get; }

    /// <summary>
    /// One online update from a stored decision and its reward, under the loop's current config (its exploration decides
    /// how the logged probability weighs the example; a <c>rank</c> loop's position bias how each slot's reward does).
    /// </summary>
    void Learn(DecisionRecord decision, RewardRecord reward, LoopConfig config);

    /// <summary>
    /// One online update crediting <paramref name="reward"/> to the decision's chosen action (for a <c>rank</c> loop, its
    /// top slot's), under <paramref name="exploration"/>.
    /// </summary>
    void Learn(DecisionRecord decision, double reward, ExplorationConfig exploration);

    /// <summary>One update, <paramref name="repeats"/> times, from a prepared decision whose action <paramref name="chosen"/> was served with <paramref name="probability"/>.</summary>
    void Learn(PreparedDecision decision, int chosen, double reward, double probability, int repeats = 1);

    /// <summary>
    /// What this learner would serve for a prepared decision now: each action's predicted cost (−reward) and its
    /// exploring distribution.
    /// </summary>
    void Score(PreparedDecision decision, ExplorationConfig exploration, Span<float> costs, Span<double> pmf);

    /// <summary>
    /// Restarts how the model learns, as if it had just begun: its adaptive learning rates grow large again and its
    /// exploration widens (for SquareCB, as at the first examples). With <paramref name="keepWeights"/> it keeps what it
    /// knows as a starting point; without, it forgets that too. A turn's <c>refreshed</c> candidate refreshes at the
    /// start of the recent data; the live learner starts afresh when the loop's reward drops (a drift alarm).
    /// </summary>
    void Refresh(bool keepWeights = true);

    /// <summary>An immutable snapshot for serving; <paramref name="previous"/> lends its reusable scratch state when it fits.</summary>
    ILoopPolicy Publish(int version, ILoopPolicy? previous = null);

    /// <summary>The learner's full state as bytes (checksummed).</summary>
    byte[] Save();
}

/// <summary>An immutable, thread-safe serving model: scores actions for deciders, shadows and evaluation.</summary>
public interface ILoopPolicy
{
    /// <summary>The model version.</summary>
    int Version { get; }

    /// <summary>Examples the model had learned when it was published.</summary>
    long Examples { get; }

    /// <summary>
    /// Each action's predicted cost (−reward) into <paramref name="costs"/> and the exploring distribution of
    /// <paramref name="exploration"/> into <paramref name="pmf"/> (both as long as <paramref name="actions"/>).
    /// </summary>
    void Score(ExplorationConfig exploration, Features context, IReadOnlyList<ActionCandidate> actions, Span<float> costs, Span<double> pmf);

    /// <summary>
    /// How many features <see cref="Score"/> would compute for these actions in this context (crosses included), counted
    /// without computing them, so a decision too costly to score can be refused first.
    /// </summary>
    long CountFeatures(Features context, IReadOnlyList<ActionCandidate> actions);
}

/// <summary>A serving model that fills the slots of a <c>rank</c> loop (see <see cref="RankSampler"/>).</summary>
public interface IRankingPolicy : ILoopPolicy
{
    /// <summary>
    /// Ranks <paramref name="actions"/> into the loop's slots, each with its exact probability;
    /// <paramref name="uniform"/> gives the decision's reproducible draws.
    /// </summary>
    SampledRanking Rank(LoopConfig config, Features context, IReadOnlyList<ActionCandidate> actions, Func<int, double> uniform);

    /// <summary>The position bias measured when the model was published.</summary>
    PositionBiasReport PositionBias(LoopConfig config);
}

/// <summary>A <c>rank</c> learner: the examination probability it divides each slot's rewards by now.</summary>
public interface IRankingLearner : ILoopLearner
{
    /// <summary>Slot <paramref name="slot"/>'s (from 1) examination probability under <paramref name="bias"/>, as learning uses it.</summary>
    double Examination(PositionBias bias, int slot);
}

/// <summary>A logged decision prepared by a loop kind for its learners (see <see cref="ILoopKind.Prepare"/>).</summary>
public abstract class PreparedDecision
{
    /// <summary>Number of actions.</summary>
    public abstract int ActionCount { get; }
}

/// <summary>One candidate's settings: what it changes (its name) and the resulting learner and exploration.</summary>
/// <param name="Name">What it changes, such as <c>learningRate×2</c>.</param>
/// <param name="Learner">Its learner settings.</param>
/// <param name="Exploration">Its exploration settings.</param>
public sealed record CandidateSettings(string Name, LearnerConfig Learner, ExplorationConfig Exploration);

/// <summary>A serving model of an <c>ability</c> loop: picks exercises for one learner (see <see cref="AbilityKind"/>).</summary>
public interface IAbilityPolicy : ILoopPolicy
{
    /// <summary>The live estimates of learners and items.</summary>
    AbilityEstimator Estimates { get; }

    /// <summary>
    /// Each exercise's cost (distance of its predicted success from the learner's target, or less for a due review) and
    /// the exploring distribution; <paramref name="success"/>, when long enough, receives each predicted success.
    /// </summary>
    void Score(LoopConfig config, string userId, DateTimeOffset now, IReadOnlyList<ActionCandidate> actions, Span<float> costs, Span<double> pmf, Span<double> success);
}

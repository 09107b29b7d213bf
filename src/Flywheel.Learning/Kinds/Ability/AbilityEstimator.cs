using System.Collections.Concurrent;
using Flywheel.Core;

namespace Flywheel.Learning;

/// <summary>
/// Learner ability and item difficulty on one logit scale, learned online from answers in constant time
/// (docs/ability.md): P(correct) = g + (1 − g)·σ(θ − d). Elo with a decaying step (Pelánek's adaptive-practice
/// variant): θ += K(n)(c − P) on every answer, d −= K(n)(c − P) on each learner's first answer to the item, with
/// K(n) = 0.8/(1 + 0.05 n). Under <c>irt</c> the difficulty is d = w·x + b: a linear function of the item's features,
/// learned from every item's answers by AdaGrad, plus the item's own deviation b, so a new item starts where its
/// features put it. Each estimate carries the Fisher information of the answers behind it (and a unit normal prior),
/// whose inverse square root is its standard error. Also keeps each learner's memory of each item (FSRS), recent
/// success and streak.
/// </summary>
/// <remarks>
/// One thread writes (the loop's learner); deciders and reports read concurrently. Each learner's state is guarded by
/// its own lock; item and feature values are single doubles, read whole.
/// </remarks>
public sealed class AbilityEstimator
{
    /// <summary>The Elo step for a learner or item with no answers yet.</summary>
    public const double Alpha = 0.8;

    /// <summary>How fast the Elo step decays with answers: K(n) = <see cref="Alpha"/>/(1 + β n).</summary>
    public const double Beta = 0.05;

    /// <summary>AdaGrad's step for the <c>irt</c> feature weights.</summary>
    public const double FeatureRate = 0.3;

    /// <summary>The weight of the latest answer in a learner's recent success (about the last ten answers).</summary>
    public const double RecentWeight = 0.1;

    /// <summary>
    /// The smallest step a learner's ability takes: learners grow, so their estimate keeps following them (about
    /// the last 50 answers weigh in), where an item's difficulty, which does not change, settles.
    /// </summary>
    public const double LearnerFloor = 0.04;

    private readonly ConcurrentDictionary<string, LearnerState> _learners = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ItemState> _items = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<ulong, FeatureWeight> _weights = new();
    private long _answers;
    private long _featureAnswers;
    private double _weightedSums;
    private double _abilitySum;

    /// <summary>Answers learned from.</summary>
    public long Answers => Interlocked.Read(ref _answers);

    /// <summary>Learners with at least one answer.</summary>
    public int LearnerCount => _learners.Count;

    /// <summary>Items with at least one first answer.</summary>
    public int ItemCount => _items.Count;

    /// <summary>The Elo step after <paramref name="answers"/> answers.</summary>
    public static double Step(long answers) => Alpha / (1 + Beta * answers);

    /// <summary>A learner's Elo step after <paramref name="answers"/> answers: <see cref="Step"/>, never below <see cref="LearnerFloor"/>.</summary>
    public static double LearnerStep(long answers) => Math.Max(Step(answers), LearnerFloor);

    /// <summary>The probability of a correct answer at ability − difficulty <paramref name="logit"/> with guessing <paramref name="guess"/>.</summary>
    public static double Success(double logit, double guess) => guess + (1 - guess) / (1 + Math.Exp(-logit));

    /// <summary>A learner's ability; before their first answer, the mean ability of the loop's learners (0 for the first).</summary>
    public double Ability(string userId) => _learners.TryGetValue(userId, out var s) ? s.Ability : MeanAbility;

    /// <summary>
    /// The mean ability of the loop's learners, where a new learner starts: the scale's origin is only where the first
    /// learners and items began, and a newcomer is most likely like those before them.
    /// </summary>
    public double MeanAbility
    {
        get
        {
            var count = _learners.Count;
            return count == 0 ? 0 : Volatile.Read(ref _abilitySum) / count;
        }
    }

    /// <summary>The difficulty of an item with these features under <paramref name="model"/>.</summary>
    public double Difficulty(string itemId, Features? features, AbilityModel model)
    {
        var own = _items.TryGetValue(itemId, out var item) ? item.Deviation : 0;
        return model == AbilityModel.Irt && features is not null ? own + FromFeatures(features) : own;
    }

    /// <summary>
    /// The difficulty the item's features alone predict (the <c>irt</c> part): w·(x − x̄), with x̄ the features' mean over
    /// the first answers learned. Centred, the features say which items are harder than others but cannot move the
    /// items as a whole, so the scale stays anchored where Elo keeps it (0, the centre of new learners and items),
    /// whatever the features' units or offsets (a level from 1 to 12 as much as one from −5 to 6).
    /// </summary>
    public double FromFeatures(Features features)
    {
        ArgumentNullException.ThrowIfNull(features);
        var sum = 0.0;
        foreach (var (hash, value) in Hashed(features))
        {
            if (_weights.TryGetValue(hash, out var w))
            {
                sum += w.Weight * value;
            }
        }
        // − Σ_k w_k·x̄_k over every feature, kept as Σ_k w_k·S_k (S_k the sum of feature k's values) over the count.
        var count = Interlocked.Read(ref _featureAnswers);
        return count == 0 ? sum : sum - Volatile.Read(ref _weightedSums) / count;
    }

    /// <summary>The predicted probability that <paramref name="userId"/> answers the item correctly.</summary>
    public double Predict(string userId, string itemId, Features? features, AbilityConfig settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return Success(Ability(userId) - Difficulty(itemId, features, settings.Model), settings.Guess);
    }

    /// <summary>
    /// Learns from one answer: the learner's ability always, the item's difficulty (and the <c>irt</c> feature weights)
    /// on the learner's first answer to it, their memory of the item, recent success and streak.
    /// </summary>
    /// <param name="userId">The learner.</param>
    /// <param name="itemId">The item.</param>
    /// <param name="features">The item's features (for <c>irt</c>).</param>
    /// <param name="correct">Whether the answer was right.</param>
    /// <param name="at">When it was given.</param>
    /// <param name="timeZone">The learner's time zone (IANA id) at the time, or null.</param>
    /// <param name="settings">The loop's ability settings.</param>
    /// <returns>The predicted probability of success before the answer.</returns>
    public double Learn(string userId, string itemId, Features? features, bool correct, DateTimeOffset at, string? timeZone, AbilityConfig settings)
    {
        ArgumentNullException.ThrowIfNull(userId);
        ArgumentNullException.ThrowIfNull(itemId);
        ArgumentNullException.ThrowIfNull(settings);
        if (!_learners.TryGetValue(userId, out var learner))
        {
            var start = MeanAbility;
            learner = _learners.GetOrAdd(userId, new LearnerState(default) { Ability = start });
            Volatile.Write(ref _abilitySum, _abilitySum + start);
        }
        var irt = settings.Model == AbilityModel.Irt && features is not null;
        var fromFeatures = irt ? FromFeatures(features!) : 0;
        var item = _items.TryGetValue(itemId, out var known) ? known : null;
        var c = correct ? 1.0 : 0.0;
        lock (learner)
        {
            var p = Success(learner.Ability - (fromFeatures + (item?.Deviation ?? 0)), settings.Guess);
            var error = c - p;
            var information = Information(p, settings.Guess);
            var first = !learner.Cards.ContainsKey(itemId);

            var move = LearnerStep(learner.Answers) * error;
            learner.Ability += move;
            Volatile.Write(ref _abilitySum, _abilitySum + move);
            learner.Information += information;
            learner.Answers++;
            learner.Correct += correct ? 1 : 0;
            learner.Recent = learner.Answers == 1 ? c : learner.Recent + RecentWeight * (c - learner.Recent);
            learner.LastAnswer = at > learner.LastAnswer ? at : learner.LastAnswer;
            learner.TimeZone = timeZone ?? learner.TimeZone;
            learner.Streak = Flywheel.Learning.Streaks.Record(learner.Streak, at, learner.TimeZone, Rules(settings));
            // Answers reach the learner in the order their windows closed; one stamped before the item's last review
            // (a client's own clock) is reviewed at that last review rather than back in time.
            var previous = learner.Cards.TryGetValue(itemId, out var card) ? card : (ReviewCard?)null;
            var reviewedAt = previous is { } last && last.LastReview > at ? last.LastReview : at;
            learner.Cards[itemId] = Scheduler(settings).Review(previous, reviewedAt, correct ? Fsrs.Good : Fsrs.Again);

            if (first)
            {
                item ??= _items.GetOrAdd(itemId, static _ => new ItemState());
                item.Deviation -= Step(item.Answers) * error;
                item.Information += information;
                item.Answers++;
                item.Correct += correct ? 1 : 0;
                item.Features = features;
                if (irt)
                {
                    LearnFeatures(features!, error);
                }
            }
            Interlocked.Increment(ref _answers);
            return p;
        }
    }

    /// <summary>A learner's report as of <paramref name="now"/>, or null for a learner with no answers.</summary>
    public LearnerReport? Learner(string loop, string userId, DateTimeOffset now, AbilityConfig settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (!_learners.TryGetValue(userId, out var s))
        {
            return null;
        }
        lock (s)
        {
            var streak = Flywheel.Learning.Streaks.Read(s.Streak, now, Rules(settings));
            var scheduler = Scheduler(settings);
            return new LearnerReport
            {
                Loop = loop,
                UserId = userId,
                Ability = Estimate(s.Ability, s.Information, LearnerStep(s.Answers)),
                Answers = s.Answers,
                Correct = s.Correct,
                SuccessRate = s.Answers == 0 ? double.NaN : (double)s.Correct / s.Answers,
                RecentSuccess = s.Answers == 0 ? double.NaN : s.Recent,
                LastAnswerAt = s.Answers == 0 ? null : s.LastAnswer,
                Streak = new StreakReport(streak.Current, streak.Best, streak.ActiveDays, streak.LastActiveDay, streak.AtRisk, streak.TimeZone ?? "UTC"),
                ReviewsDue = s.Cards.Values.Count(c => c.Due <= now),
                ItemsSeen = s.Cards.Count,
            };
        }
    }

    /// <summary>An item's report (difficulty from its latest features under <c>irt</c>), or null for an item nobody has answered.</summary>
    public ItemReport? Item(string loop, string itemId, AbilityModel model)
    {
        if (!_items.TryGetValue(itemId, out var s))
        {
            return null;
        }
        var features = s.Features;
        var prior = model == AbilityModel.Irt && features is not null ? FromFeatures(features) : 0;
        return new ItemReport
        {
            Loop = loop,
            ActionId = itemId,
            Difficulty = Estimate(prior + s.Deviation, s.Information, Step(s.Answers)),
            FromFeatures = model == AbilityModel.Irt && features is not null ? prior : double.NaN,
            Answers = s.Answers,
            Correct = s.Correct,
            SuccessRate = s.Answers == 0 ? double.NaN : (double)s.Correct / s.Answers,
        };
    }

    /// <summary>The learner's items due at or before <paramref name="due"/>, least remembered first.</summary>
    public IReadOnlyList<ReviewItem> Reviews(string userId, DateTimeOffset due, AbilityConfig settings)
    {
        if (!_learners.TryGetValue(userId, out var s))
        {
            return [];
        }
        var scheduler = Scheduler(settings);
        lock (s)
        {
            return [.. s.Cards
                .Where(c => c.Value.Due <= due)
                .Select(c => new ReviewItem(c.Key, c.Value.Due, scheduler.Recall(c.Value, due), c.Value.Memory.Stability, c.Value.Memory.Difficulty, c.Value.LastReview, c.Value.Reviews, c.Value.Lapses))
                .OrderBy(r => r.Recall).ThenBy(r => r.ActionId, StringComparer.Ordinal)];
        }
    }

    /// <summary>
    /// Fills <paramref name="recall"/> with each item's predicted recall at <paramref name="now"/> when its review is due,
    /// and NaN when it is not (never seen, or not due yet).
    /// </summary>
    public void DueRecall(string userId, IReadOnlyList<ActionCandidate> actions, DateTimeOffset now, AbilityConfig settings, Span<double> recall)
    {
        ArgumentNullException.ThrowIfNull(actions);
        recall.Fill(double.NaN);
        if (!_learners.TryGetValue(userId, out var s))
        {
            return;
        }
        var scheduler = Scheduler(settings);
        lock (s)
        {
            for (var i = 0; i < actions.Count; i++)
            {
                if (s.Cards.TryGetValue(actions[i].Id, out var card) && card.Due <= now)
                {
                    recall[i] = scheduler.Recall(card, now);
                }
            }
        }
    }

    /// <summary>
    /// The success rate the next exercise should aim at for this learner: the target, moved against the learner's recent
    /// success when it strays (proso's rule): a learner who has been succeeding more than planned gets harder items.
    /// </summary>
    public double AdjustedTarget(string userId, double target)
    {
        if (!_learners.TryGetValue(userId, out var s) || s.Answers < 10)
        {
            return target;
        }
        var recent = s.Recent;
        var room = recent > target ? 1 - target : target;
        return Math.Clamp(target + (target - recent) / room * (1 - room), 0.01, 0.99);
    }

    /// <summary>The loop's learners at <paramref name="now"/>, for the health report (one pass over them).</summary>
    public LearnerHealth Health(DateTimeOffset now, AbilityConfig settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        long learners = 0, answers = 0, correct = 0, recentCount = 0, active = 0, streaking = 0, atRisk = 0, due = 0;
        double recent = 0;
        var longest = 0;
        var rules = Rules(settings);
        foreach (var (_, s) in _learners)
        {
            lock (s)
            {
                learners++;
                answers += s.Answers;
                correct += s.Correct;
                if (s.Answers >= 10)
                {
                    recent += s.Recent;
                    recentCount++;
                }
                active += now - s.LastAnswer <= TimeSpan.FromDays(7) ? 1 : 0;
                var streak = Flywheel.Learning.Streaks.Read(s.Streak, now, rules);
                if (streak.Current > 0)
                {
                    streaking++;
                    atRisk += streak.AtRisk ? 1 : 0;
                    longest = Math.Max(longest, streak.Current);
                }
                foreach (var card in s.Cards.Values)
                {
                    due += card.Due <= now ? 1 : 0;
                }
            }
        }
        return new LearnerHealth(settings.TargetSuccess, learners, answers, answers == 0 ? double.NaN : (double)correct / answers,
            recentCount == 0 ? double.NaN : recent / recentCount, active, streaking, atRisk, longest, due);
    }

    /// <summary>Forgets a learner entirely (user erasure); true when there was anything to forget.</summary>
    public bool Forget(string userId)
    {
        if (!_learners.TryRemove(userId, out var gone))
        {
            return false;
        }
        Volatile.Write(ref _abilitySum, _abilitySum - gone.Ability);
        return true;
    }

    /// <summary>
    /// The estimate with its 95% interval: the variance is that of the answers' information with a unit normal prior,
    /// and never below the noise of an Elo step <paramref name="step"/>, which keeps moving the estimate by K(c − P)
    /// with each answer (K/(2 − K/4) in steady state).
    /// </summary>
    public static AbilityEstimate Estimate(double value, double information, double step = 0)
    {
        var se = Math.Sqrt(Math.Max(1 / (1 + information), step / (2 - step / 4)));
        return new AbilityEstimate(value, value - 1.959964 * se, value + 1.959964 * se, se);
    }

    /// <summary>The Fisher information about θ − d in one answer predicted at <paramref name="p"/>.</summary>
    private static double Information(double p, double guess)
    {
        var s = (p - guess) / (1 - guess);
        var slope = (1 - guess) * s * (1 - s);
        return p is <= 0 or >= 1 ? 0 : slope * slope / (p * (1 - p));
    }

    /// <summary>
    /// AdaGrad on the centred features: the item's values join the means first, then each present feature's weight
    /// moves by its value's distance from its mean (features the item lacks are left as they are: their share of the
    /// centring is small, and touching them all would cost a pass over every weight).
    /// </summary>
    private void LearnFeatures(Features features, double error)
    {
        var hashed = Hashed(features).ToArray();
        var count = Interlocked.Increment(ref _featureAnswers);
        var sums = _weightedSums;
        foreach (var (hash, value) in hashed)
        {
            var w = _weights.GetOrAdd(hash, static _ => new FeatureWeight());
            w.Sum += value;
            sums += w.Weight * value;
        }
        foreach (var (hash, value) in hashed)
        {
            var w = _weights[hash];
            var g = error * (value - w.Sum / count);
            w.SquaredGradients += g * g;
            var step = FeatureRate * g / Math.Sqrt(1 + w.SquaredGradients);
            w.Weight -= step;
            sums -= step * w.Sum;
        }
        Volatile.Write(ref _weightedSums, sums);
    }

    private static IEnumerable<(ulong Hash, double Value)> Hashed(Features features)
    {
        var set = HashedFeatureSet.FromContext(features);
        for (var n = 0; n < set.Count; n++)
        {
            var ns = set[n];
            for (var i = 0; i < ns.Count; i++)
            {
                yield return (ns.Hashes[i], ns.Values[i]);
            }
        }
    }

    private static StreakRules Rules(AbilityConfig settings) => new(settings.GraceDays, settings.DayStartHour);

    /// <summary>One scheduler per retention a loop has used (its default parameters otherwise).</summary>
    private static readonly ConcurrentDictionary<double, Fsrs> Schedulers = new();

    private static Fsrs Scheduler(AbilityConfig settings)
        => Schedulers.GetOrAdd(settings.Retention, static r => new Fsrs(FsrsParameters.Default with { RequestRetention = r }));

    internal sealed class LearnerState(StreakState streak)
    {
        public double Ability;
        public double Information;
        public long Answers;
        public long Correct;
        public double Recent;
        public DateTimeOffset LastAnswer;
        public string? TimeZone;
        public StreakState Streak = streak;
        public readonly Dictionary<string, ReviewCard> Cards = new(StringComparer.Ordinal);
    }

    internal sealed class ItemState
    {
        public double Deviation;
        public double Information;
        public long Answers;
        public long Correct;
        public Features? Features;
    }

    internal sealed class FeatureWeight
    {
        public double Weight;
        public double SquaredGradients;
        public double Sum;
    }

    internal ConcurrentDictionary<string, LearnerState> LearnerStates => _learners;

    internal ConcurrentDictionary<string, ItemState> ItemStates => _items;

    internal ConcurrentDictionary<ulong, FeatureWeight> Weights => _weights;

    internal void SetAnswers(long answers) => _answers = answers;

    /// <summary>After a load: the sum behind <see cref="MeanAbility"/>, from the learners.</summary>
    internal void SumAbilities() => _abilitySum = _learners.Values.Sum(l => l.Ability);

    internal (long Count, double WeightedSums) FeatureMeans
    {
        get => (_featureAnswers, _weightedSums);
        set => (_featureAnswers, _weightedSums) = value;
    }
}

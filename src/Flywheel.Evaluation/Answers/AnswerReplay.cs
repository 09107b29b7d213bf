using System.Buffers;
using System.Diagnostics;
using System.IO.Hashing;
using System.Text;
using Flywheel.Core;
using Flywheel.Learning;

namespace Flywheel.Evaluation.Answers;

/// <summary>How <see cref="AnswerReplay"/> checks the online estimates (docs/ability-data.md).</summary>
public sealed record AnswerReplayOptions
{
    /// <summary>The share of (learner, item) pairs held out from learning, to score predictions on; 0 ≤ share &lt; 1. <value>Default 0.2.</value></summary>
    public double Holdout { get; init; } = 0.2;

    /// <summary>Seeds the split and, for answers without times, the order they are replayed in. <value>Default 1.</value></summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>
    /// The online model: <c>elo</c>, or <c>irt</c>, which also learns difficulty from the items' features (the extra columns
    /// of a long file; without them it is Elo). <value>Default elo.</value>
    /// </summary>
    public AbilityModel Model { get; init; } = AbilityModel.Elo;

    /// <summary>The chance of a right answer by guessing, 0 ≤ g ≤ 0.5 (the batch fit has none). <value>Default 0.</value></summary>
    public double Guess { get; init; }

    /// <summary>How the batch Rasch fit runs.</summary>
    public RaschFitOptions Rasch { get; init; } = new();
}

/// <summary>The order the training answers were learned from.</summary>
public enum AnswerOrder
{
    /// <summary>By their times (ties in file order).</summary>
    Time,

    /// <summary>A seeded shuffle: the data gave no times.</summary>
    Shuffled,
}

/// <summary>One item: its online difficulty against the batch fit's.</summary>
/// <param name="ItemId">The item.</param>
/// <param name="TrainAnswers">Training answers to it.</param>
/// <param name="Online">The online estimate after one pass.</param>
/// <param name="Rasch">The batch Rasch difficulty.</param>
/// <param name="RaschStandardError">The batch difficulty's standard error.</param>
public sealed record AnswerReplayItem(string ItemId, long TrainAnswers, double Online, double Rasch, double RaschStandardError);

/// <summary>
/// What <see cref="AnswerReplay.Run"/> measured. Log losses are mean −ln P(the answer given), natural log; a held-out figure
/// is NaN when nothing was held out, a correlation NaN for fewer than two items or no spread.
/// </summary>
public sealed record AnswerReplayResult
{
    /// <summary>All answers in the data.</summary>
    public required long Answers { get; init; }

    /// <summary>Learners in the data.</summary>
    public required int Users { get; init; }

    /// <summary>Items in the data.</summary>
    public required int Items { get; init; }

    /// <summary>Answers learned from.</summary>
    public required long TrainAnswers { get; init; }

    /// <summary>Answers held out and predicted.</summary>
    public required long HeldOutAnswers { get; init; }

    /// <summary>The order the training answers were learned in.</summary>
    public required AnswerOrder Order { get; init; }

    /// <summary>Items with at least one training answer: those the correlations compare.</summary>
    public required int ItemsCompared { get; init; }

    /// <summary>Pearson's correlation of the online difficulties with the batch Rasch difficulties.</summary>
    public required double Pearson { get; init; }

    /// <summary>Spearman's rank correlation of the same (ties share their mean rank).</summary>
    public required double Spearman { get; init; }

    /// <summary>Held-out log loss of the online model's final estimates.</summary>
    public required double OnlineLogLoss { get; init; }

    /// <summary>Held-out log loss of the batch Rasch fit (posterior abilities): what a batch model reaches on the same split.</summary>
    public required double RaschLogLoss { get; init; }

    /// <summary>Held-out log loss of each item's training success rate, Laplace-smoothed: (right + 1)/(answers + 2).</summary>
    public required double ItemBaseRateLogLoss { get; init; }

    /// <summary>Held-out log loss of the overall training success rate, Laplace-smoothed.</summary>
    public required double GlobalBaseRateLogLoss { get; init; }

    /// <summary>Log loss of the online model on each training answer, predicted before learning from it.</summary>
    public required double ProgressiveLogLoss { get; init; }

    /// <summary>The batch fit's ability spread (standard deviation, logits).</summary>
    public required double RaschAbilitySpread { get; init; }

    /// <summary>The batch fit's EM iterations.</summary>
    public required int RaschIterations { get; init; }

    /// <summary>Whether the batch fit converged.</summary>
    public required bool RaschConverged { get; init; }

    /// <summary>Wall-clock seconds of the online pass.</summary>
    public required double OnlineSeconds { get; init; }

    /// <summary>Wall-clock seconds of the batch fit.</summary>
    public required double RaschSeconds { get; init; }

    /// <summary>Wall-clock seconds of the whole check (split, pass, fit and scoring; reading the file not included).</summary>
    public required double Seconds { get; init; }

    /// <summary>The compared items, in the order of their first training answer.</summary>
    public required IReadOnlyList<AnswerReplayItem> ItemResults { get; init; }
}

/// <summary>
/// Checks the online ability estimates (<see cref="AbilityEstimator"/>) on answer data (docs/ability-data.md): the
/// (learner, item) pairs are split by a seeded hash into training and held-out answers; one online pass learns from the
/// training answers in time order (or a seeded shuffle when they have no times); a batch <see cref="RaschFit"/> fits the
/// same training answers; then the online difficulties are correlated with the batch ones, and the held-out answers are
/// predicted by the online model, the batch fit and two base rates.
/// </summary>
public static class AnswerReplay
{
    private const double Epsilon = 1e-12;

    /// <summary>Runs the check.</summary>
    /// <exception cref="ArgumentException">No answers, or options out of range.</exception>
    public static AnswerReplayResult Run(AnswerData data, AnswerReplayOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        options ??= new AnswerReplayOptions();
        if (!(options.Holdout is >= 0 and < 1))
        {
            throw new ArgumentException($"Holdout must lie in [0, 1); got {options.Holdout}", nameof(options));
        }
        if (!(options.Guess is >= 0 and <= 0.5))
        {
            throw new ArgumentException($"Guess must lie in [0, 0.5]; got {options.Guess}", nameof(options));
        }
        if (!Enum.IsDefined(options.Model))
        {
            throw new ArgumentException($"Model {(int)options.Model} is unknown", nameof(options));
        }
        if (data.Answers.Count == 0)
        {
            throw new ArgumentException("there are no answers to replay", nameof(data));
        }
        var start = Stopwatch.GetTimestamp();

        // Split by pair, so that all of a learner's answers to an item fall on the same side.
        var train = new List<Answer>(data.Answers.Count);
        var heldOut = new List<Answer>();
        foreach (var a in data.Answers)
        {
            (IsHeldOut(a, options) ? heldOut : train).Add(a);
        }
        var order = data.HasTimes ? AnswerOrder.Time : AnswerOrder.Shuffled;
        if (order == AnswerOrder.Time)
        {
            train = [.. train.OrderBy(a => a.At!.Value)]; // stable: ties keep file order
        }
        else
        {
            Shuffle(train, options.Seed);
        }

        // One online pass, scoring each answer before learning from it.
        var settings = new AbilityConfig { Model = options.Model, Guess = options.Guess };
        var estimator = new AbilityEstimator();
        var onlineStart = Stopwatch.GetTimestamp();
        var progressive = 0.0;
        for (var i = 0; i < train.Count; i++)
        {
            if ((i & 0xFFFF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }
            var a = train[i];
            // Answers without times get one a second, so the learner's memory and streak see a plausible sequence.
            var at = a.At ?? DateTimeOffset.UnixEpoch.AddSeconds(i);
            var p = estimator.Learn(a.UserId, a.ItemId, FeaturesOf(data, a.ItemId, options), a.Correct, at, null, settings);
            progressive += LogLoss(p, a.Correct);
        }
        var onlineSeconds = Stopwatch.GetElapsedTime(onlineStart).TotalSeconds;

        var raschStart = Stopwatch.GetTimestamp();
        var rasch = train.Count > 0 ? RaschFit.Fit(train, options.Rasch, cancellationToken) : null;
        var raschSeconds = Stopwatch.GetElapsedTime(raschStart).TotalSeconds;

        // Base rates from the training answers.
        var itemCounts = new Dictionary<string, (long Answers, long Right)>(StringComparer.Ordinal);
        long right = 0;
        foreach (var a in train)
        {
            var c = itemCounts.GetValueOrDefault(a.ItemId);
            itemCounts[a.ItemId] = (c.Answers + 1, c.Right + (a.Correct ? 1 : 0));
            right += a.Correct ? 1 : 0;
        }
        var globalRate = (right + 1.0) / (train.Count + 2.0);

        double online = 0, batch = 0, itemRate = 0, global = 0;
        foreach (var a in heldOut)
        {
            online += LogLoss(estimator.Predict(a.UserId, a.ItemId, FeaturesOf(data, a.ItemId, options), settings), a.Correct);
            batch += rasch is null ? LogLoss(0.5, a.Correct) : LogLoss(rasch.Predict(a.UserId, a.ItemId), a.Correct);
            var c = itemCounts.GetValueOrDefault(a.ItemId);
            itemRate += LogLoss((c.Right + 1.0) / (c.Answers + 2.0), a.Correct);
            global += LogLoss(globalRate, a.Correct);
        }
        var n = heldOut.Count;

        var items = rasch is null
            ? []
            : rasch.Items.Select(item => new AnswerReplayItem(
                item.ItemId,
                itemCounts[item.ItemId].Answers,
                estimator.Difficulty(item.ItemId, FeaturesOf(data, item.ItemId, options), options.Model),
                item.Difficulty,
                item.StandardError)).ToList();
        var onlineDifficulties = items.Select(i => i.Online).ToArray();
        var raschDifficulties = items.Select(i => i.Rasch).ToArray();

        return new AnswerReplayResult
        {
            Answers = data.Answers.Count,
            Users = data.UserCount,
            Items = data.ItemCount,
            TrainAnswers = train.Count,
            HeldOutAnswers = n,
            Order = order,
            ItemsCompared = items.Count,
            Pearson = Pearson(onlineDifficulties, raschDifficulties),
            Spearman = Pearson(Ranks(onlineDifficulties), Ranks(raschDifficulties)),
            OnlineLogLoss = n == 0 ? double.NaN : online / n,
            RaschLogLoss = n == 0 ? double.NaN : batch / n,
            ItemBaseRateLogLoss = n == 0 ? double.NaN : itemRate / n,
            GlobalBaseRateLogLoss = n == 0 ? double.NaN : global / n,
            ProgressiveLogLoss = train.Count == 0 ? double.NaN : progressive / train.Count,
            RaschAbilitySpread = rasch?.AbilitySpread ?? double.NaN,
            RaschIterations = rasch?.Iterations ?? 0,
            RaschConverged = rasch?.Converged ?? false,
            OnlineSeconds = onlineSeconds,
            RaschSeconds = raschSeconds,
            Seconds = Stopwatch.GetElapsedTime(start).TotalSeconds,
            ItemResults = items,
        };
    }

    /// <summary>Pearson's correlation; NaN for fewer than two pairs or no spread.</summary>
    public static double Pearson(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (x.Count != y.Count)
        {
            throw new ArgumentException("x and y differ in length", nameof(y));
        }
        var n = x.Count;
        if (n < 2)
        {
            return double.NaN;
        }
        double mx = 0, my = 0;
        for (var i = 0; i < n; i++)
        {
            mx += x[i];
            my += y[i];
        }
        mx /= n;
        my /= n;
        double sxy = 0, sxx = 0, syy = 0;
        for (var i = 0; i < n; i++)
        {
            var dx = x[i] - mx;
            var dy = y[i] - my;
            sxy += dx * dy;
            sxx += dx * dx;
            syy += dy * dy;
        }
        return sxx > 0 && syy > 0 ? Math.Clamp(sxy / Math.Sqrt(sxx * syy), -1, 1) : double.NaN;
    }

    /// <summary>1-based ranks, ties sharing their mean rank (for Spearman's correlation).</summary>
    public static double[] Ranks(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var order = Enumerable.Range(0, values.Count).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Count];
        for (var i = 0; i < order.Length;)
        {
            var j = i;
            while (j + 1 < order.Length && values[order[j + 1]] == values[order[i]])
            {
                j++;
            }
            var mean = (i + j) / 2.0 + 1;
            for (var k = i; k <= j; k++)
            {
                ranks[order[k]] = mean;
            }
            i = j + 1;
        }
        return ranks;
    }

    private static Features? FeaturesOf(AnswerData data, string itemId, AnswerReplayOptions options)
        => options.Model == AbilityModel.Irt && data.ItemFeatures.TryGetValue(itemId, out var f) ? f : null;

    private static double LogLoss(double p, bool correct)
    {
        var q = Math.Clamp(correct ? p : 1 - p, Epsilon, 1);
        return -Math.Log(q);
    }

    /// <summary>A seeded hash of (seed, learner, item) below the holdout share: the same pairs for the same seed, whatever the order.</summary>
    private static bool IsHeldOut(Answer a, AnswerReplayOptions options)
    {
        if (options.Holdout <= 0)
        {
            return false;
        }
        var length = Encoding.UTF8.GetByteCount(a.UserId) + 1 + Encoding.UTF8.GetByteCount(a.ItemId);
        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var written = Encoding.UTF8.GetBytes(a.UserId, rented);
            rented[written++] = 0; // no pair of ids runs into another
            written += Encoding.UTF8.GetBytes(a.ItemId, rented.AsSpan(written));
            var hash = XxHash3.HashToUInt64(rented.AsSpan(0, written), unchecked((long)options.Seed));
            return (hash >> 11) * (1.0 / (1UL << 53)) < options.Holdout;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Fisher–Yates with SplitMix64 draws: the same seed gives the same order on every platform.</summary>
    private static void Shuffle(List<Answer> answers, ulong seed)
    {
        var state = seed;
        for (var i = answers.Count - 1; i > 0; i--)
        {
            var j = (int)(((UInt128)SplitMix(ref state) * (ulong)(i + 1)) >> 64);
            (answers[i], answers[j]) = (answers[j], answers[i]);
        }
    }

    private static ulong SplitMix(ref ulong state)
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

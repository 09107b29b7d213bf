using Flywheel.Core;

namespace Flywheel.Evaluation;

/// <summary>Settings of an <see cref="OffPolicyEvaluator"/>.</summary>
public sealed record OffPolicyEvaluatorOptions
{
    /// <summary>The policy for rows without <c>targetProbabilities</c>. <value>Default <see cref="UniformPolicy"/>.</value></summary>
    public ITargetPolicy FallbackPolicy { get; init; } = UniformPolicy.Instance;

    /// <summary>
    /// The learner of the reward model fitted for rows without <c>rewardEstimates</c>; its reduction is always
    /// <c>dm</c>, and its learning rate 0.05 unless set. <value>Default <c>new LearnerConfig()</c>: 18 bits,
    /// <c>context*action</c>.</value>
    /// </summary>
    public LearnerConfig RewardModel { get; init; } = new();

    /// <summary>
    /// The range every reward is known to lie in (a loop's <c>reward.min</c> and <c>reward.max</c>), which bounds the
    /// intervals (docs/estimators.md, "Intervals"); a row whose reward lies outside it is refused. <value>Default null:
    /// the hull of [0, 1] and the rewards seen.</value>
    /// </summary>
    public (double Min, double Max)? RewardRange { get; init; }
}

/// <summary>The outcome of an off-policy evaluation: the estimates and where π and q̂ came from.</summary>
public sealed record OffPolicyReport
{
    /// <summary>The source label when every row carried the values.</summary>
    public const string FromFile = "file";

    /// <summary>The reward-estimate label when every row's estimates came from the fitted model.</summary>
    public const string Fitted = "fitted";

    /// <summary>The label when some rows carried the values and others did not.</summary>
    public const string Mixed = "mixed";

    /// <summary>The estimates.</summary>
    public required OffPolicyEstimates Estimates { get; init; }

    /// <summary><c>file</c>, the fallback policy's name (<c>uniform</c>) or <c>mixed</c>.</summary>
    public required string TargetPolicy { get; init; }

    /// <summary><c>file</c>, <c>fitted</c> or <c>mixed</c>. DM and DR from fitted estimates are Flywheel's own, not reproducible elsewhere.</summary>
    public required string RewardEstimates { get; init; }

    /// <summary>Rows that carried <c>targetProbabilities</c>.</summary>
    public required long RowsWithTargetProbabilities { get; init; }

    /// <summary>Rows that carried <c>rewardEstimates</c>.</summary>
    public required long RowsWithRewardEstimates { get; init; }

    /// <summary>
    /// For a file of rankings, every slate estimator that applies (<c>sips</c>, <c>rips</c>, their self-normalised
    /// forms, <c>cascade-dr</c> with the reward model's estimates) with its bootstrap interval; null for single choices.
    /// Then <see cref="Estimates"/> holds RIPS as <c>ips</c>, SNRIPS as <c>snips</c> and cascade DR as <c>dr</c>, with
    /// normal intervals, as turns judge rankers.
    /// </summary>
    public IReadOnlyDictionary<string, Estimate>? Rankings { get; init; }
}

/// <summary>
/// Off-policy evaluation of logged decisions (docs/estimators.md). For each row: π(·|x) from its
/// <c>targetProbabilities</c> or else <see cref="OffPolicyEvaluatorOptions.FallbackPolicy"/>; q̂(x, ·) from its
/// <c>rewardEstimates</c>, in which case the row streams straight into an <see cref="OffPolicyAccumulator"/>, or else
/// from a cross-fitted reward model (<see cref="FittedRewardModel"/>): such rows are buffered and scored when
/// <see cref="GetReport()"/> is called, each by a model trained on the other folds' rows, so the result does not depend
/// on the rows' order. Then w = π(a|x)/p and q̂(x, π) = Σ_a π(a|x)·q̂(x, a). Not thread-safe.
/// </summary>
public sealed class OffPolicyEvaluator
{
    private readonly OffPolicyEvaluatorOptions _options;
    private OffPolicyAccumulator _accumulator;
    private FittedRewardModel? _model;
    private Slates.SlateAccumulator? _rankings;
    private double[] _policy = new double[16];
    private double[] _estimates = new double[16];

    /// <summary>Creates an evaluator.</summary>
    public OffPolicyEvaluator(OffPolicyEvaluatorOptions? options = null)
    {
        _options = options ?? new OffPolicyEvaluatorOptions();
        ArgumentNullException.ThrowIfNull(_options.FallbackPolicy);
        ArgumentNullException.ThrowIfNull(_options.RewardModel);
    }

    /// <summary>Rows added.</summary>
    public long Count => _accumulator.Count + (_model?.Count ?? 0) + (_rankings?.Count ?? 0);

    /// <summary>Rows that carried <c>targetProbabilities</c>.</summary>
    public long RowsWithTargetProbabilities { get; private set; }

    /// <summary>Rows that carried <c>rewardEstimates</c>.</summary>
    public long RowsWithRewardEstimates { get; private set; }

    /// <summary>Checks (<see cref="LoggedDecision.Validate"/>) and adds one logged decision.</summary>
    public void Add(LoggedDecision decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        decision.Validate();
        if (_options.RewardRange is { } range && !(decision.Reward >= range.Min && decision.Reward <= range.Max))
        {
            throw new FlywheelValidationException("reward", string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"{decision.Reward} lies outside the reward range [{range.Min}, {range.Max}]"));
        }
        if ((decision.Ranking is null) != (_rankings is null) && Count > 0)
        {
            throw new FlywheelValidationException(decision.Ranking is null ? "ranking" : "chosenActionId",
                "this file mixes rankings and single choices: evaluate them in separate files");
        }
        if (decision.Ranking is not null)
        {
            AddRanking(decision);
            return;
        }
        var actions = decision.Actions;
        var k = actions.Count;
        if (_policy.Length < k)
        {
            _policy = new double[Math.Max(k, _policy.Length * 2)];
            _estimates = new double[_policy.Length];
        }
        var policy = _policy.AsSpan(0, k);
        var estimates = _estimates.AsSpan(0, k);
        var chosen = decision.ChosenIndex;

        if (decision.TargetProbabilities is { } target)
        {
            for (var a = 0; a < k; a++)
            {
                policy[a] = target.TryGetValue(actions[a].Id, out var p) ? p : 0;
            }
            RowsWithTargetProbabilities++;
        }
        else
        {
            _options.FallbackPolicy.GetProbabilities(decision, policy);
            CheckFallback(policy);
        }

        if (decision.RewardEstimates is not { } given)
        {
            (_model ??= new FittedRewardModel(_options.RewardModel)).Add(decision, policy);
            return;
        }
        for (var a = 0; a < k; a++)
        {
            estimates[a] = given[actions[a].Id];
        }
        RowsWithRewardEstimates++;

        var policyEstimate = 0.0;
        for (var a = 0; a < k; a++)
        {
            policyEstimate += policy[a] * estimates[a];
        }
        _accumulator.Add(policy[chosen] / decision.Probability, decision.Reward, policyEstimate, estimates[chosen]);
    }

    /// <summary>
    /// A ranking: the target's slot probabilities from the row or, without them, a uniformly random ranking (the only
    /// fallback a ranking has); the reward model's estimates from the row, or none (then DM and DR are not computed).
    /// </summary>
    private void AddRanking(LoggedDecision decision)
    {
        var ranking = decision.Ranking!;
        var k = ranking.Count;
        var behaviour = new double[k];
        var target = new double[k];
        double b = 1, t = 1;
        for (var l = 0; l < k; l++)
        {
            b *= ranking[l].Probability;
            behaviour[l] = b;
            if (decision.TargetSlotProbabilities is { } given)
            {
                t *= given[l];
            }
            else if (_options.FallbackPolicy is UniformPolicy)
            {
                t *= 1.0 / (decision.Actions.Count - l);
            }
            else
            {
                throw new FlywheelValidationException("targetSlotProbabilities",
                    $"is required on a ranking: the policy '{_options.FallbackPolicy.Name}' scores single choices, not rankings");
            }
            target[l] = t;
        }
        RowsWithTargetProbabilities += decision.TargetSlotProbabilities is null ? 0 : 1;
        RowsWithRewardEstimates += decision.SlotRewardEstimates is null ? 0 : 1;
        (_rankings ??= new Slates.SlateAccumulator()).Add(new Slates.LoggedSlate
        {
            Rewards = decision.SlotRewards!,
            BehaviorPrefix = behaviour,
            TargetPrefix = target,
            ModelReward = decision.SlotRewardEstimates,
            ModelRewardUnderTarget = decision.SlotExpectedRewards,
        });
    }

    private void CheckFallback(ReadOnlySpan<double> policy)
    {
        var sum = 0.0;
        foreach (var p in policy)
        {
            if (!(p >= 0) || !double.IsFinite(p))
            {
                throw new InvalidOperationException($"The policy '{_options.FallbackPolicy.Name}' gave a probability of {p}.");
            }
            sum += p;
        }
        if (!(Math.Abs(sum - 1) <= LoggedDecision.ProbabilitySumTolerance))
        {
            throw new InvalidOperationException($"The policy '{_options.FallbackPolicy.Name}' gave probabilities summing to {sum}, not 1.");
        }
    }

    /// <summary>
    /// The report so far. Throws <see cref="InvalidOperationException"/> when no row was added. The first call after
    /// rows without <c>rewardEstimates</c> were added fits the reward model (<see cref="FittedRewardModel.Folds"/>
    /// models, <see cref="FittedRewardModel.Passes"/> passes each); later calls reuse it until more rows arrive.
    /// </summary>
    public OffPolicyReport GetReport() => GetReport(CancellationToken.None);

    private OffPolicyReport GetReport(CancellationToken cancellationToken)
    {
        var n = Count;
        if (_rankings is { } rankings)
        {
            return new OffPolicyReport
            {
                Estimates = _options.RewardRange is { } slotRange ? rankings.Estimates(Estimate.Z95, slotRange.Min, slotRange.Max) : rankings.Estimates(Estimate.Z95, double.NegativeInfinity, double.PositiveInfinity),
                TargetPolicy = Source(RowsWithTargetProbabilities, n, "uniform"),
                RewardEstimates = Source(RowsWithRewardEstimates, n, "none"),
                RowsWithTargetProbabilities = RowsWithTargetProbabilities,
                RowsWithRewardEstimates = RowsWithRewardEstimates,
                Rankings = Slates.SlateOffPolicy.Report(rankings),
            };
        }
        var accumulator = _accumulator;
        if (_model is { Count: > 0 })
        {
            accumulator.Merge(_model.Fit(cancellationToken));
        }
        return new OffPolicyReport
        {
            Estimates = _options.RewardRange is { } range ? accumulator.GetEstimates(Estimate.Z95, range.Min, range.Max) : accumulator.GetEstimates(),
            TargetPolicy = Source(RowsWithTargetProbabilities, n, _options.FallbackPolicy.Name),
            RewardEstimates = Source(RowsWithRewardEstimates, n, OffPolicyReport.Fitted),
            RowsWithTargetProbabilities = RowsWithTargetProbabilities,
            RowsWithRewardEstimates = RowsWithRewardEstimates,
        };
    }

    private static string Source(long fromFile, long total, string otherwise)
        => fromFile == total ? OffPolicyReport.FromFile : fromFile == 0 ? otherwise : OffPolicyReport.Mixed;

    /// <summary>Evaluates a sequence of logged decisions.</summary>
    public static OffPolicyReport Evaluate(IEnumerable<LoggedDecision> decisions, OffPolicyEvaluatorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(decisions);
        var evaluator = new OffPolicyEvaluator(options);
        foreach (var decision in decisions)
        {
            evaluator.Add(decision);
        }
        return evaluator.GetReport();
    }

    /// <summary>
    /// Evaluates a <c>.jsonl</c> or <c>.jsonl.gz</c> file of logged decisions. Bad rows throw
    /// <see cref="LoggedDataException"/>; a file without decisions throws one naming line 1 (or the last line).
    /// </summary>
    public static OffPolicyReport EvaluateFile(string path, OffPolicyEvaluatorOptions? options = null, CancellationToken cancellationToken = default)
    {
        using var reader = LoggedDecisionReader.Open(path);
        var evaluator = new OffPolicyEvaluator(options);
        while (reader.Read() is { } decision)
        {
            try
            {
                evaluator.Add(decision);
            }
            catch (FlywheelValidationException ex) when (ex is not LoggedDataException)
            {
                throw new LoggedDataException(reader.LineNumber, ex.Field, ex.Problem);
            }
            if ((evaluator.Count & 1023) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
        if (evaluator.Count == 0)
        {
            throw new LoggedDataException(Math.Max(1, reader.LineNumber), "", "the file holds no logged decisions");
        }
        return evaluator.GetReport(cancellationToken);
    }
}

using System.Text.Json.Serialization;
using Flywheel.Core.Json;
using System.Text.RegularExpressions;

namespace Flywheel.Core;

/// <summary>What a loop decides (docs/loop-config.md).</summary>
[JsonConverter(typeof(WireEnumConverter<LoopKind>))]
public enum LoopKind
{
    /// <summary>Pick one of N actions.</summary>
    Choose,
    /// <summary>Order K of N actions into slots, learning from per-slot signals corrected for position bias.</summary>
    Rank,
    /// <summary>
    /// Pick the next exercise for a learner: the one whose predicted success is nearest a target, from ability and
    /// difficulty learned online from answers.
    /// </summary>
    Ability,
}

/// <summary>How a loop serves and learns.</summary>
[JsonConverter(typeof(WireEnumConverter<LoopMode>))]
public enum LoopMode
{
    /// <summary>Serve the champion and learn continuously.</summary>
    Online,
    /// <summary>
    /// Serve the product's baseline (with a little uniform exploration, so that the learner can be judged off-policy),
    /// learn from it, and graduate to <see cref="Online"/> once the learner's estimated value beats the baseline's.
    /// </summary>
    Apprentice,
    /// <summary>Serve, never learn: the straight line to compare against.</summary>
    Frozen,
}

/// <summary>Whether a signal comes free with use or was asked for.</summary>
[JsonConverter(typeof(WireEnumConverter<SignalKind>))]
public enum SignalKind
{
    /// <summary>Behaviour: watched to the end, skipped, dwelled, returned.</summary>
    Implicit,
    /// <summary>Asked for: thumbs, stars, a correction.</summary>
    Explicit,
}

/// <summary>How a decision's weighted signals combine into one reward.</summary>
[JsonConverter(typeof(WireEnumConverter<RewardAggregate>))]
public enum RewardAggregate
{
    /// <summary>The sum of weight × value.</summary>
    Sum,
    /// <summary>The largest weight × value.</summary>
    Max,
    /// <summary>The weight × value of the last signal to arrive.</summary>
    Last,
}

/// <summary>Exploration algorithms (docs/loop-config.md).</summary>
[JsonConverter(typeof(WireEnumConverter<ExplorationAlgorithm>))]
public enum ExplorationAlgorithm
{
    /// <summary>ε-greedy: ε spread uniformly, the rest on the best actions.</summary>
    EpsilonGreedy,
    /// <summary>Softmax over predicted costs: p ∝ exp(−λ·(cost − best)).</summary>
    Softmax,
    /// <summary>SquareCB: inverse-gap weighting with γ_t = gamma·√t.</summary>
    [JsonStringEnumMemberName("squarecb")]
    SquareCb,
    /// <summary>Online bagging: each of <c>bags</c> bootstrapped regressors votes for its best action.</summary>
    Bag,
    /// <summary>Always the best action.</summary>
    None,
}

/// <summary>How a bandit example becomes a regression update (docs/estimators.md).</summary>
[JsonConverter(typeof(WireEnumConverter<Reduction>))]
public enum Reduction
{
    /// <summary>One unweighted update on the chosen action (the default).</summary>
    Dm,
    /// <summary>One update on the chosen action, importance weight 1/(p·K) (VW's default).</summary>
    Mtr,
    /// <summary>Inverse propensity scoring: every action towards its cost-sensitive target.</summary>
    Ips,
    /// <summary>Doubly robust: the chosen action towards f + (c − f)/p.</summary>
    Dr,
}

/// <summary>When a turn's candidate replaces the champion.</summary>
[JsonConverter(typeof(WireEnumConverter<PromotionPolicy>))]
public enum PromotionPolicy
{
    /// <summary>The candidate's lower confidence bound beats the champion's estimate.</summary>
    LowerBoundBeatsChampion,
    /// <summary>The candidate's estimate beats the champion's.</summary>
    EstimateBeatsChampion,
    /// <summary>Only by hand.</summary>
    Manual,
}

/// <summary>One declared signal type of a loop.</summary>
public sealed record SignalTypeConfig
{
    /// <summary>Implicit or explicit.</summary>
    public SignalKind Kind { get; init; } = SignalKind.Implicit;

    /// <summary>Multiplies the signal's value in the reward.</summary>
    public double Weight { get; init; } = 1.0;

    /// <summary>When true, this signal closes the decision's reward window at once.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool ClosesWindow { get; init; }
}

/// <summary>How signals become a reward.</summary>
public sealed record RewardConfig
{
    /// <summary>How long after a decision its signals count. <value>Default 600.</value></summary>
    public double WindowSeconds { get; init; } = 600;

    /// <summary>The reward of a decision with no signal in its window. <value>Default 0.</value></summary>
    public double Default { get; init; }

    /// <summary>How weighted signals combine. <value>Default sum.</value></summary>
    public RewardAggregate Aggregate { get; init; } = RewardAggregate.Sum;

    /// <summary>Lower clamp. <value>Default −1.</value></summary>
    public double Min { get; init; } = -1.0;

    /// <summary>Upper clamp. <value>Default 1.</value></summary>
    public double Max { get; init; } = 1.0;
}

/// <summary>Exploration settings.</summary>
public sealed record ExplorationConfig
{
    /// <summary>
    /// The algorithm. <value>Default squarecb: on every reference data set it learns faster than ε-greedy
    /// (bench/RESULTS.md).</value>
    /// </summary>
    public ExplorationAlgorithm Algorithm { get; init; } = ExplorationAlgorithm.SquareCb;

    /// <summary>
    /// ε for epsilon-greedy; the minimum-probability floor for the others. Null takes the default:
    /// 0.05 for epsilon-greedy, 0 (no floor) for the others.
    /// </summary>
    [JsonIgnore]
    public double? Epsilon { get; init; }

    // Written as the ε in force, so that a stored config or model keeps the exploration it served with.
    [JsonInclude, JsonPropertyName("epsilon")]
    internal double WireEpsilon { get => EffectiveEpsilon; init => Epsilon = value; }

    /// <summary>The ε in force: <see cref="Epsilon"/>, or the algorithm's default when it is not set.</summary>
    [JsonIgnore]
    public double EffectiveEpsilon => Epsilon ?? (Algorithm == ExplorationAlgorithm.EpsilonGreedy ? 0.05 : 0.0);

    /// <summary>Softmax inverse temperature. <value>Default 1.</value></summary>
    public double Lambda { get; init; } = 1.0;

    /// <summary>SquareCB gamma scale. <value>Default 10.</value></summary>
    public double Gamma { get; init; } = 10.0;

    /// <summary>Number of bags. <value>Default 5.</value></summary>
    public int Bags { get; init; } = 5;
}

/// <summary>Learner settings.</summary>
public sealed record LearnerConfig
{
    /// <summary>Bits of the hashed weight table. <value>Default 18.</value></summary>
    public int Bits { get; init; } = 18;

    /// <summary>Feature crosses (docs/loop-config.md). <value>Default <c>["context*action"]</c>.</value></summary>
    public IReadOnlyList<string> Interactions { get; init; } = ["context*action"];

    /// <summary>Learning rate, or null for the reduction's default (<see cref="EffectiveLearningRate"/>).</summary>
    [JsonIgnore]
    public double? LearningRate { get; init; }

    // Written as the rate in force, so that a stored config or model keeps the learner it was trained with.
    [JsonInclude, JsonPropertyName("learningRate")]
    internal double WireLearningRate { get => EffectiveLearningRate; init => LearningRate = value; }

    /// <summary>
    /// The learning rate in force: <see cref="LearningRate"/> when set, else the reduction's: 0.6 with <c>dm</c>, 1.0
    /// with <c>mtr</c> (its importance weight is about 1/K on the exploited action, so it needs larger steps) and 0.25
    /// with <c>ips</c> and <c>dr</c> (their targets are scaled up by 1/p). Chosen on 23 replay sets (bench/RESULTS.md).
    /// </summary>
    [JsonIgnore]
    public double EffectiveLearningRate => LearningRate ?? Reduction switch
    {
        Reduction.Dm => 0.6,
        Reduction.Mtr => 1.0,
        _ => 0.25,
    };

    /// <summary>Learning-rate decay exponent, or null for the reduction's default (<see cref="EffectivePowerT"/>).</summary>
    [JsonIgnore]
    public double? PowerT { get; init; }

    [JsonInclude, JsonPropertyName("powerT")]
    internal double WirePowerT { get => EffectivePowerT; init => PowerT = value; }

    /// <summary>
    /// The decay exponent in force: <see cref="PowerT"/> when set, else 0.65 with <c>dm</c> (larger first steps that
    /// shrink faster: better on small and on noisy sets alike) and VW's 0.5 with the other reductions.
    /// </summary>
    [JsonIgnore]
    public double EffectivePowerT => PowerT ?? (Reduction == Reduction.Dm ? 0.65 : 0.5);

    /// <summary>L2 regularisation. <value>Default 0.</value></summary>
    public double L2 { get; init; }

    /// <summary>
    /// How fast the learner forgets, in [0, 0.1]: each update first shrinks the adaptive per-weight sums of squared
    /// gradients it touches by the factor 1 − forgetting, so weights that have learned a lot keep a learning rate that
    /// does not vanish and can follow a world that changes (about 1/forgetting recent updates of a weight count).
    /// 0 remembers everything, as the adaptive update of VW does. <value>Default 0.</value>
    /// </summary>
    public double Forgetting { get; init; }

    /// <summary>Bandit-to-regression reduction. <value>Default dm.</value></summary>
    public Reduction Reduction { get; init; } = Reduction.Dm;
}

/// <summary>Turn schedule and promotion policy.</summary>
public sealed record TurnsConfig
{
    /// <summary>Seconds between scheduled turns. <value>Default 3600.</value></summary>
    public double EverySeconds { get; init; } = 3600;

    /// <summary>Fewest new decisions for a turn. <value>Default 1,000.</value></summary>
    public int MinDecisions { get; init; } = 1000;

    /// <summary>When a candidate is promoted. <value>Default lower-bound-beats-champion.</value></summary>
    public PromotionPolicy PromoteWhen { get; init; } = PromotionPolicy.LowerBoundBeatsChampion;

    /// <summary>Confidence level of the intervals. <value>Default 0.95.</value></summary>
    public double Confidence { get; init; } = 0.95;

    /// <summary>
    /// How many times a candidate learns a decision where a shadow disagreed with what was served and the reward shows
    /// one of them was clearly wrong (a mismatch): 1 learns it once like any other; 1–100. <value>Default 1.</value>
    /// </summary>
    public double MismatchWeight { get; init; } = 1;
}

/// <summary>
/// One loop's configuration (docs/loop-config.md): the same JSON over HTTP, in files and in C#. Read it with
/// <see cref="LoopConfigJson.Parse(string, string?)"/>, write it with <see cref="LoopConfigJson.Serialize(LoopConfig, bool)"/>,
/// and check a config built in C# with <see cref="Validate()"/> (or, with the engine's limits, <see cref="Validate(FlywheelLimits)"/>).
/// </summary>
public sealed partial record LoopConfig
{
    /// <summary>The loop id: <c>^[a-z0-9][a-z0-9_-]{0,63}$</c>.</summary>
    public required string Id { get; init; }

    /// <summary>What the loop decides. <value>Default choose.</value></summary>
    public LoopKind Kind { get; init; } = LoopKind.Choose;

    /// <summary>The signal types the loop accepts, with their kind and weight.</summary>
    public IReadOnlyDictionary<string, SignalTypeConfig> Signals { get; init; } = new Dictionary<string, SignalTypeConfig>();

    /// <summary>How signals become rewards.</summary>
    public RewardConfig Reward { get; init; } = new();

    /// <summary>How the loop explores.</summary>
    public ExplorationConfig Exploration { get; init; } = new();

    /// <summary>The learner's settings.</summary>
    public LearnerConfig Learner { get; init; } = new();

    /// <summary>The turn schedule.</summary>
    public TurnsConfig Turns { get; init; } = new();

    /// <summary>
    /// How a <c>rank</c> loop ranks: slots, position bias, intervention rate. Defaults when absent on a <c>rank</c> loop;
    /// not allowed on other kinds.
    /// </summary>
    public RankConfig? Rank { get; init; }

    /// <summary>The rank settings in force: <see cref="Rank"/>, or the defaults.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public RankConfig RankSettings => Rank ?? DefaultRank;

    private static readonly RankConfig DefaultRank = new();

    /// <summary>
    /// How an <c>ability</c> loop models learners and picks exercises. Defaults when absent on an <c>ability</c> loop;
    /// not allowed on other kinds.
    /// </summary>
    public AbilityConfig? Ability { get; init; }

    /// <summary>The ability settings in force: <see cref="Ability"/>, or the defaults.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public AbilityConfig AbilitySettings => Ability ?? DefaultAbility;

    private static readonly AbilityConfig DefaultAbility = new();

    /// <summary>
    /// Makes a <c>choose</c> loop a generation loop (docs/generation.md): its decisions' outputs and users' edits are
    /// stored, and health reports edit distances and the share of outputs kept. Not allowed on other kinds.
    /// </summary>
    public GenerationConfig? Generation { get; init; }

    /// <summary>Serve and learn, or serve only. <value>Default online.</value></summary>
    public LoopMode Mode { get; init; } = LoopMode.Online;

    /// <summary>The default of <see cref="MinimumFeltEffect"/>.</summary>
    public const double DefaultMinimumFeltEffect = 0.02;

    /// <summary>
    /// The smallest change of mean reward (in reward units) that users can feel. The health report judges each turn's
    /// lift and the learning curve's doubling gain against it. <value>Default 0.02.</value>
    /// </summary>
    public double MinimumFeltEffect { get; init; } = DefaultMinimumFeltEffect;

    /// <summary>Matches a valid loop id or signal type name.</summary>
    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,63}$")]
    public static partial Regex IdPattern();

    /// <summary>Matches a namespace name in an interaction term.</summary>
    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")]
    internal static partial Regex NamespacePattern();

    /// <summary>
    /// An ability loop's reward is the answer: the <c>correct</c> signal closes the window and is the only one with
    /// weight, so rewards, health and evaluation all read as success rates.
    /// </summary>
    private void ValidateAbility()
    {
        AbilitySettings.Validate();
        if (Mode == LoopMode.Apprentice)
        {
            throw new FlywheelValidationException("mode", "'apprentice' serves the product's one baseline action; an ability loop serves online or frozen");
        }
        if (Exploration.Algorithm == ExplorationAlgorithm.Bag)
        {
            throw new FlywheelValidationException("exploration.algorithm", "'bag' is not available to ability loops: use 'epsilon-greedy', 'softmax', 'squarecb' or 'none'");
        }
        const string correct = AbilityConfig.CorrectSignal;
        if (Signals is null || !Signals.TryGetValue(correct, out var answer) || answer is null)
        {
            throw new FlywheelValidationException($"signals.{correct}", "is required on ability loops: {\"kind\": \"explicit\", \"weight\": 1, \"closesWindow\": true} carries each answer");
        }
        if (answer.Weight != 1 || !answer.ClosesWindow)
        {
            throw new FlywheelValidationException($"signals.{correct}", "must have weight 1 and closesWindow true: the answer is the reward of an ability decision");
        }
        foreach (var (name, s) in Signals)
        {
            if (name != correct && s is not null && s.Weight != 0)
            {
                throw new FlywheelValidationException($"signals.{name}.weight", "must be 0 on ability loops, whose reward is the answer alone; the signal is still recorded");
            }
        }
        if (Reward.Min > 0 || Reward.Max < 1)
        {
            throw new FlywheelValidationException("reward.min", $"must allow rewards from 0 to 1 on ability loops (answers); got [{Reward.Min}, {Reward.Max}]");
        }
    }

    /// <summary>Throws a <see cref="FlywheelValidationException"/> naming the first invalid field.</summary>
    public void Validate()
    {
        if (Id is null || !IdPattern().IsMatch(Id))
        {
            throw new FlywheelValidationException("id", $"must match ^[a-z0-9][a-z0-9_-]{{0,63}}$; got '{Id}'");
        }
        if (Signals is null || Reward is null || Exploration is null || Learner is null || Turns is null)
        {
            var missing = Signals is null ? "signals" : Reward is null ? "reward" : Exploration is null ? "exploration" : Learner is null ? "learner" : "turns";
            throw new FlywheelValidationException(missing, "is required");
        }
        CheckDefined("kind", Kind);
        CheckDefined("mode", Mode);
        CheckDefined("reward.aggregate", Reward.Aggregate);
        CheckDefined("exploration.algorithm", Exploration.Algorithm);
        CheckDefined("learner.reduction", Learner.Reduction);
        CheckDefined("turns.promoteWhen", Turns.PromoteWhen);
        if (Kind == LoopKind.Ability)
        {
            ValidateAbility();
        }
        else if (Ability is not null)
        {
            throw new FlywheelValidationException("ability", $"is for loops of kind 'ability'; this loop is '{LoopConfigJson.Name(Kind)}'");
        }
        if (Generation is not null)
        {
            if (Kind != LoopKind.Choose)
            {
                throw new FlywheelValidationException("generation", $"is for loops of kind 'choose' (the variants are its actions); this loop is '{LoopConfigJson.Name(Kind)}'");
            }
            Generation.Validate();
        }
        if (Kind == LoopKind.Rank)
        {
            RankSettings.Validate();
            if (Mode == LoopMode.Apprentice)
            {
                throw new FlywheelValidationException("mode", "'apprentice' serves the product's one baseline action; a rank loop serves online or frozen");
            }
            if (Exploration.Algorithm == ExplorationAlgorithm.Bag)
            {
                throw new FlywheelValidationException("exploration.algorithm", "'bag' is not available to rank loops: use 'squarecb', 'epsilon-greedy', 'softmax' or 'none'");
            }
            if (Learner.Reduction is Reduction.Ips or Reduction.Dr)
            {
                throw new FlywheelValidationException("learner.reduction", $"'{LoopConfigJson.Name(Learner.Reduction)}' is not available to rank loops, which learn each slot's examination-weighted reward: use 'dm' or 'mtr'");
            }
        }
        else if (Rank is not null)
        {
            throw new FlywheelValidationException("rank", $"is for loops of kind 'rank'; this loop is '{LoopConfigJson.Name(Kind)}'");
        }
        if (Signals is null || Signals.Count == 0)
        {
            throw new FlywheelValidationException("signals", "must declare at least one signal type");
        }
        foreach (var (name, s) in Signals)
        {
            if (!IdPattern().IsMatch(name))
            {
                throw new FlywheelValidationException($"signals.{name}", "a signal type name must match ^[a-z0-9][a-z0-9_-]{0,63}$");
            }
            if (s is null)
            {
                throw new FlywheelValidationException($"signals.{name}", "is required");
            }
            CheckDefined($"signals.{name}.kind", s.Kind);
            CheckFinite($"signals.{name}.weight", s.Weight);
        }
        CheckRange("reward.windowSeconds", Reward.WindowSeconds, 0, 30 * 86400, exclusiveMin: true);
        CheckFinite("reward.min", Reward.Min);
        CheckFinite("reward.max", Reward.Max);
        CheckFinite("reward.default", Reward.Default);
        if (Reward.Min >= Reward.Max)
        {
            throw new FlywheelValidationException("reward.min", $"must be less than reward.max ({Reward.Max}); got {Reward.Min}");
        }
        if (Reward.Default < Reward.Min || Reward.Default > Reward.Max)
        {
            throw new FlywheelValidationException("reward.default", $"must lie within [reward.min, reward.max] = [{Reward.Min}, {Reward.Max}]; got {Reward.Default}");
        }
        CheckRange("exploration.epsilon", Exploration.EffectiveEpsilon, 0, 1);
        CheckRange("exploration.lambda", Exploration.Lambda, 0, 1e6);
        CheckRange("exploration.gamma", Exploration.Gamma, 0, 1e9);
        CheckRange("exploration.bags", Exploration.Bags, 1, 64);
        CheckRange("learner.bits", Learner.Bits, 16, 24);
        CheckRange("learner.learningRate", Learner.EffectiveLearningRate, 0, 100, exclusiveMin: true);
        CheckRange("learner.powerT", Learner.EffectivePowerT, 0, 1);
        CheckRange("learner.l2", Learner.L2, 0, 1);
        CheckRange("learner.forgetting", Learner.Forgetting, 0, 0.1);
        if (Learner.Interactions is null)
        {
            throw new FlywheelValidationException("learner.interactions", "must be a list of terms such as \"context*action\"");
        }
        for (var i = 0; i < Learner.Interactions.Count; i++)
        {
            ValidateInteraction($"learner.interactions[{i}]", Learner.Interactions[i]);
        }
        CheckRange("turns.everySeconds", Turns.EverySeconds, 1, 365 * 86400);
        CheckRange("turns.minDecisions", Turns.MinDecisions, 1, int.MaxValue);
        CheckRange("turns.confidence", Turns.Confidence, 0.5, 1, exclusiveMin: true, exclusiveMax: true);
        CheckRange("turns.mismatchWeight", Turns.MismatchWeight, 1, 100);
        CheckRange("minimumFeltEffect", MinimumFeltEffect, 0, Reward.Max - Reward.Min, exclusiveMin: true);
    }

    /// <summary>
    /// Throws a <see cref="FlywheelValidationException"/> naming the first invalid field, as <see cref="Validate()"/>
    /// does, and when the model would need more memory than <paramref name="limits"/> allow one loop
    /// (<see cref="FlywheelLimits.MaxLoopModelBytes"/>, see <see cref="ModelBytes"/>).
    /// </summary>
    public void Validate(FlywheelLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        Validate();
        var bytes = ModelBytes();
        if (bytes <= limits.MaxLoopModelBytes)
        {
            return;
        }
        var bags = Exploration.Algorithm == ExplorationAlgorithm.Bag ? Exploration.Bags : 1;
        var with = new List<string>();
        if (bags > 1)
        {
            with.Add($"exploration.bags {bags}");
        }
        if (Learner.Reduction == Reduction.Dr)
        {
            with.Add("learner.reduction dr (a reward model beside the policy)");
        }
        var regressors = bags + (Learner.Reduction == Reduction.Dr ? 1 : 0);
        throw new FlywheelValidationException("learner.bits",
            $"{Learner.Bits} bits{(with.Count == 0 ? "" : " with " + string.Join(" and ", with))} need {Size(bytes)} of weights once the model is dense "
            + $"({regressors} regressor{(regressors == 1 ? "" : "s")} of 2^{Learner.Bits} slots); at most {Size(limits.MaxLoopModelBytes)} per loop is allowed "
            + $"(FlywheelLimits.MaxLoopModelBytes): lower learner.bits{(bags > 1 ? " or exploration.bags" : "")}");
    }

    /// <summary>Bytes a dense regressor keeps per slot: its weight, sum of squared gradients and largest |x|.</summary>
    public const int LearnerBytesPerSlot = 12;

    /// <summary>Bytes the served copy of a dense policy regressor takes per slot: its weight.</summary>
    public const int ServedBytesPerSlot = 4;

    /// <summary>
    /// The most memory this loop's model takes: what its regressors hold once they have learned enough to be dense (a
    /// regressor stays sparse, at a small fraction of this, while it has touched few of its slots). Each regressor of the
    /// policy (one per bag when bagging, else one) takes 2^bits × (<see cref="LearnerBytesPerSlot"/> +
    /// <see cref="ServedBytesPerSlot"/>) bytes with its served copy; the reward model of <c>dr</c> takes 2^bits ×
    /// <see cref="LearnerBytesPerSlot"/>. Call it on a valid config.
    /// </summary>
    public long ModelBytes()
    {
        var bags = Exploration.Algorithm == ExplorationAlgorithm.Bag ? Exploration.Bags : 1;
        var perSlot = (long)bags * (LearnerBytesPerSlot + ServedBytesPerSlot) + (Learner.Reduction == Reduction.Dr ? LearnerBytesPerSlot : 0);
        return perSlot << Learner.Bits;
    }

    private static string Size(long bytes)
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        return bytes switch
        {
            >= 1L << 30 => (bytes / (double)(1L << 30)).ToString("0.##", inv) + " GiB",
            >= 1L << 20 => (bytes / (double)(1L << 20)).ToString("0.##", inv) + " MiB",
            _ => (bytes / 1024.0).ToString("0.##", inv) + " KiB",
        };
    }

    private static void ValidateInteraction(string field, string? term)
    {
        if (string.IsNullOrWhiteSpace(term))
        {
            throw new FlywheelValidationException(field, "must not be empty");
        }
        var parts = term.Split('*');
        if (parts.Length < 2 || parts.Length > 3)
        {
            throw new FlywheelValidationException(field, $"must cross 2 or 3 terms joined by '*', such as \"context*action\"; got '{term}'");
        }
        foreach (var p in parts)
        {
            if (!NamespacePattern().IsMatch(p))
            {
                throw new FlywheelValidationException(field, $"'{p}' is neither 'context', 'action' nor a namespace name");
            }
        }
    }

    private static void CheckDefined<T>(string field, T value) where T : struct, Enum
    {
        if (!Enum.IsDefined(value))
        {
            throw new FlywheelValidationException(field, $"has an undefined value ({value})");
        }
    }

    private static void CheckFinite(string field, double value)
    {
        if (!double.IsFinite(value))
        {
            throw new FlywheelValidationException(field, "must be a finite number");
        }
    }

    private static void CheckRange(string field, double value, double min, double max, bool exclusiveMin = false, bool exclusiveMax = false)
    {
        CheckFinite(field, value);
        if (value < min || value > max || (exclusiveMin && value == min) || (exclusiveMax && value == max))
        {
            var lo = exclusiveMin ? $"greater than {min}" : $"at least {min}";
            var hi = exclusiveMax ? $"less than {max}" : $"at most {max}";
            throw new FlywheelValidationException(field, $"must be {lo} and {hi}; got {value}");
        }
    }
}

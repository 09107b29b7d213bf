using System.Text.Json.Serialization;
using Flywheel.Core.Json;

namespace Flywheel.Core;

/// <summary>What the health report sees: the wheel spinning, or the one failure that stops it (docs/health.md).</summary>
[JsonConverter(typeof(WireEnumConverter<HealthStatus>))]
public enum HealthStatus
{
    /// <summary>Too little evidence to judge yet: more decisions or rewards are needed, not more time.</summary>
    WarmingUp,
    /// <summary>Signals are captured, a model learns from them and serves, and more data still brings gains users feel.</summary>
    Spinning,
    /// <summary>Nothing captured: almost no decision gets a signal inside its reward window.</summary>
    NoSignal,
    /// <summary>Signals are captured, but no model learns from them and no turn deploys one.</summary>
    NoPipe,
    /// <summary>The loop learns, but its gains are smaller than users can feel.</summary>
    Invisible,
    /// <summary>Gains were felt, but doubling the data is predicted to gain less than users can feel.</summary>
    Plateau,
    /// <summary>The world moved: reward fell and has not come back.</summary>
    Stale,
}

/// <summary>The verdict: a status, the figure that shows it, and what to do, in plain words.</summary>
/// <param name="Status">What the report sees.</param>
/// <param name="Evidence">The figure that shows it, with its sample size.</param>
/// <param name="Advice">What to do next, in one sentence.</param>
public sealed record HealthVerdict(HealthStatus Status, string Evidence, string Advice);

/// <summary>
/// The answer to "does our data compound, and does each turn produce something users can feel?" for one loop: every
/// figure of docs/health.md with its definition, window and sample size, and a verdict.
/// </summary>
public sealed record HealthReport
{
    /// <summary>The loop.</summary>
    public required string Loop { get; init; }

    /// <summary>When the report was computed (the engine's clock).</summary>
    [JsonConverter(typeof(UtcTimeConverter))]
    public required DateTimeOffset GeneratedAt { get; init; }

    /// <summary>The loop's <see cref="LoopConfig.MinimumFeltEffect"/>: the smallest change of mean reward users can feel.</summary>
    public required double MinimumFeltEffect { get; init; }

    /// <summary>What the log holds.</summary>
    public required HealthEvidence Evidence { get; init; }

    /// <summary>The verdict.</summary>
    public required HealthVerdict Verdict { get; init; }

    /// <summary>Capture rate.</summary>
    public required CaptureFigure Capture { get; init; }

    /// <summary>Fuel.</summary>
    public required FuelFigure Fuel { get; init; }

    /// <summary>Whether learning reaches serving.</summary>
    public required PipeFigure Pipe { get; init; }

    /// <summary>Loop latency.</summary>
    public required LatencyFigure Latency { get; init; }

    /// <summary>Learning curve.</summary>
    public required LearningCurveFigure LearningCurve { get; init; }

    /// <summary>Felt lift: of learning so far and of each deployed turn.</summary>
    public required LiftFigure Lift { get; init; }

    /// <summary>Staleness and drift.</summary>
    public required StalenessFigure Staleness { get; init; }

    /// <summary>Return rates and streaks.</summary>
    public required ReturnFigure Return { get; init; }

    /// <summary>A <c>rank</c> loop's measured position bias (null for other kinds).</summary>
    public PositionBiasReport? PositionBias { get; init; }

    /// <summary>For an <c>ability</c> loop: its learners, their success against the target, streaks and reviews due.</summary>
    public LearnerHealth? Learners { get; init; }

    /// <summary>Generation loops: what users did with the outputs, over time and per turn (null on other loops).</summary>
    public GenerationHealth? Generation { get; init; }
}

/// <summary>A stretch of the decision log a figure was computed on.</summary>
/// <param name="Decisions">How many decisions it holds (the sample size).</param>
/// <param name="From">Its first decision's time (null when empty).</param>
/// <param name="To">Its last decision's time (null when empty).</param>
public sealed record DataSpan(
    long Decisions,
    [property: JsonConverter(typeof(UtcTimeConverter))] DateTimeOffset? From,
    [property: JsonConverter(typeof(UtcTimeConverter))] DateTimeOffset? To);

/// <summary>What the log holds.</summary>
/// <param name="Decisions">Decisions logged.</param>
/// <param name="Rewards">Decisions whose reward window has closed.</param>
/// <param name="Signals">Signals stored (late and orphaned included).</param>
/// <param name="RewardStandardDeviation">The standard deviation of the rewards (null with fewer than 2).</param>
/// <param name="DecisionsToJudge">
/// Rewards needed in each of two windows to detect a change of <see cref="HealthReport.MinimumFeltEffect"/> at 95%
/// confidence with 80% power (two-sided Welch/normal test): the evidence a lift verdict needs.
/// </param>
/// <param name="Span">The whole log.</param>
public sealed record HealthEvidence(long Decisions, long Rewards, long Signals, double? RewardStandardDeviation, long? DecisionsToJudge, DataSpan Span);

/// <summary>Share of decisions with at least one signal inside their reward window.</summary>
/// <param name="Definition">What is counted.</param>
/// <param name="Window">The closed decisions it was computed on.</param>
/// <param name="Rate">Share with any signal, with its 95% Wilson interval.</param>
/// <param name="Implicit">Share with an implicit signal.</param>
/// <param name="Explicit">Share with an explicit signal.</param>
/// <param name="LateSignals">Signals in the whole log that arrived after their window closed.</param>
/// <param name="OrphanedSignals">Signals in the whole log whose decision id was unknown.</param>
public sealed record CaptureFigure(string Definition, DataSpan Window, Estimate Rate, Estimate Implicit, Estimate Explicit, long LateSignals, long OrphanedSignals);

/// <summary>Joined examples per hour and signals per decision.</summary>
/// <param name="Definition">What is counted.</param>
/// <param name="Window">The decisions it was computed on.</param>
/// <param name="ExamplesPerHour">Rewards (joined examples) per hour of the window (null when it spans no time).</param>
/// <param name="SignalsPerDecision">Signals joined to a decision, per decision.</param>
public sealed record FuelFigure(string Definition, DataSpan Window, double? ExamplesPerHour, double SignalsPerDecision);

/// <summary>Whether what is captured reaches what is served.</summary>
/// <param name="Definition">What is checked.</param>
/// <param name="Mode">The loop's mode: online loops learn every reward; frozen ones never do.</param>
/// <param name="LearnsOnline">True when the serving model learns from each reward as it closes.</param>
/// <param name="ModelExamples">Examples the serving model has learned.</param>
/// <param name="Deployments">Turns that deployed a model inside the recent window (promoted, graduated or promoted by hand).</param>
/// <param name="RecentWindow">The recent window.</param>
public sealed record PipeFigure(string Definition, LoopMode Mode, bool LearnsOnline, long ModelExamples, int Deployments, DataSpan RecentWindow);

/// <summary>How long a signal takes to change what users get.</summary>
/// <param name="Definition">What is measured.</param>
/// <param name="Online">From a signal's arrival to the first decision served by a model that learned it (null when none has: nothing learned, or not since the engine started).</param>
/// <param name="Turns">Per deployed turn: from the newest reward it used to the moment its model began to serve.</param>
public sealed record LatencyFigure(string Definition, LatencySummary? Online, IReadOnlyList<TurnLatency> Turns);

/// <summary>A latency distribution in seconds.</summary>
/// <param name="Samples">How many signals were measured.</param>
/// <param name="MedianSeconds">The median.</param>
/// <param name="P90Seconds">The 90th percentile.</param>
/// <param name="MaxSeconds">The largest.</param>
public sealed record LatencySummary(long Samples, double MedianSeconds, double P90Seconds, double MaxSeconds);

/// <summary>One deployed turn's latency.</summary>
/// <param name="Turn">The ledger entry.</param>
/// <param name="Version">The model it deployed.</param>
/// <param name="Seconds">From the newest data it used to its deployment.</param>
public sealed record TurnLatency(long Turn, int Version, double Seconds);

/// <summary>Quality against the number of examples learned, with the fit loss(n) = a·n^(−b) + c.</summary>
/// <param name="Definition">What is plotted and fitted.</param>
/// <param name="Points">Mean reward of the decisions served after n examples, in log-spaced buckets.</param>
/// <param name="Fit">The fitted curve (null with fewer than 4 points).</param>
/// <param name="DoublingGain">The predicted gain in mean reward of doubling the data from where it stands.</param>
/// <param name="DoublingGainUpper">
/// The upper end of the doubling gain's 95% interval, from refitting the curve to its points drawn again within their
/// standard errors (a parametric bootstrap of 200 fits).
/// </param>
/// <param name="Plateau">
/// True when <see cref="DoublingGain"/> is below the minimum felt effect, and so is <see cref="DoublingGainUpper"/> or
/// the upper end of <see cref="LastDoubling"/>'s interval.
/// </param>
/// <param name="LastDoubling">
/// The measured gain of the last doubling: the newest decisions against as many ending halfway through the log
/// (null while the log is short). The fit extrapolates; this is what the data did.
/// </param>
public sealed record LearningCurveFigure(string Definition, IReadOnlyList<CurvePoint> Points, CurveFit? Fit, double? DoublingGain, double? DoublingGainUpper, bool? Plateau, WindowComparison? LastDoubling);

/// <summary>One point of the learning curve.</summary>
/// <param name="Examples">Examples learned (the bucket's middle, geometric).</param>
/// <param name="Decisions">Decisions in the bucket.</param>
/// <param name="MeanReward">Their mean reward with its 95% interval.</param>
/// <param name="Loss">reward.max − mean reward: what the fit sees.</param>
public sealed record CurvePoint(double Examples, long Decisions, Estimate MeanReward, double Loss);

/// <summary>loss(n) = A·n^(−B) + C with its root-mean-square residual.</summary>
/// <param name="A">Scale.</param>
/// <param name="B">Exponent.</param>
/// <param name="C">Floor.</param>
/// <param name="Residual">RMS residual.</param>
public sealed record CurveFit(double A, double B, double C, double Residual);

/// <summary>Felt lift: what learning has gained so far, and what each deployed turn gained online.</summary>
/// <param name="Definition">What is compared.</param>
/// <param name="DecisionsNeeded">Decisions per side needed to detect the minimum felt effect (95% confidence, 80% power).</param>
/// <param name="Learning">The newest window against the first (null until the log holds two windows).</param>
/// <param name="Launch">
/// The newest window against the first 300 decisions: a loop that learns fast gains most inside its first window,
/// so this short launch window shows gains the first window dilutes (null until the log holds two windows).
/// </param>
/// <param name="Choices">
/// The model's own picks against the loop's exploration steps over the whole log: what choosing with what was learned
/// gains over the alternatives it tries (null without both kinds of decisions).
/// </param>
/// <param name="Turns">Each deployed model's online reward against its predecessor's, from the ledger.</param>
public sealed record LiftFigure(string Definition, long? DecisionsNeeded, WindowComparison? Learning, WindowComparison? Launch, ChoiceComparison? Choices, IReadOnlyList<TurnLift> Turns);

/// <summary>Mean reward of the model's picks against that of exploration steps, with the Welch interval of the difference.</summary>
/// <param name="Picked">Decisions served as the model's pick.</param>
/// <param name="PickedReward">Their mean reward.</param>
/// <param name="Explored">Decisions served as exploration steps.</param>
/// <param name="ExploredReward">Their mean reward.</param>
/// <param name="Difference">Picked − explored, with its 95% Welch interval.</param>
public sealed record ChoiceComparison(long Picked, Estimate PickedReward, long Explored, Estimate ExploredReward, Estimate Difference);

/// <summary>Mean reward of one window against another's, with the Welch interval of the difference.</summary>
/// <param name="Before">The earlier window.</param>
/// <param name="BeforeReward">Its mean reward.</param>
/// <param name="After">The later window.</param>
/// <param name="AfterReward">Its mean reward.</param>
/// <param name="Difference">After − before, with its 95% Welch interval.</param>
public sealed record WindowComparison(DataSpan Before, Estimate BeforeReward, DataSpan After, Estimate AfterReward, Estimate Difference);

/// <summary>A deployed turn's online lift against the felt threshold.</summary>
/// <param name="Turn">The ledger entry.</param>
/// <param name="Version">The deployed model.</param>
/// <param name="PredecessorVersion">The model it replaced.</param>
/// <param name="Difference">Its mean reward − its predecessor's (null until measured).</param>
/// <param name="Decisions">Rewarded decisions it served in the measurement.</param>
/// <param name="Status"><c>felt</c>, <c>invisible</c> (the interval lies below the threshold), or <c>undecided</c>.</param>
/// <param name="DecisionsNeeded">Decisions per side needed to detect the threshold, given the observed spread.</param>
public sealed record TurnLift(long Turn, int Version, int PredecessorVersion, Estimate? Difference, long Decisions, string Status, long? DecisionsNeeded);

/// <summary>Is the champion going stale? Quality by age of the data and drift of inputs and rewards.</summary>
/// <param name="Definition">What is measured.</param>
/// <param name="ByAge">Mean reward of served decisions by age, newest first.</param>
/// <param name="RewardPsi">Population stability of the reward distribution, recent window against the one before (null without both).</param>
/// <param name="FeaturePsi">The context features that moved most, by PSI of the newest decisions against older ones.</param>
/// <param name="Drift">Page–Hinkley on the reward stream and the confirmed drop, if any.</param>
public sealed record StalenessFigure(string Definition, IReadOnlyList<AgeBucket> ByAge, double? RewardPsi, IReadOnlyList<FeatureDrift> FeaturePsi, DriftFigure Drift);

/// <summary>Mean reward of the decisions in one age bucket.</summary>
/// <param name="Label">Which bucket (<c>newest 10%</c>, …).</param>
/// <param name="Window">Its decisions.</param>
/// <param name="MeanReward">Their mean reward.</param>
public sealed record AgeBucket(string Label, DataSpan Window, Estimate MeanReward);

/// <summary>PSI of one context feature.</summary>
/// <param name="Feature">The feature (<c>namespace.name</c>, or <c>namespace.name=value</c> for categories).</param>
/// <param name="Psi">Its population stability index: below 0.1 stable, 0.1–0.25 some change, above 0.25 shifted.</param>
public sealed record FeatureDrift(string Feature, double Psi);

/// <summary>Reward drift: Page–Hinkley alarms and the drop they point at.</summary>
/// <param name="Alarms">Page–Hinkley alarms over the reward stream (drops; δ = 0.005, λ = 50 on rewards scaled to [0, 1]).</param>
/// <param name="LastAlarmAt">When the newest alarm's reward window closed (null without alarms).</param>
/// <param name="Change">The window before the newest alarm against the newest window (null without an alarm).</param>
/// <param name="TypicalSwing">
/// How far the mean reward of windows that size moved from one window to the next before the change (the root mean
/// square of successive differences over √2): the world's own ups and downs, which a drop must clearly exceed.
/// </param>
/// <param name="Stale">
/// True when that drop is at least the felt threshold and twice the typical swing, and its interval excludes zero.
/// </param>
public sealed record DriftFigure(long Alarms, [property: JsonConverter(typeof(UtcTimeConverter))] DateTimeOffset? LastAlarmAt, WindowComparison? Change, double? TypicalSwing, bool Stale);

/// <summary>Users who come back, and how long their streaks of daily use run.</summary>
/// <param name="Definition">What is counted.</param>
/// <param name="Users">Users seen (on decisions or user-level signals).</param>
/// <param name="Within1Day">Share of visit days followed by another visit within 1 day.</param>
/// <param name="Within7Days">… within 7 days.</param>
/// <param name="Within30Days">… within 30 days.</param>
/// <param name="Streaks">Users by their longest run of consecutive active days.</param>
public sealed record ReturnFigure(string Definition, long Users, ReturnRate Within1Day, ReturnRate Within7Days, ReturnRate Within30Days, IReadOnlyList<StreakBucket> Streaks);

/// <summary>A return rate with its sample: visit days old enough to have been followed within the horizon.</summary>
/// <param name="Rate">The share with its 95% Wilson interval.</param>
/// <param name="Visits">The visit days it counts.</param>
public sealed record ReturnRate(Estimate Rate, long Visits);

/// <summary>Users whose longest streak falls in a range of days.</summary>
/// <param name="Days">The range (<c>1</c>, <c>2-3</c>, <c>4-7</c>, <c>8-14</c>, <c>15-30</c>, <c>31+</c>).</param>
/// <param name="Users">How many users.</param>
public sealed record StreakBucket(string Days, long Users);

/// <summary>
/// What users did with a generation loop's outputs (docs/generation.md, "Health"): how much they rewrote them and how
/// often they kept them as they were. An output is judged once a signal says what happened to it: kept or copied
/// (distance 0), edited (the last edit's normalised distance), or regenerated and not kept (distance 1).
/// </summary>
/// <param name="Definition">What is measured.</param>
/// <param name="Outputs">Decisions with a stored output.</param>
/// <param name="Judged">Decisions whose output was kept, edited or regenerated.</param>
/// <param name="EditDistance">Mean normalised edit distance of the judged outputs, with its 95% interval.</param>
/// <param name="KeptUnedited">Share of judged outputs kept (or copied) without an edit.</param>
/// <param name="Regenerated">Share of judged outputs thrown away for a new generation.</param>
/// <param name="Periods">The same figures over consecutive stretches of the log with equally many judged outputs, oldest first.</param>
/// <param name="Turns">The same figures per model version served, with the change from the version before it.</param>
public sealed record GenerationHealth(string Definition, long Outputs, long Judged, Estimate EditDistance, Estimate KeptUnedited, Estimate Regenerated,
    IReadOnlyList<GenerationPeriod> Periods, IReadOnlyList<GenerationTurn> Turns);

/// <summary>Generation figures over one stretch of the log.</summary>
/// <param name="Window">The judged outputs it holds.</param>
/// <param name="EditDistance">Their mean normalised edit distance.</param>
/// <param name="KeptUnedited">Their share kept without an edit.</param>
public sealed record GenerationPeriod(DataSpan Window, Estimate EditDistance, Estimate KeptUnedited);

/// <summary>Generation figures of the outputs one model version chose the variants of.</summary>
/// <param name="Turn">The turn that deployed it (null for the first model, or one deployed outside a turn).</param>
/// <param name="Version">The model version.</param>
/// <param name="Window">Its judged outputs.</param>
/// <param name="EditDistance">Their mean normalised edit distance.</param>
/// <param name="KeptUnedited">Their share kept without an edit.</param>
/// <param name="EditDistanceChange">Its mean distance minus the previous version's, with Welch's 95% interval (null for the first, or with fewer than 2 judged outputs on a side).</param>
/// <param name="KeptUneditedChange">Its kept share minus the previous version's, likewise.</param>
public sealed record GenerationTurn(long? Turn, int Version, DataSpan Window, Estimate EditDistance, Estimate KeptUnedited, Estimate? EditDistanceChange, Estimate? KeptUneditedChange);

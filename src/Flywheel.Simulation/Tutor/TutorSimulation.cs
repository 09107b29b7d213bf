using Flywheel.Core;

namespace Flywheel.Simulation.Tutor;

/// <summary>
/// The tutor scenario (<c>flywheel simulate tutor</c>, docs/tutor-simulation.md): one world of learners and items, and
/// three ways of picking each learner's next exercise (the <c>ability</c> loop on the real engine, random items, a fixed
/// easy-to-hard curriculum), each meeting the same learners with the same dice. Under every policy a <c>choose</c> loop
/// named <c>reminders</c> decides which reminder, if any, a lapsed learner gets. Each policy runs on its own engine and
/// store on a fake clock; the same seed gives the same figures.
/// </summary>
public static class TutorSimulation
{
    /// <summary>The scenario's name on the command line.</summary>
    public const string Name = "tutor";

    /// <summary>What the scenario is and what should happen in it.</summary>
    public const string Description =
        "Learners of spread ability practise exercises of wide-ranging difficulty; they learn most from exercises they answer right about 70% of the time, "
        + "and quit after runs of failures or of far-too-easy exercises. The ability loop aims each exercise at 70% success; random exercises and a fixed "
        + "easy-to-hard curriculum are the baselines. A reminders loop learns which reminder brings lapsed learners back. The loop should hold success near "
        + "its target, rank learners by ability, and make them learn more and quit less than either baseline.";

    /// <summary>The ability loop's id.</summary>
    public const string TutorLoopId = "tutor";

    /// <summary>The reminder loop's id.</summary>
    public const string ReminderLoopId = "reminders";

    /// <summary>The signal that carries an answer (1 right, 0 wrong); it closes the decision's window.</summary>
    public const string CorrectSignal = AbilityConfig.CorrectSignal;

    /// <summary>The signal the product sends when a reminded learner starts a session; it closes the reminder's window.</summary>
    public const string ReturnedSignal = "returned";

    /// <summary>The reminder's window: a return counts for 24 hours after the decision.</summary>
    public const int ReminderWindowSeconds = 24 * 3600;

    /// <summary>The reminder loop's actions: no reminder, a reminder at 08:00, a reminder at 18:30.</summary>
    public static IReadOnlyList<string> ReminderActions { get; } = ["none", "morning", "evening"];

    /// <summary>
    /// The ability loop the product declares: <c>correct</c> with weight 1 closing the window (the answer is the reward),
    /// the target and model of <paramref name="options"/>, the world's guessing chance, and otherwise the defaults.
    /// </summary>
    public static LoopConfig TutorLoop(TutorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new LoopConfig
        {
            Id = TutorLoopId,
            Kind = LoopKind.Ability,
            Ability = new AbilityConfig { TargetSuccess = options.TargetSuccess, Model = options.Model, Guess = options.World.Guess },
            Signals = new Dictionary<string, SignalTypeConfig>
            {
                [CorrectSignal] = new() { Kind = SignalKind.Explicit, Weight = 1, ClosesWindow = true },
            },
            Reward = new RewardConfig { WindowSeconds = 3600, Min = 0, Max = 1, Default = 0 },
        };
    }

    /// <summary>
    /// The reminder recipe: a <c>choose</c> loop whose reward is <c>returned</c> (weight 1, closing the window) within
    /// <see cref="ReminderWindowSeconds"/> of the decision, 0 when the learner does not come back in time.
    /// </summary>
    public static LoopConfig ReminderLoop() => new()
    {
        Id = ReminderLoopId,
        Kind = LoopKind.Choose,
        Signals = new Dictionary<string, SignalTypeConfig>
        {
            [ReturnedSignal] = new() { Kind = SignalKind.Implicit, Weight = 1, ClosesWindow = true },
        },
        Reward = new RewardConfig { WindowSeconds = ReminderWindowSeconds, Min = 0, Max = 1, Default = 0 },
    };

    /// <summary>
    /// The reminder decision for a lapsed learner who usually practises at <paramref name="time"/>: context
    /// <c>learner: {time}</c>, actions none, morning and evening.
    /// </summary>
    public static DecideRequest ReminderRequest(string decisionId, string userId, PracticeTime time) => new()
    {
        DecisionId = decisionId,
        UserId = userId,
        Context = new Features { ["learner"] = new FeatureNamespace { ["time"] = TimeName(time) } },
        Actions = [.. ReminderActions.Select(a => new ActionCandidate(a, new Features()))],
    };

    /// <summary>The reminder action's practice time, or null for none.</summary>
    public static PracticeTime? ReminderTime(string action) => action switch
    {
        "morning" => PracticeTime.Morning,
        "evening" => PracticeTime.Evening,
        _ => null,
    };

    /// <summary>The wire name of <paramref name="time"/>: <c>morning</c> or <c>evening</c>.</summary>
    public static string TimeName(PracticeTime time) => time == PracticeTime.Morning ? "morning" : "evening";

    /// <summary>The wire name of <paramref name="policy"/>: <c>loop</c>, <c>random</c> or <c>curriculum</c>.</summary>
    public static string PolicyName(TutorPolicy policy) => policy switch
    {
        TutorPolicy.Loop => "loop",
        TutorPolicy.Random => "random",
        _ => "curriculum",
    };

    /// <summary>Runs the scenario: every policy over the same learners, in parallel. Progress counts policy-days.</summary>
    public static async Task<TutorResult> RunAsync(TutorOptions options, IProgress<SimulationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var world = new TutorWorld(options.World, options.Learners, options.Seed);
        Directory.CreateDirectory(options.DataDirectory);
        foreach (var policy in options.Policies)
        {
            ProductRunner.ClearStore(Path.Combine(options.DataDirectory, PolicyName(policy)));
        }
        var total = (long)options.Policies.Count * options.Days;
        long done = 0;
        void OnDay() => progress?.Report(new SimulationProgress(Interlocked.Increment(ref done), total));

        // One policy's failure stops the others rather than letting them run out their days.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var runs = options.Policies.Select(policy => Task.Run(async () =>
        {
            try
            {
                return await new TutorRunner(world, policy, options).RunAsync(OnDay, stop.Token).ConfigureAwait(false);
            }
            catch
            {
                await stop.CancelAsync().ConfigureAwait(false);
                throw;
            }
        }, stop.Token)).ToArray();
        var arms = await Task.WhenAll(runs).ConfigureAwait(false);
        return new TutorResult { Options = options, World = world, Arms = arms };
    }
}

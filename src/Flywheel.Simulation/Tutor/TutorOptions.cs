using Flywheel.Core;

namespace Flywheel.Simulation.Tutor;

/// <summary>How a run of the tutor scenario picks each learner's next exercise.</summary>
public enum TutorPolicy
{
    /// <summary>The <c>ability</c> loop on the real engine: the item whose predicted success is nearest the target.</summary>
    Loop,

    /// <summary>A uniformly random item of the session's topic, among those not yet answered in the session.</summary>
    Random,

    /// <summary>The whole bank in order of tagged level, easiest first, one item after the other (starting over at the end).</summary>
    Curriculum,
}

/// <summary>Settings of one run of the tutor scenario (<c>flywheel simulate tutor</c>).</summary>
public sealed record TutorOptions
{
    /// <summary>The default number of learners.</summary>
    public const int DefaultLearners = 100;

    /// <summary>The most learners a run may have.</summary>
    public const int MaxLearners = 10_000;

    /// <summary>The default length of a run in days.</summary>
    public const int DefaultDays = 30;

    /// <summary>The longest run in days.</summary>
    public const int MaxDays = 365;

    /// <summary>Learners, the same people under every policy. 1–<see cref="MaxLearners"/>. <value>Default 100.</value></summary>
    public int Learners { get; init; } = DefaultLearners;

    /// <summary>Days simulated, from 1 January 2027. 1–<see cref="MaxDays"/>. <value>Default 30.</value></summary>
    public int Days { get; init; } = DefaultDays;

    /// <summary>Seed of the world, the learners' answers and habits, and the engine's exploration. <value>Default 1.</value></summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Where each policy's store goes: one folder per policy (<c>loop</c>, <c>random</c>, <c>curriculum</c>), emptied first.</summary>
    public required string DataDirectory { get; init; }

    /// <summary>The policies compared, the loop first when it runs. <value>Default loop, random, curriculum.</value></summary>
    public IReadOnlyList<TutorPolicy> Policies { get; init; } = [TutorPolicy.Loop, TutorPolicy.Random, TutorPolicy.Curriculum];

    /// <summary>The ability loop's <c>ability.targetSuccess</c>. <value>Default 0.7.</value></summary>
    public double TargetSuccess { get; init; } = 0.7;

    /// <summary>The ability loop's <c>ability.model</c>. <value>Default irt: new items start where their level and topic put them.</value></summary>
    public AbilityModel Model { get; init; } = AbilityModel.Irt;

    /// <summary>Whether lapsed learners are offered a reminder by the <c>reminders</c> loop (under every policy). <value>Default true.</value></summary>
    public bool Reminders { get; init; } = true;

    /// <summary>Days per row of the block tables. <value>Default 5.</value></summary>
    public int BlockDays { get; init; } = 5;

    /// <summary>Each learner's first answers, left out of the success rate after warm-up. <value>Default 30.</value></summary>
    public int WarmUpAnswers { get; init; } = 30;

    /// <summary>The fewest answers of a learner whose ability estimate enters the rank correlation. <value>Default 200.</value></summary>
    public int SpearmanAnswers { get; init; } = 200;

    /// <summary>Bootstrap resamples of learners behind each 95% interval. <value>Default 2,000.</value></summary>
    public int Bootstrap { get; init; } = 2_000;

    /// <summary>The world's truth.</summary>
    public TutorWorldSettings World { get; init; } = new();

    /// <summary>Checks the settings; throws <see cref="ArgumentOutOfRangeException"/> or <see cref="ArgumentException"/> naming the bad one.</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(World);
        World.Validate();
        if (Learners is < 1 or > MaxLearners)
        {
            throw new ArgumentOutOfRangeException(nameof(Learners), Learners, $"learners must be from 1 to {MaxLearners:N0}");
        }
        if (Days is < 1 or > MaxDays)
        {
            throw new ArgumentOutOfRangeException(nameof(Days), Days, $"days must be from 1 to {MaxDays}");
        }
        if (TargetSuccess is < 0.05 or > 0.95 || TargetSuccess <= World.Guess)
        {
            throw new ArgumentOutOfRangeException(nameof(TargetSuccess), TargetSuccess, "the target must be from 0.05 to 0.95 and above the world's guessing chance");
        }
        if (!Enum.IsDefined(Model))
        {
            throw new ArgumentOutOfRangeException(nameof(Model), Model, "elo or irt");
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(BlockDays, 1, nameof(BlockDays));
        ArgumentOutOfRangeException.ThrowIfNegative(WarmUpAnswers, nameof(WarmUpAnswers));
        ArgumentOutOfRangeException.ThrowIfLessThan(SpearmanAnswers, 1, nameof(SpearmanAnswers));
        ArgumentOutOfRangeException.ThrowIfLessThan(Bootstrap, 100, nameof(Bootstrap));
        ArgumentException.ThrowIfNullOrEmpty(DataDirectory);
        if (Policies is null || Policies.Count == 0 || Policies.Distinct().Count() != Policies.Count || Policies.Any(p => !Enum.IsDefined(p)))
        {
            throw new ArgumentException("the tutor scenario runs one or more distinct policies", nameof(Policies));
        }
    }
}

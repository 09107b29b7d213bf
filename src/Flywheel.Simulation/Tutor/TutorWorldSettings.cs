namespace Flywheel.Simulation.Tutor;

/// <summary>
/// The latent truth of a tutoring world (docs/tutor-simulation.md): items and their difficulty, learners and their
/// ability, how answers, learning, memory, quitting and coming back work. Nothing here is visible to the engine, which
/// sees each learner's id, each item's id and tagged <c>level</c> and <c>topic</c>, and the answers.
/// </summary>
public sealed record TutorWorldSettings
{
    /// <summary>Topics of the item bank; a session practises one topic. <value>Default 5.</value></summary>
    public int Topics { get; init; } = 5;

    /// <summary>Items of each topic. <value>Default 40 (200 items in all).</value></summary>
    public int ItemsPerTopic { get; init; } = 40;

    /// <summary>
    /// The lowest item difficulty (logits): each item's difficulty is uniform on [<see cref="DifficultyMin"/>,
    /// <see cref="DifficultyMax"/>] plus its topic's offset. <value>Default −6: about a tenth of the bank lies below −4.8,
    /// where even a learner at −2.6 (the weakest in about two hundred) answers right nine times in ten.</value>
    /// </summary>
    public double DifficultyMin { get; init; } = -6;

    /// <summary>
    /// The highest item difficulty (logits). <value>Default 6: about a tenth of the bank lies above 4.8, where even a
    /// learner at 2.6 (the strongest in about two hundred) answers right less than one time in ten.</value>
    /// </summary>
    public double DifficultyMax { get; init; } = 6;

    /// <summary>The standard deviation of each topic's difficulty offset (logits). <value>Default 0.5.</value></summary>
    public double TopicSpread { get; init; } = 0.5;

    /// <summary>
    /// Tagged levels 1–<see cref="Levels"/>: an item's level is its difficulty plus noise, cut into equal bands over
    /// the difficulty range. <value>Default 12.</value>
    /// </summary>
    public int Levels { get; init; } = 12;

    /// <summary>The standard deviation of the noise in the tagged level, in logits (one level is 1 logit by default). <value>Default 0.8.</value></summary>
    public double LevelNoise { get; init; } = 0.8;

    /// <summary>The mean of learners' starting ability (logits). <value>Default 0.</value></summary>
    public double AbilityMean { get; init; }

    /// <summary>The standard deviation of learners' starting ability (logits). <value>Default 1.</value></summary>
    public double AbilitySd { get; init; } = 1;

    /// <summary>
    /// The chance of a right answer by guessing: P = g + (1 − g)·σ(θ − d + memory). <value>Default 0 (open answers).</value>
    /// </summary>
    public double Guess { get; init; }

    /// <summary>Ability gained by one answer at the most instructive success probability (logits). <value>Default 0.003.</value></summary>
    public double GrowthRate { get; init; } = 0.003;

    /// <summary>The success probability at which an answer teaches most. <value>Default 0.7.</value></summary>
    public double GrowthPeak { get; init; } = 0.7;

    /// <summary>
    /// The width of the growth bump: an answer at success probability P teaches GrowthRate·exp(−((P − peak)/width)²).
    /// <value>Default 0.2: half as much at P = 0.53 or 0.87, almost nothing below 0.3 or (in effect) for items far too easy.</value>
    /// </summary>
    public double GrowthWidth { get; init; } = 0.2;

    /// <summary>The extra logit a just-practised item is answered with (memory of it). <value>Default 1.</value></summary>
    public double MemoryBonus { get; init; } = 1;

    /// <summary>
    /// The half-life of that memory after the first practice, in days; each further practice lengthens it by the same
    /// amount (half-life = this × practices). <value>Default 1.</value>
    /// </summary>
    public double MemoryHalfLifeDays { get; init; } = 1;

    /// <summary>Exercises a session holds at most. <value>Default 15.</value></summary>
    public int SessionLength { get; init; } = 15;

    /// <summary>Wrong answers in a row that end the session in frustration. <value>Default 5.</value></summary>
    public int FailRun { get; init; } = 5;

    /// <summary>The chance that such a run makes the learner quit for good. <value>Default 0.2.</value></summary>
    public double QuitAfterFailRun { get; init; } = 0.2;

    /// <summary>The success probability above which a right answer counts as too easy. <value>Default 0.9.</value></summary>
    public double TooEasy { get; init; } = 0.9;

    /// <summary>Too-easy right answers in a row that end the session in boredom. <value>Default 6.</value></summary>
    public int BoredRun { get; init; } = 6;

    /// <summary>The chance that such a run makes the learner quit for good. <value>Default 0.1.</value></summary>
    public double QuitAfterBoredRun { get; init; } = 0.1;

    /// <summary>The lowest daily habit: a learner's chance of practising on a day after practising the day before. <value>Default 0.55.</value></summary>
    public double HabitMin { get; init; } = 0.55;

    /// <summary>The highest daily habit. <value>Default 0.95.</value></summary>
    public double HabitMax { get; init; } = 0.95;

    /// <summary>
    /// How the habit fades while a learner stays away: after L missed days the chance of practising is habit × decay^L.
    /// <value>Default 0.7.</value>
    /// </summary>
    public double LapseDecay { get; init; } = 0.7;

    /// <summary>The share of learners who practise in the morning; the others practise in the evening. <value>Default 0.5.</value></summary>
    public double MorningShare { get; init; } = 0.5;

    /// <summary>
    /// The chance that a reminder sent at the learner's own practice time brings back a lapsed learner who would not
    /// have come by habit. <value>Default 0.5.</value>
    /// </summary>
    public double ReturnMatched { get; init; } = 0.5;

    /// <summary>The same for a reminder at the other time of day. <value>Default 0.05.</value></summary>
    public double ReturnMismatched { get; init; } = 0.05;

    /// <summary>Checks the settings; throws <see cref="ArgumentOutOfRangeException"/> naming the bad one.</summary>
    public void Validate()
    {
        static void Check(bool ok, string name, object? value, string message)
        {
            if (!ok)
            {
                throw new ArgumentOutOfRangeException(name, value, message);
            }
        }
        static bool Probability(double p) => p is >= 0 and <= 1;
        Check(Topics is >= 1 and <= 100, nameof(Topics), Topics, "from 1 to 100 topics");
        Check(ItemsPerTopic is >= 2 and <= 1_000, nameof(ItemsPerTopic), ItemsPerTopic, "from 2 to 1,000 items a topic");
        Check(double.IsFinite(DifficultyMin) && double.IsFinite(DifficultyMax) && DifficultyMin < DifficultyMax, nameof(DifficultyMax), DifficultyMax, "a finite range, DifficultyMin < DifficultyMax");
        Check(double.IsFinite(TopicSpread) && TopicSpread >= 0, nameof(TopicSpread), TopicSpread, "a finite spread of at least 0");
        Check(Levels is >= 1 and <= 100, nameof(Levels), Levels, "from 1 to 100 levels");
        Check(double.IsFinite(LevelNoise) && LevelNoise >= 0, nameof(LevelNoise), LevelNoise, "a finite noise of at least 0");
        Check(double.IsFinite(AbilityMean), nameof(AbilityMean), AbilityMean, "a finite mean");
        Check(double.IsFinite(AbilitySd) && AbilitySd >= 0, nameof(AbilitySd), AbilitySd, "a finite spread of at least 0");
        Check(Guess is >= 0 and <= 0.5, nameof(Guess), Guess, "from 0 to 0.5 (the ability loop's own limit)");
        Check(double.IsFinite(GrowthRate) && GrowthRate >= 0, nameof(GrowthRate), GrowthRate, "a finite rate of at least 0");
        Check(Probability(GrowthPeak), nameof(GrowthPeak), GrowthPeak, "a probability");
        Check(double.IsFinite(GrowthWidth) && GrowthWidth > 0, nameof(GrowthWidth), GrowthWidth, "a finite width above 0");
        Check(double.IsFinite(MemoryBonus) && MemoryBonus >= 0, nameof(MemoryBonus), MemoryBonus, "a finite bonus of at least 0");
        Check(double.IsFinite(MemoryHalfLifeDays) && MemoryHalfLifeDays > 0, nameof(MemoryHalfLifeDays), MemoryHalfLifeDays, "a finite half-life above 0");
        Check(SessionLength is >= 1 and <= 200, nameof(SessionLength), SessionLength, "from 1 to 200 exercises");
        Check(SessionLength <= ItemsPerTopic, nameof(SessionLength), SessionLength, "at most the items of a topic: a session never repeats an item");
        Check(FailRun >= 1, nameof(FailRun), FailRun, "at least 1");
        Check(BoredRun >= 1, nameof(BoredRun), BoredRun, "at least 1");
        Check(Probability(QuitAfterFailRun), nameof(QuitAfterFailRun), QuitAfterFailRun, "a probability");
        Check(Probability(QuitAfterBoredRun), nameof(QuitAfterBoredRun), QuitAfterBoredRun, "a probability");
        Check(Probability(TooEasy), nameof(TooEasy), TooEasy, "a probability");
        Check(Probability(HabitMin) && Probability(HabitMax) && HabitMin <= HabitMax, nameof(HabitMax), HabitMax, "probabilities, HabitMin ≤ HabitMax");
        Check(Probability(LapseDecay), nameof(LapseDecay), LapseDecay, "a probability");
        Check(Probability(MorningShare), nameof(MorningShare), MorningShare, "a probability");
        Check(Probability(ReturnMatched), nameof(ReturnMatched), ReturnMatched, "a probability");
        Check(Probability(ReturnMismatched), nameof(ReturnMismatched), ReturnMismatched, "a probability");
    }
}

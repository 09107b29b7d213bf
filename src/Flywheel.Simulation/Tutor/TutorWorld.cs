using System.Globalization;
using Flywheel.Core;

namespace Flywheel.Simulation.Tutor;

/// <summary>One exercise of the item bank.</summary>
/// <param name="Index">The item's index, from 0.</param>
/// <param name="Topic">Its topic, from 0.</param>
/// <param name="Difficulty">Its true difficulty (logits), hidden from the engine.</param>
/// <param name="Level">Its tagged level, 1 to <see cref="TutorWorldSettings.Levels"/>: the difficulty seen through noise.</param>
public sealed record TutorItem(int Index, int Topic, double Difficulty, int Level);

/// <summary>When a learner practises.</summary>
public enum PracticeTime
{
    /// <summary>Sessions at 08:00.</summary>
    Morning,

    /// <summary>Sessions at 19:00.</summary>
    Evening,
}

/// <summary>One learner as the world draws them.</summary>
/// <param name="Index">The learner's index, from 0.</param>
/// <param name="Ability">Their starting ability (logits), hidden from the engine.</param>
/// <param name="Habit">Their chance of practising on a day after practising the day before.</param>
/// <param name="Time">When they practise.</param>
public sealed record TutorLearnerProfile(int Index, double Ability, double Habit, PracticeTime Time);

/// <summary>
/// A tutoring world with known truth (docs/tutor-simulation.md): an item bank whose difficulties spread past every
/// learner's reach, learners whose ability grows with practice near their level, answers drawn from the Rasch model with
/// a memory bonus for practised items, and the rules by which learners quit, lapse and come back. Built once from the
/// seed and read-only afterwards, so that every policy meets the same items and learners.
/// </summary>
public sealed class TutorWorld
{
    /// <summary>The hour (UTC) of morning sessions.</summary>
    public const int MorningHour = 8;

    /// <summary>The hour (UTC) of evening sessions.</summary>
    public const int EveningHour = 19;

    private readonly TutorItem[] _items;
    private readonly TutorLearnerProfile[] _learners;
    private readonly ActionCandidate[] _actions;
    private readonly int[][] _byTopic;
    private readonly int[] _curriculum;

    /// <summary>Builds the world of <paramref name="seed"/> with <paramref name="learners"/> learners.</summary>
    public TutorWorld(TutorWorldSettings settings, int learners, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(learners, 1);
        Settings = settings;
        var random = SimRandom.Fork(seed, "tutor-items");
        var offsets = new double[settings.Topics];
        for (var t = 0; t < offsets.Length; t++)
        {
            offsets[t] = settings.TopicSpread * random.NextGaussian();
        }
        var count = settings.Topics * settings.ItemsPerTopic;
        _items = new TutorItem[count];
        _actions = new ActionCandidate[count];
        _byTopic = new int[settings.Topics][];
        var range = settings.DifficultyMax - settings.DifficultyMin;
        for (var t = 0; t < settings.Topics; t++)
        {
            _byTopic[t] = new int[settings.ItemsPerTopic];
        }
        for (var i = 0; i < count; i++)
        {
            // Topics interleave (item i is of topic i mod T), so ids say nothing about difficulty.
            var topic = i % settings.Topics;
            var difficulty = offsets[topic] + settings.DifficultyMin + range * random.NextDouble();
            var seen = difficulty + settings.LevelNoise * random.NextGaussian();
            var level = Math.Clamp((int)Math.Floor((seen - settings.DifficultyMin) / range * settings.Levels) + 1, 1, settings.Levels);
            _items[i] = new TutorItem(i, topic, difficulty, level);
            _byTopic[topic][i / settings.Topics] = i;
            _actions[i] = new ActionCandidate(ItemId(i), new Features
            {
                ["item"] = new FeatureNamespace { ["level"] = level, ["topic"] = "t" + topic.ToString(CultureInfo.InvariantCulture) },
            });
        }
        // The curriculum: the whole bank by tagged level, the easiest first (ties by id).
        _curriculum = [.. _items.OrderBy(i => i.Level).ThenBy(i => i.Index).Select(i => i.Index)];

        var people = SimRandom.Fork(seed, "tutor-learners");
        _learners = new TutorLearnerProfile[learners];
        for (var l = 0; l < learners; l++)
        {
            var ability = settings.AbilityMean + settings.AbilitySd * people.NextGaussian();
            var habit = settings.HabitMin + (settings.HabitMax - settings.HabitMin) * people.NextDouble();
            var time = people.NextDouble() < settings.MorningShare ? PracticeTime.Morning : PracticeTime.Evening;
            _learners[l] = new TutorLearnerProfile(l, ability, habit, time);
        }
    }

    /// <summary>The world's truth.</summary>
    public TutorWorldSettings Settings { get; }

    /// <summary>The item bank.</summary>
    public IReadOnlyList<TutorItem> Items => _items;

    /// <summary>The learners as they start.</summary>
    public IReadOnlyList<TutorLearnerProfile> Learners => _learners;

    /// <summary>The whole bank by tagged level, easiest first: the fixed curriculum.</summary>
    public IReadOnlyList<int> Curriculum => _curriculum;

    /// <summary>The items of topic <paramref name="topic"/>.</summary>
    public IReadOnlyList<int> Topic(int topic) => _byTopic[topic];

    /// <summary>The id the engine knows item <paramref name="item"/> by.</summary>
    public static string ItemId(int item) => "i" + item.ToString(CultureInfo.InvariantCulture);

    /// <summary>The item of id <paramref name="id"/>.</summary>
    public static int ItemOf(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        return int.Parse(id.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture);
    }

    /// <summary>The user id the engine knows learner <paramref name="learner"/> by.</summary>
    public static string UserId(int learner) => "u" + learner.ToString(CultureInfo.InvariantCulture);

    /// <summary>The action the product offers for item <paramref name="item"/>: its id with <c>item: {level, topic}</c>.</summary>
    public ActionCandidate Action(int item) => _actions[item];

    /// <summary>
    /// The probability that a learner of ability <paramref name="ability"/> answers <paramref name="item"/> right with
    /// <paramref name="memory"/> logits of memory of it: g + (1 − g)·σ(θ − d + memory).
    /// </summary>
    public double Success(double ability, int item, double memory = 0)
    {
        var g = Settings.Guess;
        return g + (1 - g) / (1 + Math.Exp(-(ability - _items[item].Difficulty + memory)));
    }

    /// <summary>
    /// The memory of an item practised <paramref name="practices"/> times, the last <paramref name="days"/> days ago:
    /// bonus × 2^(−days / (half-life × practices)); 0 for an item never practised.
    /// </summary>
    public double Memory(int practices, double days)
        => practices <= 0 ? 0 : Settings.MemoryBonus * Math.Pow(2, -Math.Max(0, days) / (Settings.MemoryHalfLifeDays * practices));

    /// <summary>The ability an answer given at success probability <paramref name="success"/> adds: GrowthRate·exp(−((P − peak)/width)²).</summary>
    public double Growth(double success)
    {
        var z = (success - Settings.GrowthPeak) / Settings.GrowthWidth;
        return Settings.GrowthRate * Math.Exp(-z * z);
    }

    /// <summary>
    /// The chance that a learner with habit <paramref name="habit"/> practises today after <paramref name="missed"/> days
    /// away: habit × decay^missed.
    /// </summary>
    public double PracticeChance(double habit, int missed) => habit * Math.Pow(Settings.LapseDecay, Math.Max(0, missed));

    /// <summary>The chance that a reminder at <paramref name="reminder"/> brings back a learner who practises at <paramref name="time"/> (none: 0).</summary>
    public double ReturnChance(PracticeTime time, PracticeTime? reminder)
        => reminder is null ? 0 : reminder == time ? Settings.ReturnMatched : Settings.ReturnMismatched;

    /// <summary>The hour (UTC) at which sessions of <paramref name="time"/> start.</summary>
    public static int HourOf(PracticeTime time) => time == PracticeTime.Morning ? MorningHour : EveningHour;
}

using Flywheel.Core;

namespace Flywheel.Simulation;

/// <summary>One item of the catalogue: what the product knows (id, topic, length, age) and its latent quality.</summary>
internal sealed class Item(int index, int topic, bool isLong, double quality, int arrivalDay)
{
    public int Index { get; } = index;
    public string Id { get; } = "i" + index.ToString(System.Globalization.CultureInfo.InvariantCulture);
    public int Topic { get; } = topic;
    public bool IsLong { get; } = isLong;
    public double Quality { get; } = quality;
    public int ArrivalDay { get; } = arrivalDay;
}

/// <summary>
/// The part of a feed world every product shares: the catalogue's timeline (items arrive, age and retire) and the
/// tastes of each (region, age band) segment, reshuffled on <see cref="WorldSettings.DriftDay"/>. Built once from the
/// seed and read-only afterwards, so products run in parallel against the same world.
/// </summary>
/// <remarks>
/// The engine sees, per decision, the context <c>user: {region, age}</c> and <c>time: {daypart}</c>, and per
/// candidate <c>item: {topic, length, fresh}</c> (the engine adds the item's id itself). Appeal = segment taste +
/// personal taste for the item's topic + item quality + patience × (long ? 1 : 0) − novelty decay × age share; a view
/// is enjoyed with probability sigmoid(appeal − bias).
/// </remarks>
internal sealed class FeedWorld
{
    public static readonly string[] Dayparts = ["morning", "afternoon", "evening", "night"];
    public static readonly int[] DaypartHours = [8, 13, 19, 23];

    private readonly Item[] _items;
    private readonly double[][] _tastes;
    private readonly double[][]? _driftedTastes;
    private readonly Dictionary<int, Item[]> _liveCache = [];
    private readonly Lock _cacheLock = new();

    public FeedWorld(WorldSettings settings, ulong seed, int days)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        Settings = settings;
        var random = SimRandom.Fork(seed, "catalogue");
        var items = new List<Item>();
        for (var i = 0; i < settings.InitialItems; i++)
        {
            // The launch catalogue holds items of every age.
            items.Add(NewItem(items.Count, random, 1 - random.Next(settings.ItemLifetimeDays)));
        }
        for (var day = 2; day <= days + 1; day++)
        {
            var arrivals = random.NextPoisson(settings.ItemsPerDay);
            for (var a = 0; a < arrivals; a++)
            {
                items.Add(NewItem(items.Count, random, day));
            }
        }
        _items = [.. items];

        var tastes = SimRandom.Fork(seed, "tastes");
        var segments = settings.Regions * settings.AgeBands;
        _tastes = new double[segments][];
        for (var s = 0; s < segments; s++)
        {
            _tastes[s] = new double[settings.Topics];
            for (var t = 0; t < settings.Topics; t++)
            {
                _tastes[s][t] = settings.SegmentTaste * tastes.NextGaussian();
            }
        }
        if (settings.DriftDay is not null)
        {
            var drift = SimRandom.Fork(seed, "drift");
            _driftedTastes = new double[segments][];
            for (var s = 0; s < segments; s++)
            {
                var order = Enumerable.Range(0, settings.Topics).ToArray();
                for (var i = order.Length - 1; i > 0; i--)
                {
                    var j = drift.Next(i + 1);
                    (order[i], order[j]) = (order[j], order[i]);
                }
                _driftedTastes[s] = [.. order.Select(t => _tastes[s][t])];
            }
        }
    }

    public WorldSettings Settings { get; }

    private Item NewItem(int index, SimRandom random, int arrivalDay)
        => new(index, random.Next(Settings.Topics), random.Chance(0.4), Settings.QualitySpread * random.NextGaussian(), arrivalDay);

    /// <summary>The items in the catalogue on <paramref name="day"/>.</summary>
    public Item[] Live(int day)
    {
        lock (_cacheLock)
        {
            if (!_liveCache.TryGetValue(day, out var live))
            {
                live = [.. _items.Where(i => i.ArrivalDay <= day && day < i.ArrivalDay + Settings.ItemLifetimeDays)];
                _liveCache[day] = live;
                _liveCache.Remove(day - 2);
            }
            return live;
        }
    }

    /// <summary>How much <paramref name="user"/> would like <paramref name="item"/> on <paramref name="day"/>, before the coin flip.</summary>
    public double Appeal(WorldUser user, Item item, int day)
    {
        var s = Settings;
        var tastes = _driftedTastes is not null && day >= s.DriftDay ? _driftedTastes : _tastes;
        var age = (double)(day - item.ArrivalDay) / s.ItemLifetimeDays;
        return tastes[user.Segment][item.Topic] + user.Personal[item.Topic] + item.Quality
            + (item.IsLong ? s.PatienceEffect * user.Patience : 0) - s.NoveltyDecay * age;
    }

    /// <summary>The chance <paramref name="user"/> enjoys <paramref name="item"/>.</summary>
    public double EnjoyProbability(WorldUser user, Item item, int day) => 1 / (1 + Math.Exp(Settings.EngagementBias - Appeal(user, item, day)));

    /// <summary>
    /// The expected reward, under the feed loop's rule, of showing an item enjoyed with probability <paramref name="p"/>:
    /// an enjoyed item earns 1 (extras are clamped away); a disliked one −1 with a thumbs down, else −0.5 when skipped.
    /// </summary>
    public double ExpectedReward(double p)
    {
        var s = Settings;
        return p - (1 - p) * (s.ThumbsDownRate + (1 - s.ThumbsDownRate) * s.SkipRate * 0.5);
    }

    public static Features Context(WorldUser user, int daypart) => new()
    {
        ["user"] = { ["region"] = user.RegionName, ["age"] = user.AgeName },
        ["time"] = { ["daypart"] = Dayparts[daypart] },
    };

    public ActionCandidate Action(Item item, int day) => new(item.Id, new Features
    {
        ["item"] =
        {
            ["topic"] = TopicNames[item.Topic % TopicNames.Length],
            ["length"] = item.IsLong ? "long" : "short",
            ["fresh"] = Math.Round(1 - (double)(day - item.ArrivalDay) / Settings.ItemLifetimeDays, 3),
        },
    });

    private static readonly string[] TopicNames = [.. Enumerable.Range(0, 64).Select(t => "t" + t.ToString(System.Globalization.CultureInfo.InvariantCulture))];
}

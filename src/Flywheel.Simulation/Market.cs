using System.Globalization;

namespace Flywheel.Simulation;

/// <summary>A person using one product: observable region and age band, latent tastes, patience and habits.</summary>
internal sealed class WorldUser
{
    public required int Index { get; init; }
    public required string Id { get; init; }
    public required int Region { get; init; }
    public required int AgeBand { get; init; }
    public required int Segment { get; init; }
    public required string RegionName { get; init; }
    public required string AgeName { get; init; }
    public required double[] Personal { get; init; }

    /// <summary>−1 (wants short items) to 1 (enjoys long ones).</summary>
    public required double Patience { get; init; }

    /// <summary>Chance of opening the product on a day, before loyalty.</summary>
    public required double Habit { get; init; }

    /// <summary>The part of the day the user usually visits.</summary>
    public required int Daypart { get; init; }

    public required int JoinedDay { get; init; }

    /// <summary>0 to 1: how much the product has pleased this user lately.</summary>
    public double Loyalty { get; set; } = 0.5;

    public int LastVisitDay { get; set; }

    public int LastActiveMonth { get; set; }

    public bool Gone { get; set; }
}

/// <summary>
/// The people of one product's market: who is there, who visits when, who leaves, and who arrives through word of
/// mouth. The k-th person to arrive is the same person in every product of a world (each market forks the same
/// seed-derived stream for their traits); visits, enjoyment and churn draw from the product's own stream.
/// </summary>
internal sealed class Market
{
    private readonly WorldSettings _settings;
    private readonly SimRandom _people;
    private readonly SimRandom _behaviour;
    private readonly int _initialUsers;

    public Market(WorldSettings settings, ulong seed, string product, int initialUsers, int launchDay)
    {
        _settings = settings;
        _initialUsers = initialUsers;
        _people = SimRandom.Fork(seed, "people");
        _behaviour = SimRandom.Fork(seed, "behaviour/" + product);
        for (var i = 0; i < initialUsers; i++)
        {
            Users.Add(NewUser(launchDay));
        }
    }

    /// <summary>Everyone who ever joined, in order of arrival.</summary>
    public List<WorldUser> Users { get; } = [];

    public int Present => Users.Count(u => !u.Gone);

    /// <summary>The product's own coin flips: visits, enjoyment, signals.</summary>
    public SimRandom Random => _behaviour;

    private WorldUser NewUser(int day)
    {
        var s = _settings;
        var r = _people;
        var index = Users.Count;
        var region = r.Next(s.Regions);
        var age = r.Next(s.AgeBands);
        var personal = new double[s.Topics];
        for (var t = 0; t < personal.Length; t++)
        {
            personal[t] = s.PersonalTaste * r.NextGaussian();
        }
        return new WorldUser
        {
            Index = index,
            Id = "u" + index.ToString(CultureInfo.InvariantCulture),
            Region = region,
            AgeBand = age,
            Segment = region * s.AgeBands + age,
            RegionName = "r" + region.ToString(CultureInfo.InvariantCulture),
            AgeName = "a" + age.ToString(CultureInfo.InvariantCulture),
            Personal = personal,
            Patience = 2 * r.NextDouble() - 1,
            Habit = 0.35 + 0.55 * r.NextDouble(),
            Daypart = r.Next(FeedWorld.Dayparts.Length),
            JoinedDay = day,
        };
    }

    /// <summary>
    /// New users for <paramref name="day"/>: those who find the product by themselves plus those that yesterday's
    /// satisfied visits brought, both scaled by the share of the market not yet reached; <paramref name="share"/> is the
    /// part of the newcomers this product wins against its rivals.
    /// </summary>
    public List<WorldUser> Arrive(int day, int satisfiedVisits, double share)
    {
        var s = _settings;
        var untapped = Math.Max(0, 1 - Users.Count / (s.MarketSize * _initialUsers));
        var mean = share * untapped * (s.Inflow * _initialUsers + s.WordOfMouth * satisfiedVisits);
        var count = _behaviour.NextPoisson(mean);
        var arrived = new List<WorldUser>(count);
        for (var i = 0; i < count; i++)
        {
            var user = NewUser(day);
            Users.Add(user);
            arrived.Add(user);
        }
        return arrived;
    }

    /// <summary>Whether a present user opens the product today, and in which part of the day.</summary>
    public bool Visits(WorldUser user, int day, out int daypart)
    {
        daypart = _behaviour.Chance(0.75) ? user.Daypart : _behaviour.Next(FeedWorld.Dayparts.Length);
        if (user.JoinedDay == day)
        {
            return true;
        }
        var p = Math.Clamp(user.Habit * (0.3 + 1.2 * user.Loyalty), 0.02, 0.98);
        return _behaviour.Chance(p);
    }

    /// <summary>After a visit: loyalty moves towards the visit's satisfaction, and an unhappy user may leave for good.</summary>
    public void AfterVisit(WorldUser user, double satisfaction)
    {
        var s = _settings;
        user.Loyalty += s.LoyaltyStep * (satisfaction - user.Loyalty);
        var miss = 1 - user.Loyalty;
        if (_behaviour.Chance(s.Churn * miss * miss * miss))
        {
            user.Gone = true;
        }
    }
}

namespace Flywheel.Simulation.Search;

/// <summary>Settings of one run of the search scenario (<c>flywheel simulate search</c>).</summary>
public sealed record SearchOptions
{
    /// <summary>The default length of a run.</summary>
    public const int DefaultQueries = 20_000;

    /// <summary>The most queries a run may have.</summary>
    public const int MaxQueries = 1_000_000;

    /// <summary>Queries in the stream, each asked of both loops. 1–<see cref="MaxQueries"/>. <value>Default 20,000.</value></summary>
    public int Queries { get; init; } = DefaultQueries;

    /// <summary>Seed of the world, the query stream and the users' clicks. <value>Default 1.</value></summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Where each loop's store goes: one folder per loop (<c>a</c>, <c>b</c>), emptied first.</summary>
    public required string DataDirectory { get; init; }

    /// <summary>Queries per row of the block table. <value>Default 1,000.</value></summary>
    public int BlockSize { get; init; } = 1_000;

    /// <summary>
    /// The last queries the closing comparison covers (all of them in a shorter run). <value>Default 2,000.</value>
    /// </summary>
    public int FinalQueries { get; init; } = 2_000;

    /// <summary>Slots each ranking fills (<c>rank.slots</c> of both loops). <value>Default 5.</value></summary>
    public int Slots { get; init; } = 5;

    /// <summary>
    /// The share of decisions served in shuffled order (<c>rank.interventionRate</c> of both loops). <value>Default 0.25:
    /// about 5,000 shuffled decisions in 20,000 queries, enough to measure slots 2–5 to within ±0.05 (about two standard
    /// errors by the Katz interval, three by the spread over seeds), at a cost of about 4% of the oracle's expected
    /// relevant clicks (a shuffled top 5 earns about 0.8 of a sorted one); docs/simulation.md has the arithmetic.</value>
    /// </summary>
    public double InterventionRate { get; init; } = 0.25;

    /// <summary>
    /// The loops, each on its own engine and store; the closing comparison sets the first against the second.
    /// <value>Default <see cref="SearchSimulation.Loops"/>: A estimates position bias, B ignores it.</value>
    /// </summary>
    public IReadOnlyList<SearchLoopSpec> Loops { get; init; } = SearchSimulation.Loops;

    /// <summary>The world's truth.</summary>
    public SearchWorldSettings World { get; init; } = new();

    /// <summary>Checks the settings; throws <see cref="ArgumentOutOfRangeException"/> naming the bad one.</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(World);
        World.Validate();
        if (Queries is < 1 or > MaxQueries)
        {
            throw new ArgumentOutOfRangeException(nameof(Queries), Queries, $"queries must be from 1 to {MaxQueries:N0}");
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(BlockSize, 1, nameof(BlockSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(FinalQueries, 1, nameof(FinalQueries));
        if (Slots < 1 || Slots > World.Candidates || Slots > Core.RankConfig.MaxSlots)
        {
            throw new ArgumentOutOfRangeException(nameof(Slots), Slots, "slots must be from 1 to the candidates a query offers");
        }
        if (InterventionRate is <= 0 or > Core.RankConfig.MaxInterventionRate)
        {
            throw new ArgumentOutOfRangeException(nameof(InterventionRate), InterventionRate,
                $"the intervention rate must be above 0 (loop A measures examination from it) and at most {Core.RankConfig.MaxInterventionRate}");
        }
        ArgumentException.ThrowIfNullOrEmpty(DataDirectory);
        if (Loops is null || Loops.Count < 2)
        {
            throw new ArgumentException("the search scenario compares at least two loops", nameof(Loops));
        }
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var loop in Loops)
        {
            if (loop?.Key is not { Length: > 0 and <= 16 } key || !key.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9')) || !keys.Add(key))
            {
                throw new ArgumentException($"loop key '{loop?.Key}' must be 1 to 16 lower-case letters or digits, unique in the run", nameof(Loops));
            }
            ArgumentNullException.ThrowIfNull(loop.PositionBias);
        }
    }
}

using Flywheel.Core;

namespace Flywheel.Simulation.Search;

/// <summary>
/// The search scenario (<c>flywheel simulate search</c>, docs/simulation.md "The search world"): one world, one query
/// stream, and two <c>rank</c> loops that differ only in <c>positionBias</c>. A estimates each slot's examination from its
/// shuffled decisions and divides each slot's reward by it; B ignores position. Each runs on its own engine and store on
/// a fake clock; the same seed gives the same figures.
/// </summary>
public static class SearchSimulation
{
    /// <summary>The scenario's name on the command line.</summary>
    public const string Name = "search";

    /// <summary>What the scenario is and what should happen in it.</summary>
    public const string Description =
        "Users search with 40 intents of skewed popularity; each query offers 20 documents graded 0-4, and two rank loops fill 5 slots. "
        + "Users look at lower slots less often (position-based model). A estimates each slot's examination and corrects for it; "
        + "B ignores position. A should approach the oracle ranking and measure each slot's examination; B should fall short.";

    /// <summary>The two loops: A corrects for position with the examination it measures, B does not.</summary>
    public static IReadOnlyList<SearchLoopSpec> Loops { get; } =
    [
        new("a", "A", "positionBias \"estimate\": each slot's reward divided by its measured examination", PositionBias.Estimate),
        new("b", "B", "positionBias \"none\": every slot counted as examined", PositionBias.None),
    ];

    /// <summary>Runs the scenario: both loops through the same query stream, in parallel. Progress counts queries over both loops.</summary>
    public static async Task<SearchResult> RunAsync(SearchOptions options, IProgress<SimulationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var world = new SearchWorld(options.World, options.Seed);
        var queries = world.Queries(options.Seed, options.Queries);
        var oracle = queries.Select(q => world.OracleRelevantClicks(q, options.Slots)).ToArray();
        var uniform = queries.Select(q => world.UniformRelevantClicks(q, options.Slots)).ToArray();
        Directory.CreateDirectory(options.DataDirectory);
        foreach (var spec in options.Loops)
        {
            ProductRunner.ClearStore(Path.Combine(options.DataDirectory, spec.Key));
        }
        var total = (long)options.Loops.Count * options.Queries;
        long done = 0;
        void OnQueries(int count) => progress?.Report(new SimulationProgress(Interlocked.Add(ref done, count), total));

        // One loop's failure stops the other rather than letting it run out the stream.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var runs = options.Loops.Select(spec => Task.Run(async () =>
        {
            try
            {
                return await new SearchRunner(world, queries, spec, options).RunAsync(OnQueries, stop.Token).ConfigureAwait(false);
            }
            catch
            {
                await stop.CancelAsync().ConfigureAwait(false);
                throw;
            }
        }, stop.Token)).ToArray();
        var loops = await Task.WhenAll(runs).ConfigureAwait(false);
        return new SearchResult { Options = options, World = world, Oracle = oracle, Uniform = uniform, Loops = loops };
    }
}

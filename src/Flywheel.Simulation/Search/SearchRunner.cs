using System.Globalization;
using Flywheel.Core;
using Flywheel.Engine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Flywheel.Simulation.Search;

/// <summary>One loop of the search scenario: how it corrects for position.</summary>
/// <param name="Key">Short key (<c>a</c>, <c>b</c>): the JSON member and the store's folder.</param>
/// <param name="Name">Display name.</param>
/// <param name="Description">One line on how the loop is built.</param>
/// <param name="PositionBias">The loop's <c>rank.positionBias</c>.</param>
/// <param name="ExplorationSeed">
/// Mixed into the engine's <see cref="FlywheelOptions.ExplorationSeed"/>: loops with the same value explore with the same draws on
/// the same queries (which shuffles, which exploration); a twin with another value explores differently.
/// </param>
/// <param name="InterventionRate">The loop's own <c>rank.interventionRate</c>; null takes <see cref="SearchOptions.InterventionRate"/>.</param>
public sealed record SearchLoopSpec(string Key, string Name, string Description, PositionBias PositionBias, ulong ExplorationSeed = 0, double? InterventionRate = null);

/// <summary>
/// Runs one loop through the query stream on the real engine (its own SQLite store on disk, a fake clock): each query is
/// decided, the world's user reacts slot by slot, and the clicks and bounces go back as signals naming the clicked
/// document.
/// </summary>
/// <remarks>
/// Reproducible as <see cref="ProductRunner"/> is: queries come in waves of <see cref="Wave"/> at one simulated moment.
/// Before each wave the clock moves on and the engine is flushed, so every reward whose window has closed is learned and
/// published; within a wave the clock stands still, so no window closes and no model is published, and every decision
/// of the wave sees the same model. Each wave's calls are issued from one thread in a fixed order.
/// </remarks>
internal sealed class SearchRunner(SearchWorld world, SearchQuery[] queries, SearchLoopSpec spec, SearchOptions options)
{
    public const string LoopId = "search";

    /// <summary>Queries decided at one simulated moment.</summary>
    public const int Wave = 25;

    /// <summary>Simulated seconds between queries: a wave spans 50 s.</summary>
    public const int SecondsPerQuery = 2;

    /// <summary>The reward window: a decision's clicks count for a minute, so it is learned two or three waves later.</summary>
    public const int WindowSeconds = 60;

    private readonly FakeTimeProvider _time = new(SimulationCalendar.Start);
    private readonly EngineErrors _errors = new();

    public string DataDirectory { get; } = Path.Combine(options.DataDirectory, spec.Key);

    /// <summary>The loop: a ranking of <see cref="SearchOptions.Slots"/> slots, a click worth 1 and a bounce −1 (a bounced click earns 0).</summary>
    public static LoopConfig LoopFor(SearchLoopSpec spec, SearchOptions options)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(options);
        return new LoopConfig
        {
            Id = LoopId,
            Kind = LoopKind.Rank,
            Rank = new RankConfig { Slots = options.Slots, PositionBias = spec.PositionBias, InterventionRate = spec.InterventionRate ?? options.InterventionRate },
            Signals = new Dictionary<string, SignalTypeConfig>
            {
                ["click"] = new() { Kind = SignalKind.Implicit, Weight = 1.0 },
                ["bounce"] = new() { Kind = SignalKind.Implicit, Weight = -1.0 },
            },
            Reward = new RewardConfig { WindowSeconds = WindowSeconds, Aggregate = RewardAggregate.Sum, Min = -1, Max = 1, Default = 0 },
        };
    }

    public async Task<SearchLoopResult> RunAsync(Action<int> onQueries, CancellationToken cancellationToken)
    {
        var loop = LoopFor(spec, options);
        var served = new double[queries.Length];
        var rankings = new int[queries.Length][];
        var users = SimRandom.Fork(options.Seed, "search-users");
        long clicks = 0, relevantClicks = 0, bounces = 0, explored = 0;
        Directory.CreateDirectory(DataDirectory);
        var engineOptions = new FlywheelOptions
        {
            ScheduleTurns = false,
            JoinInterval = TimeSpan.FromSeconds(10),
            PublishInterval = TimeSpan.FromSeconds(SecondsPerQuery * Wave),
            SnapshotInterval = TimeSpan.FromHours(1),
            SnapshotEveryExamples = 1_000_000,
            // Exploration draws hash the loop, the decision id and this seed: without the run's seed in it, every run
            // would shuffle the same decisions the same way, and seeds would share that part of their noise.
            ExplorationSeed = ExplorationSeedFor(options.Seed, spec),
        }.UseSqlite(DataDirectory);
        var engine = await FlywheelEngine.OpenAsync(engineOptions, _time, _errors, cancellationToken).ConfigureAwait(false);
        PositionBiasReport report;
        int version;
        try
        {
            await engine.PutLoopAsync(loop, cancellationToken).ConfigureAwait(false);
            var requests = new DecideRequest[Wave];
            var pending = new ValueTask<Decision>[Wave];
            var signals = new List<SignalInput>();
            var ranking = new int[options.Slots];
            for (var first = 0; first < queries.Length; first += Wave)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var count = Math.Min(Wave, queries.Length - first);
                SetTime(SimulationCalendar.Start.AddSeconds((double)first * SecondsPerQuery));
                await engine.FlushAsync(cancellationToken).ConfigureAwait(false);
                for (var i = 0; i < count; i++)
                {
                    var query = queries[first + i];
                    requests[i] = world.Request(query, "q" + query.Index.ToString(CultureInfo.InvariantCulture));
                }
                for (var i = 0; i < count; i++)
                {
                    pending[i] = engine.DecideAsync(LoopId, requests[i], cancellationToken);
                }
                signals.Clear();
                for (var i = 0; i < count; i++)
                {
                    var decision = await pending[i].ConfigureAwait(false);
                    var query = queries[first + i];
                    explored += decision.Explored ? 1 : 0;
                    var slots = decision.Ranking.Count;
                    for (var k = 0; k < slots; k++)
                    {
                        ranking[k] = DocumentOf(decision.Ranking[k].ActionId);
                    }
                    served[query.Index] = world.ExpectedRelevantClicks(query.Intent, ranking.AsSpan(0, slots));
                    rankings[query.Index] = ranking[..slots];
                    // Every slot the loop may fill meets its user's dice, served or not, so both loops' users stay in step.
                    for (var k = 0; k < options.Slots; k++)
                    {
                        var outcome = world.React(query.Intent, k < slots ? ranking[k] : -1, k + 1, users);
                        if (k >= slots || !outcome.Clicked)
                        {
                            continue;
                        }
                        var action = decision.Ranking[k].ActionId;
                        clicks++;
                        relevantClicks += world.Grade(query.Intent, ranking[k]) >= world.Settings.RelevantGrade ? 1 : 0;
                        signals.Add(new SignalInput { SignalId = decision.DecisionId + "-c" + (k + 1).ToString(CultureInfo.InvariantCulture), DecisionId = decision.DecisionId, ActionId = action, Type = "click" });
                        if (outcome.Bounced)
                        {
                            bounces++;
                            signals.Add(new SignalInput { SignalId = decision.DecisionId + "-b" + (k + 1).ToString(CultureInfo.InvariantCulture), DecisionId = decision.DecisionId, ActionId = action, Type = "bounce" });
                        }
                    }
                }
                if (signals.Count > 0)
                {
                    var recorded = await engine.RecordSignalsAsync(LoopId, signals, cancellationToken).ConfigureAwait(false);
                    if (recorded.Accepted != signals.Count)
                    {
                        // Every signal names a decision of this wave, inside its window: anything else is a bug in the run.
                        throw new InvalidOperationException($"loop {spec.Name}: {recorded.Accepted} of {signals.Count} signals accepted ({recorded.Duplicates} duplicate, {recorded.Orphaned} orphaned, {recorded.Late} late)");
                    }
                }
                _errors.ThrowIfAny(spec.Name);
                onQueries(count);
            }
            // Every window closes and is learned before the examination is read.
            SetTime(SimulationCalendar.Start.AddSeconds((double)queries.Length * SecondsPerQuery + WindowSeconds + 10));
            await engine.FlushAsync(cancellationToken).ConfigureAwait(false);
            _errors.ThrowIfAny(spec.Name);
            report = await engine.GetPositionBiasAsync(LoopId, cancellationToken).ConfigureAwait(false);
            version = (await engine.ListModelsAsync(LoopId, cancellationToken).ConfigureAwait(false)).Single(m => m.Status == ModelStatus.Champion).Version;
        }
        finally
        {
            await engine.DisposeAsync().ConfigureAwait(false);
        }
        return new SearchLoopResult
        {
            Spec = spec,
            Loop = loop,
            DataDirectory = DataDirectory,
            Served = served,
            Rankings = rankings,
            Clicks = clicks,
            RelevantClicks = relevantClicks,
            Bounces = bounces,
            Explored = explored,
            Examination = report,
            ModelVersion = version,
        };
    }

    /// <summary>The engine's exploration seed for <paramref name="spec"/> in the run of <paramref name="seed"/>: the same for every loop unless a spec asks otherwise.</summary>
    public static ulong ExplorationSeedFor(ulong seed, SearchLoopSpec spec) => SimRandom.Fork(seed, "search-exploration").NextUInt64() ^ spec.ExplorationSeed;

    private static int DocumentOf(string actionId) => int.Parse(actionId.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture);

    private void SetTime(DateTimeOffset at)
    {
        if (at > _time.GetUtcNow())
        {
            _time.SetUtcNow(at);
        }
    }
}

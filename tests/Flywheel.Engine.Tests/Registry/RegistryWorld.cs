using Flywheel.Core;
using Flywheel.Learning;
using Flywheel.Storage.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace Flywheel.Engine.Tests.Registry;

/// <summary>
/// Data folders for the registry tests, built once per test class from a fixed seed: <see cref="Served"/> holds 3,000
/// rounds of a combination world served by v1 (ε 0.5); <see cref="Turned"/> adds a turn that promoted v2 (ε 0.02) and kept
/// v3 (ε 0.9) as a candidate with its weights; <see cref="Promoted"/> adds v3 promoted by hand. No reward arrives after
/// the world ran, so a model brought back serves exactly what it served when it was replaced.
/// </summary>
public sealed class RegistryWorld : IAsyncLifetime
{
    public const string Loop = "feed";

    private readonly TempDirectory _root = new("flywheel-registry-");

    /// <summary>The one clock every engine over these folders uses (never advanced after the world ran).</summary>
    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero));

    public string Served => Path.Combine(_root.Path, "served");

    public string Turned => Path.Combine(_root.Path, "turned");

    public string Promoted => Path.Combine(_root.Path, "promoted");

    /// <summary>What each folder serves after a restart.</summary>
    public ServedState AtServed { get; private set; } = null!;

    public ServedState AtTurned { get; private set; } = null!;

    public ServedState AtPromoted { get; private set; } = null!;

    public static LoopConfig Config => CombinationWorld.Loop(Loop, ["context*action", "context*context*action"]) with
    {
        Exploration = new ExplorationConfig { Algorithm = ExplorationAlgorithm.EpsilonGreedy, Epsilon = 0.5 },
        Turns = new TurnsConfig { MinDecisions = 1000, EverySeconds = 1e7, PromoteWhen = PromotionPolicy.LowerBoundBeatsChampion },
    };

    /// <summary>Opens an engine over <paramref name="directory"/> with the test's candidate search, optionally wrapping its store.</summary>
    public Task<FlywheelEngine> OpenAsync(string directory, Func<IFlywheelStore, IFlywheelStore>? wrap = null) => TestEngine.OpenAsync(directory, Time, o =>
    {
        o.CandidateSearch = config => [
            new CandidateSettings("epsilon 0.02", config.Learner, config.Exploration with { Epsilon = 0.02 }),
            new CandidateSettings("epsilon 0.9", config.Learner, config.Exploration with { Epsilon = 0.9 }),
        ];
        if (wrap is not null)
        {
            var factory = o.StoreFactory!;
            o.StoreFactory = services => wrap(factory(services));
        }
    });

    public async Task InitializeAsync()
    {
        await using (var engine = await OpenAsync(Served))
        {
            await engine.PutLoopAsync(Config);
            await new WorldRunner(engine, Time, new CombinationWorld(seed: 7)).RunAsync([Loop], rounds: 3000, flushEvery: 1);
        }
        AtServed = await ReadStateAsync(Served);

        Copy(Served, Turned);
        await using (var engine = await OpenAsync(Turned))
        {
            var turn = await engine.RunTurnAsync(Loop);
            Assert.Equal(TurnVerdict.Promoted, turn.Verdict);
            Assert.Equal(2, turn.DeployedVersion);
        }
        AtTurned = await ReadStateAsync(Turned);

        Copy(Turned, Promoted);
        await using (var engine = await OpenAsync(Promoted))
        {
            await engine.PromoteAsync(Loop, 3);
        }
        AtPromoted = await ReadStateAsync(Promoted);
        Assert.Equal([1, 2, 3], new[] { AtServed.Version, AtTurned.Version, AtPromoted.Version });
    }

    public Task DisposeAsync()
    {
        _root.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>A fresh copy of a closed data folder (every file: the database, its WAL and shared memory).</summary>
    public string CopyOf(string source, TempDirectory into)
    {
        var target = Path.Combine(into.Path, Guid.NewGuid().ToString("N"));
        Copy(source, target);
        return target;
    }

    private static void Copy(string source, string target)
    {
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(source))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }
    }

    /// <summary>
    /// Rolls back on the folder and restarts: the rollback must serve <paramref name="target"/> (as it served before it
    /// was replaced) after the restart; with no target it must be a conflict.
    /// </summary>
    public async Task AssertRollbackAsync(string directory, ServedState? target, string because)
    {
        await using (var engine = await OpenAsync(directory))
        {
            if (target is null)
            {
                var error = await Assert.ThrowsAsync<FlywheelValidationException>(async () => await engine.RollbackAsync(Loop));
                Assert.Equal(ValidationKind.Conflict, error.Kind);
                return;
            }
            Assert.Equal(target.Version, (await engine.RollbackAsync(Loop, because)).DeployedVersion);
        }
        target.AssertSame(await ReadStateAsync(directory), $"{because}, then rolled back and restarted");
    }

    /// <summary>Restarts on the folder, checks that the served model and the stored registry agree, and reads what serves.</summary>
    public async Task<ServedState> ReadStateAsync(string directory)
    {
        var stored = await StoredRegistry.ReadAsync(directory);
        await using var engine = await OpenAsync(directory);
        return await ServedState.ReadAsync(engine, stored);
    }
}

/// <summary>The registry, ledger, stored settings and snapshot as stored, read before an engine opens the folder.</summary>
internal sealed record StoredRegistry(IReadOnlyList<ModelRecord> Models, IReadOnlyList<TurnRecord> Ledger, LoopConfig Config, ModelSnapshotRecord? Snapshot, IReadOnlyDictionary<int, bool> HasWeights)
{
    public static async Task<StoredRegistry> ReadAsync(string directory)
    {
        await using var store = await SqliteFlywheelStore.OpenAsync(new SqliteStoreOptions { DataDirectory = directory });
        var models = await store.LoadModelsAsync(RegistryWorld.Loop);
        var weights = new Dictionary<int, bool>();
        foreach (var m in models)
        {
            weights[m.Version] = await store.LoadModelDataAsync(RegistryWorld.Loop, m.Version) is not null;
        }
        return new StoredRegistry(models, await store.LoadTurnsAsync(RegistryWorld.Loop), Assert.Single(await store.LoadLoopsAsync()), await store.LoadSnapshotAsync(RegistryWorld.Loop), weights);
    }

    /// <summary>
    /// Asserts what a crash must never break: at most one champion, and the stored settings, the snapshot and the
    /// ledger's last deploy all name it; the champion it replaced (by the ledger) is retired with weights; every candidate
    /// has its turn's ledger entry. Answers the registered champion (null before the registry knows one).
    /// </summary>
    public int? AssertConsistent()
    {
        var champions = Models.Where(m => m.Status == ModelStatus.Champion).ToList();
        Assert.True(champions.Count <= 1, $"{champions.Count} champions");
        var version = Snapshot?.Version ?? 1;
        if (champions.Count == 1)
        {
            var champion = champions[0];
            Assert.Equal(champion.Version, version);
            Assert.Equal(FlywheelJson.Serialize(champion.Learner), FlywheelJson.Serialize(Config.Learner));
            Assert.Equal(FlywheelJson.Serialize(champion.Exploration), FlywheelJson.Serialize(Config.Exploration));
        }
        if (Ledger.LastOrDefault(t => t.DeployedVersion is not null) is { } deploy)
        {
            Assert.Equal(deploy.DeployedVersion, version);
        }
        if (ModelRegistry.ReplacedChampion(Ledger, version) is { } replaced)
        {
            var previous = Models.Single(m => m.Version == replaced);
            Assert.Equal(ModelStatus.Retired, previous.Status);
            Assert.NotNull(previous.TrainedThrough);
            Assert.True(HasWeights[replaced], $"v{replaced}, the champion v{version} replaced, lost its weights");
        }
        var turns = Ledger.Select(t => t.Number).ToHashSet();
        foreach (var candidate in Models.Where(m => m.Status == ModelStatus.Candidate))
        {
            Assert.True(candidate.Turn is { } n && turns.Contains(n), $"candidate v{candidate.Version} has no ledger entry for turn {candidate.Turn}");
            Assert.True(HasWeights[candidate.Version]);
        }
        return champions.Count == 1 ? champions[0].Version : null;
    }
}

/// <summary>What an engine serves: version (by a decision), settings and the probabilities of every probe context.</summary>
public sealed record ServedState(int Version, ExplorationConfig Exploration, LearnerConfig Learner, IReadOnlyList<double[]> Probabilities)
{
    private static IEnumerable<Features> Probes() =>
        from c in Enumerable.Range(0, CombinationWorld.Countries.Length)
        from s in Enumerable.Range(0, CombinationWorld.Slots.Length)
        select CombinationWorld.Context((c, s));

    internal static async Task<ServedState> ReadAsync(FlywheelEngine engine, StoredRegistry? stored = null)
    {
        stored?.AssertConsistent();
        var config = (await engine.GetLoopAsync(RegistryWorld.Loop))!;
        var probabilities = new List<double[]>();
        foreach (var probe in Probes())
        {
            probabilities.Add(await engine.PolicyProbabilitiesAsync(RegistryWorld.Loop, "champion", probe, CombinationWorld.Actions));
        }
        // The registry (which registers the serving model if it does not know it) must name the serving model champion.
        var champion = Assert.Single(await engine.ListModelsAsync(RegistryWorld.Loop), m => m.Status == ModelStatus.Champion);
        if (stored?.Models.SingleOrDefault(m => m.Status == ModelStatus.Champion) is { } registered)
        {
            Assert.Equal(registered.Version, champion.Version);
        }
        return new ServedState(champion.Version, config.Exploration, config.Learner, probabilities);
    }

    /// <summary>Asserts the same version, settings and probabilities (within 1e-6).</summary>
    public void AssertSame(ServedState other, string because)
    {
        Assert.True(Version == other.Version, $"{because}: serves v{other.Version}, expected v{Version}");
        Assert.Equal(FlywheelJson.Serialize(Exploration), FlywheelJson.Serialize(other.Exploration));
        Assert.Equal(FlywheelJson.Serialize(Learner), FlywheelJson.Serialize(other.Learner));
        for (var i = 0; i < Probabilities.Count; i++)
        {
            for (var a = 0; a < Probabilities[i].Length; a++)
            {
                Assert.True(Math.Abs(Probabilities[i][a] - other.Probabilities[i][a]) <= 1e-6, $"{because}: probe {i}, action {a}: {other.Probabilities[i][a]} vs {Probabilities[i][a]}");
            }
        }
    }
}

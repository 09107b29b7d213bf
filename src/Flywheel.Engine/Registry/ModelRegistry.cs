using Flywheel.Core;
using Flywheel.Learning;

namespace Flywheel.Engine;

/// <summary>
/// The model registry and the turn ledger (docs/architecture.md): which versions exist with which status, and what each turn did.
/// Every change of a model's status goes through <see cref="Lock"/>, so turns, promotions, rollbacks and shadow
/// changes never interleave.
/// </summary>
internal sealed class ModelRegistry(TimeProvider time, IFlywheelStore store)
{
    /// <summary>Serializes turns, promotions, rollbacks, the guardrail and shadow changes.</summary>
    public SemaphoreSlim Lock { get; } = new(1, 1);

    /// <summary>Every model of the loop, the serving one registered as champion first if it is new.</summary>
    public async ValueTask<IReadOnlyList<ModelRecord>> ListAsync(LoopRuntime runtime, CancellationToken cancellationToken)
    {
        await EnsureChampionRegisteredAsync(runtime, cancellationToken).ConfigureAwait(false);
        return await store.LoadModelsAsync(runtime.Id, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The turn ledger, oldest first.</summary>
    public ValueTask<IReadOnlyList<TurnRecord>> ListTurnsAsync(LoopRuntime runtime, CancellationToken cancellationToken)
        => store.LoadTurnsAsync(runtime.Id, cancellationToken);

    /// <summary>A registered model, or a 404 naming <paramref name="field"/>.</summary>
    public async ValueTask<ModelRecord> FindAsync(LoopRuntime runtime, int version, CancellationToken cancellationToken, string field = "version")
    {
        var models = await ListAsync(runtime, cancellationToken).ConfigureAwait(false);
        return models.FirstOrDefault(m => m.Version == version)
            ?? throw new FlywheelValidationException(field, $"loop '{runtime.Id}' has no model version {version}") { Kind = ValidationKind.NotFound };
    }

    /// <summary>
    /// A model's stored weights: a 404 naming <paramref name="field"/> when the version is not registered, a 409 when only
    /// its record is left.
    /// </summary>
    public async ValueTask<byte[]> LoadWeightsAsync(LoopRuntime runtime, int version, CancellationToken cancellationToken, string field = "version")
    {
        if (await store.LoadModelDataAsync(runtime.Id, version, cancellationToken).ConfigureAwait(false) is { } data)
        {
            return data;
        }
        await FindAsync(runtime, version, cancellationToken, field).ConfigureAwait(false);
        throw new FlywheelValidationException(field, $"model version {version} has no stored weights (only the latest turn's candidates and past champions keep theirs)") { Kind = ValidationKind.Conflict };
    }

    /// <summary>A registered model's stored weights, loaded into a learner of its kind and settings.</summary>
    public async ValueTask<ILoopLearner> LoadLearnerAsync(LoopRuntime runtime, int version, CancellationToken cancellationToken)
    {
        var model = await FindAsync(runtime, version, cancellationToken).ConfigureAwait(false);
        var data = await LoadWeightsAsync(runtime, version, cancellationToken).ConfigureAwait(false);
        return runtime.Kind.LoadLearner(data, model.Learner, model.Exploration);
    }

    /// <summary>Registers the serving model as champion when the registry does not know it yet (new loops, new learner settings).</summary>
    public async ValueTask EnsureChampionRegisteredAsync(LoopRuntime runtime, CancellationToken cancellationToken)
    {
        var models = await store.LoadModelsAsync(runtime.Id, cancellationToken).ConfigureAwait(false);
        var version = runtime.ModelVersion;
        if (models.Any(m => m.Version == version && m.Status == ModelStatus.Champion))
        {
            return;
        }
        var now = time.GetUtcNow();
        // The stale champions' retirement and the registration are one transaction: never zero or two champions.
        var change = new RegistryChange { Loop = runtime.Id };
        foreach (var stale in models.Where(m => m.Status == ModelStatus.Champion))
        {
            change.Models.Add(stale with { Status = ModelStatus.Retired, StatusChangedAt = now, Reason = $"replaced by v{version}, made by a change of the loop's learner settings" });
        }
        var config = runtime.Config;
        var existing = models.FirstOrDefault(m => m.Version == version);
        change.Models.Add(existing is not null
            ? existing with { Status = ModelStatus.Champion, StatusChangedAt = now }
            : new ModelRecord
            {
                Loop = runtime.Id,
                Version = version,
                Status = ModelStatus.Champion,
                Learner = config.Learner,
                Exploration = config.Exploration,
                CreatedAt = now,
                StatusChangedAt = now,
                Reason = "made by the loop config",
            });
        await store.CommitRegistryAsync(change, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The champion that <paramref name="serving"/> replaced, read from the ledger in deployment order (not the lineage
    /// parent), or null when it replaced none. Every deploy (a promotion by a turn or by hand) pushes the champion it
    /// replaced; a rollback to a version returns to the moment that version served, so repeated rollbacks walk back
    /// through the deployment history (A → B → C, rollback → B, rollback → A). A champion that the ledger's next entry
    /// does not name was replaced outside the ledger (new learner settings start a new version, or a deploy without an
    /// entry): the version that replaced it replaced it.
    /// </summary>
    public static int? ReplacedChampion(IReadOnlyList<TurnRecord> ledger, int serving)
    {
        var replaced = new List<int>();
        int? current = null;
        foreach (var entry in ledger)
        {
            if (current is { } known && known != entry.ChampionVersion)
            {
                replaced.Add(known); // the champion changed outside the ledger (new learner settings)
            }
            current = entry.ChampionVersion;
            if (entry.DeployedVersion is not { } deployed || deployed == entry.ChampionVersion)
            {
                continue; // judged without a deploy, or a graduation (the same version changes mode)
            }
            if (entry.Verdict == TurnVerdict.RolledBack)
            {
                var at = replaced.LastIndexOf(deployed);
                if (at >= 0)
                {
                    replaced.RemoveRange(at, replaced.Count - at);
                }
            }
            else
            {
                replaced.Add(entry.ChampionVersion);
            }
            current = deployed;
        }
        if (current is { } last && last != serving)
        {
            replaced.Add(last);
        }
        replaced.RemoveAll(v => v == serving);
        return replaced.Count == 0 ? null : replaced[^1];
    }

    /// <summary>
    /// Start-up repair of what a crash of an older build could leave: candidates whose turn never wrote its ledger entry
    /// are retired and their weights dropped, in one transaction. (This build registers candidates together with their
    /// ledger entry, so it never leaves any.)
    /// </summary>
    public static async ValueTask ReconcileAsync(IFlywheelStore store, TimeProvider time, string loop, CancellationToken cancellationToken)
    {
        var models = await store.LoadModelsAsync(loop, cancellationToken).ConfigureAwait(false);
        if (!models.Any(m => m.Status == ModelStatus.Candidate))
        {
            return;
        }
        var numbers = (await store.LoadTurnsAsync(loop, cancellationToken).ConfigureAwait(false)).Select(t => t.Number).ToHashSet();
        var change = new RegistryChange { Loop = loop };
        var now = time.GetUtcNow();
        foreach (var orphan in models.Where(m => m.Status == ModelStatus.Candidate && m.Turn is { } turn && !numbers.Contains(turn)))
        {
            change.Models.Add(orphan with { Status = ModelStatus.Retired, StatusChangedAt = now, Reason = $"turn {orphan.Turn} did not finish", TrainedThrough = null });
            change.ModelData[orphan.Version] = null;
        }
        if (!change.IsEmpty)
        {
            await store.CommitRegistryAsync(change, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The version the next registered model gets.</summary>
    public async ValueTask<int> NextVersionAsync(LoopRuntime runtime, CancellationToken cancellationToken)
    {
        var models = await store.LoadModelsAsync(runtime.Id, cancellationToken).ConfigureAwait(false);
        return Math.Max(runtime.ModelVersion, models.Count == 0 ? 0 : models.Max(m => m.Version)) + 1;
    }

    /// <summary>The number the next ledger entry gets.</summary>
    public async ValueTask<long> NextTurnNumberAsync(LoopRuntime runtime, CancellationToken cancellationToken)
    {
        var latest = await store.LoadLatestTurnsAsync(runtime.Id, 1, cancellationToken).ConfigureAwait(false);
        return latest.Count == 0 ? 1 : latest[^1].Number + 1;
    }

    /// <summary>Where the last judged window ended (0 before the first): the next turn judges the rewards after it.</summary>
    public async ValueTask<long> LastJudgedThroughAsync(LoopRuntime runtime, CancellationToken cancellationToken)
    {
        const int Recent = 64;
        var turns = await store.LoadLatestTurnsAsync(runtime.Id, Recent, cancellationToken).ConfigureAwait(false);
        var through = LastJudgedThrough(turns);
        // Only a long run of entries that judged nothing (manual turns without data, promotions, rollbacks) reads further back.
        return through > 0 || turns.Count < Recent
            ? through
            : LastJudgedThrough(await store.LoadTurnsAsync(runtime.Id, cancellationToken).ConfigureAwait(false));
    }

    private static long LastJudgedThrough(IReadOnlyList<TurnRecord> turns)
    {
        for (var i = turns.Count - 1; i >= 0; i--)
        {
            if (turns[i].Verdict is TurnVerdict.Promoted or TurnVerdict.Rejected or TurnVerdict.AwaitingManualPromotion or TurnVerdict.Graduated && turns[i].Window is { } w)
            {
                return w.ThroughSequence;
            }
        }
        return 0;
    }
}

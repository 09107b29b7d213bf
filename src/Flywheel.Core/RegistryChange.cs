namespace Flywheel.Core;

/// <summary>
/// One change of a loop's model registry, written by <see cref="IFlywheelStore.CommitRegistryAsync"/> in one
/// transaction: the model records and weights it touches, the ledger entry that explains it, the loop settings the new
/// champion serves with and the snapshot of the learner that serves. A crash leaves either all of it or none of it, so the
/// registry's champion, the ledger, the stored settings and the served model never disagree after a restart.
/// </summary>
public sealed class RegistryChange
{
    /// <summary>The loop every record belongs to.</summary>
    public required string Loop { get; init; }

    /// <summary>Model records to create or replace, in order (a later record of the same version wins).</summary>
    public List<ModelRecord> Models { get; } = [];

    /// <summary>Weights to store by version (after <see cref="Models"/> are written); a null value drops a model's weights.</summary>
    public Dictionary<int, byte[]?> ModelData { get; } = [];

    /// <summary>Ledger entries to create or replace.</summary>
    public List<TurnRecord> Turns { get; } = [];

    /// <summary>The loop config to store (the new champion's learner and exploration settings), or null to keep it.</summary>
    public LoopConfig? Config { get; set; }

    /// <summary>The serving learner's snapshot to store, or null to keep it.</summary>
    public ModelSnapshotRecord? Snapshot { get; set; }

    /// <summary>True when there is nothing to write.</summary>
    public bool IsEmpty => Models.Count == 0 && ModelData.Count == 0 && Turns.Count == 0 && Config is null && Snapshot is null;

    /// <summary>Throws when a record belongs to another loop than <see cref="Loop"/>.</summary>
    public void Validate()
    {
        if (Models.Any(m => m.Loop != Loop) || Turns.Any(t => t.Loop != Loop) || (Config is not null && Config.Id != Loop) || (Snapshot is not null && Snapshot.Loop != Loop))
        {
            throw new ArgumentException($"every record of a registry change must belong to loop '{Loop}'");
        }
    }
}

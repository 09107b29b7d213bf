using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using Flywheel.Core;

namespace Flywheel.Learning;

/// <summary>Thrown when a snapshot is corrupt or does not match the learner settings it is loaded for.</summary>
public sealed class ModelSnapshotException(string message) : Exception(message);

/// <summary>
/// The binary snapshot of a <see cref="BanditLearner"/>: a header (magic, format version, settings fingerprint, bits,
/// bags, seed, counters), then per regressor (each bag, then the <c>dr</c> reward model) its two sums, the range of
/// labels it has seen and its non-zero slots, and an XxHash64 checksum of everything before it. Format 2 (no label
/// range) still loads. Loading verifies all of it before building anything, so a bad file never replaces a running model.
/// </summary>
public static class ModelSnapshot
{
    private static ReadOnlySpan<byte> Magic => "FWMODEL1"u8;
    private const int FormatVersion = 3;
    private const int OldestReadableVersion = 2; // 2 lacks the label range of format 3; it loads as [0, 0].
    private const int HeaderSize = 8 + 4 + 8 + 4 + 4 + 8 + 8 + 8;

    /// <summary>A fingerprint of the settings that give the weights their meaning.</summary>
    public static ulong Fingerprint(LearnerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        var text = string.Join("|", config.Bits, string.Join(",", config.Interactions), config.Reduction,
            config.EffectiveLearningRate.ToString("R", inv), config.EffectivePowerT.ToString("R", inv), config.L2.ToString("R", inv));
        if (config.Forgetting != 0)
        {
            // Only when set, so the snapshots saved before the setting existed keep their fingerprint.
            text += "|forgetting=" + config.Forgetting.ToString("R", inv);
        }
        return XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(text));
    }

    /// <summary>Serializes the learner.</summary>
    public static byte[] Save(BanditLearner learner)
    {
        ArgumentNullException.ThrowIfNull(learner);
        var regressors = learner.RewardModel is null ? learner.Regressors.ToArray() : [.. learner.Regressors, learner.RewardModel];
        var size = HeaderSize + 8;
        var nonZero = new int[regressors.Length];
        for (var b = 0; b < regressors.Length; b++)
        {
            var counter = new SlotCounter();
            regressors[b].ForEachSlot(ref counter);
            nonZero[b] = counter.Count;
            size += 8 + 8 + 8 + 4 + nonZero[b] * 16;
        }
        var buffer = new byte[size];
        var span = buffer.AsSpan();
        Magic.CopyTo(span);
        var o = Magic.Length;
        BinaryPrimitives.WriteInt32LittleEndian(span[o..], FormatVersion); o += 4;
        BinaryPrimitives.WriteUInt64LittleEndian(span[o..], Fingerprint(learner.Config)); o += 8;
        BinaryPrimitives.WriteInt32LittleEndian(span[o..], learner.Config.Bits); o += 4;
        BinaryPrimitives.WriteInt32LittleEndian(span[o..], learner.Bags); o += 4;
        BinaryPrimitives.WriteUInt64LittleEndian(span[o..], learner.Seed); o += 8;
        BinaryPrimitives.WriteInt64LittleEndian(span[o..], learner.Examples); o += 8;
        BinaryPrimitives.WriteInt64LittleEndian(span[o..], learner.ActionsSeen); o += 8;
        for (var b = 0; b < regressors.Length; b++)
        {
            var regressor = regressors[b];
            BinaryPrimitives.WriteDoubleLittleEndian(span[o..], regressor.NormalizedSum); o += 8;
            BinaryPrimitives.WriteDoubleLittleEndian(span[o..], regressor.TotalWeight); o += 8;
            BinaryPrimitives.WriteSingleLittleEndian(span[o..], regressor.MinLabel); o += 4;
            BinaryPrimitives.WriteSingleLittleEndian(span[o..], regressor.MaxLabel); o += 4;
            BinaryPrimitives.WriteInt32LittleEndian(span[o..], nonZero[b]); o += 4;
            // Slots in slot order, whether the regressor is dense or sparse, so both forms save the same bytes.
            var writer = new SlotWriter(buffer, o);
            regressor.ForEachSlot(ref writer);
            o = writer.Offset;
        }
        BinaryPrimitives.WriteUInt64LittleEndian(span[o..], XxHash64.HashToUInt64(span[..o]));
        return buffer;
    }

    /// <summary>Restores the learner of a loop with these learner and exploration settings.</summary>
    public static BanditLearner Load(ReadOnlySpan<byte> data, LearnerConfig config, ExplorationConfig exploration)
    {
        ArgumentNullException.ThrowIfNull(exploration);
        return Load(data, config, exploration.Algorithm == ExplorationAlgorithm.Bag ? exploration.Bags : 1,
            unweighted: exploration.Algorithm == ExplorationAlgorithm.SquareCb);
    }

    /// <summary>Restores a learner saved with the same settings and bag count; throws <see cref="ModelSnapshotException"/> otherwise.</summary>
    public static BanditLearner Load(ReadOnlySpan<byte> data, LearnerConfig config, int bags = 1, bool unweighted = false)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (data.Length < HeaderSize + 8 || !data[..Magic.Length].SequenceEqual(Magic))
        {
            throw new ModelSnapshotException("not a Flywheel model snapshot (bad magic or too short)");
        }
        var body = data[..^8];
        if (XxHash64.HashToUInt64(body) != BinaryPrimitives.ReadUInt64LittleEndian(data[^8..]))
        {
            throw new ModelSnapshotException("model snapshot is corrupt (checksum mismatch)");
        }
        var o = Magic.Length;
        var format = BinaryPrimitives.ReadInt32LittleEndian(data[o..]); o += 4;
        if (format is < OldestReadableVersion or > FormatVersion)
        {
            throw new ModelSnapshotException($"model snapshot format {format} is not supported (expected {OldestReadableVersion} to {FormatVersion})");
        }
        var labelRange = format >= 3 ? 8 : 0;
        var fingerprint = BinaryPrimitives.ReadUInt64LittleEndian(data[o..]); o += 8;
        if (fingerprint != Fingerprint(config))
        {
            throw new ModelSnapshotException("model snapshot was trained with other learner settings (bits, interactions, reduction or rates)");
        }
        var bits = BinaryPrimitives.ReadInt32LittleEndian(data[o..]); o += 4;
        if (bits != config.Bits)
        {
            throw new ModelSnapshotException($"model snapshot has {bits} bits; the loop has {config.Bits}");
        }
        var storedBags = BinaryPrimitives.ReadInt32LittleEndian(data[o..]); o += 4;
        if (storedBags != bags)
        {
            throw new ModelSnapshotException($"model snapshot has {storedBags} bags; the loop explores with {bags}");
        }
        var seed = BinaryPrimitives.ReadUInt64LittleEndian(data[o..]); o += 8;
        var learner = new BanditLearner(config, bags, seed, unweighted)
        {
            Examples = BinaryPrimitives.ReadInt64LittleEndian(data[o..]),
            ActionsSeen = BinaryPrimitives.ReadInt64LittleEndian(data[(o + 8)..]),
        };
        o += 16;
        var slots = 1 << bits;
        var regressors = learner.RewardModel is null ? learner.Regressors.ToArray() : [.. learner.Regressors, learner.RewardModel];
        for (var b = 0; b < regressors.Length; b++)
        {
            if (body.Length < o + 20 + labelRange)
            {
                throw new ModelSnapshotException("model snapshot is corrupt (truncated bag)");
            }
            var regressor = regressors[b];
            regressor.NormalizedSum = BinaryPrimitives.ReadDoubleLittleEndian(data[o..]); o += 8;
            regressor.TotalWeight = BinaryPrimitives.ReadDoubleLittleEndian(data[o..]); o += 8;
            if (labelRange > 0)
            {
                regressor.MinLabel = BinaryPrimitives.ReadSingleLittleEndian(data[o..]); o += 4;
                regressor.MaxLabel = BinaryPrimitives.ReadSingleLittleEndian(data[o..]); o += 4;
            }
            var count = BinaryPrimitives.ReadInt32LittleEndian(data[o..]); o += 4;
            if (count < 0 || count > slots || body.Length < o + (long)count * 16)
            {
                throw new ModelSnapshotException("model snapshot is corrupt (slot count does not match its length)");
            }
            // A snapshot of few slots loads sparse, as the regressor that saved it most likely was.
            regressor.ReserveSlots(count);
            for (var k = 0; k < count; k++)
            {
                var i = BinaryPrimitives.ReadInt32LittleEndian(data[o..]); o += 4;
                if (i < 0 || i >= slots)
                {
                    throw new ModelSnapshotException($"model snapshot is corrupt (slot {i} out of range)");
                }
                regressor.SetSlot(i, BinaryPrimitives.ReadSingleLittleEndian(data[o..]), BinaryPrimitives.ReadSingleLittleEndian(data[(o + 4)..]), BinaryPrimitives.ReadSingleLittleEndian(data[(o + 8)..]));
                o += 12;
            }
        }
        if (o != body.Length)
        {
            throw new ModelSnapshotException("model snapshot is corrupt (trailing bytes)");
        }
        return learner;
    }

    private struct SlotCounter : ISlotVisitor
    {
        public int Count;

        public void Visit(int slot, float weight, float gradient, float norm)
        {
            if (weight != 0 || gradient != 0 || norm != 0)
            {
                Count++;
            }
        }
    }

    private struct SlotWriter(byte[] buffer, int offset) : ISlotVisitor
    {
        public int Offset = offset;

        public void Visit(int slot, float weight, float gradient, float norm)
        {
            if (weight == 0 && gradient == 0 && norm == 0)
            {
                return;
            }
            var span = buffer.AsSpan(Offset, 16);
            BinaryPrimitives.WriteInt32LittleEndian(span, slot);
            BinaryPrimitives.WriteSingleLittleEndian(span[4..], weight);
            BinaryPrimitives.WriteSingleLittleEndian(span[8..], gradient);
            BinaryPrimitives.WriteSingleLittleEndian(span[12..], norm);
            Offset += 16;
        }
    }
}

using System.IO.Hashing;
using System.Text;
using Flywheel.Core;

namespace Flywheel.Learning;

/// <summary>
/// An <see cref="AbilityEstimator"/>'s state as bytes: a magic, the learners (with their memories and streaks), the
/// items, the feature weights, then an XxHash64 of everything before it.
/// </summary>
internal static class AbilitySnapshot
{
    private static ReadOnlySpan<byte> Magic => "FWABIL01"u8;

    public static byte[] Save(AbilityEstimator estimator, long examples)
    {
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write(examples);
            w.Write(estimator.Answers);
            // Sorted, so the same state always saves to the same bytes.
            var learners = estimator.LearnerStates.OrderBy(l => l.Key, StringComparer.Ordinal).ToArray();
            w.Write(learners.Length);
            foreach (var (id, s) in learners)
            {
                lock (s)
                {
                    w.Write(id);
                    w.Write(s.Ability);
                    w.Write(s.Information);
                    w.Write(s.Answers);
                    w.Write(s.Correct);
                    w.Write(s.Recent);
                    w.Write(s.LastAnswer.UtcTicks);
                    w.Write(s.TimeZone ?? "");
                    s.Streak.Write(w);
                    w.Write(s.Cards.Count);
                    foreach (var (item, c) in s.Cards.OrderBy(c => c.Key, StringComparer.Ordinal))
                    {
                        w.Write(item);
                        w.Write(c.Memory.Difficulty);
                        w.Write(c.Memory.Stability);
                        w.Write(c.LastReview.UtcTicks);
                        w.Write(c.Due.UtcTicks);
                        w.Write(c.Reviews);
                        w.Write(c.Lapses);
                    }
                }
            }
            var items = estimator.ItemStates.OrderBy(i => i.Key, StringComparer.Ordinal).ToArray();
            w.Write(items.Length);
            foreach (var (id, s) in items)
            {
                w.Write(id);
                w.Write(s.Deviation);
                w.Write(s.Information);
                w.Write(s.Answers);
                w.Write(s.Correct);
                var features = s.Features is { } f ? FlywheelJson.ToUtf8(f) : [];
                w.Write(features.Length);
                w.Write(features);
            }
            var weights = estimator.Weights.OrderBy(w => w.Key).ToArray();
            var (count, sums) = estimator.FeatureMeans;
            w.Write(count);
            w.Write(sums);
            w.Write(weights.Length);
            foreach (var (hash, weight) in weights)
            {
                w.Write(hash);
                w.Write(weight.Weight);
                w.Write(weight.SquaredGradients);
                w.Write(weight.Sum);
            }
        }
        var hashed = XxHash64.HashToUInt64(stream.GetBuffer().AsSpan(0, (int)stream.Length));
        stream.Write(BitConverter.GetBytes(hashed));
        return stream.ToArray();
    }

    public static (AbilityEstimator Estimator, long Examples) Load(ReadOnlySpan<byte> snapshot)
    {
        if (snapshot.Length < Magic.Length + 8 || !snapshot.StartsWith(Magic))
        {
            throw new ModelSnapshotException("not an ability model snapshot");
        }
        var body = snapshot[..^8];
        if (XxHash64.HashToUInt64(body) != BitConverter.ToUInt64(snapshot[^8..]))
        {
            throw new ModelSnapshotException("the ability snapshot fails its checksum");
        }
        try
        {
            using var r = new BinaryReader(new MemoryStream(body[Magic.Length..].ToArray()), Encoding.UTF8);
            var estimator = new AbilityEstimator();
            var examples = r.ReadInt64();
            estimator.SetAnswers(r.ReadInt64());
            for (var n = Count(r); n > 0; n--)
            {
                var id = r.ReadString();
                var s = new AbilityEstimator.LearnerState(default)
                {
                    Ability = r.ReadDouble(),
                    Information = r.ReadDouble(),
                    Answers = r.ReadInt64(),
                    Correct = r.ReadInt64(),
                    Recent = r.ReadDouble(),
                    LastAnswer = new DateTimeOffset(r.ReadInt64(), TimeSpan.Zero),
                };
                var zone = r.ReadString();
                s.TimeZone = zone.Length == 0 ? null : zone;
                s.Streak = StreakState.Read(r);
                for (var c = Count(r); c > 0; c--)
                {
                    var item = r.ReadString();
                    var memory = new MemoryState(r.ReadDouble(), r.ReadDouble());
                    s.Cards[item] = new ReviewCard(memory, new DateTimeOffset(r.ReadInt64(), TimeSpan.Zero), new DateTimeOffset(r.ReadInt64(), TimeSpan.Zero), r.ReadInt32(), r.ReadInt32());
                }
                estimator.LearnerStates[id] = s;
            }
            for (var n = Count(r); n > 0; n--)
            {
                var id = r.ReadString();
                var s = new AbilityEstimator.ItemState { Deviation = r.ReadDouble(), Information = r.ReadDouble(), Answers = r.ReadInt64(), Correct = r.ReadInt64() };
                var length = Count(r);
                s.Features = length == 0 ? null : FlywheelJson.Read<Features>(r.ReadBytes(length));
                estimator.ItemStates[id] = s;
            }
            estimator.FeatureMeans = (r.ReadInt64(), r.ReadDouble());
            for (var n = Count(r); n > 0; n--)
            {
                estimator.Weights[r.ReadUInt64()] = new AbilityEstimator.FeatureWeight { Weight = r.ReadDouble(), SquaredGradients = r.ReadDouble(), Sum = r.ReadDouble() };
            }
            estimator.SumAbilities();
            if (r.BaseStream.Position != r.BaseStream.Length)
            {
                throw new ModelSnapshotException("the ability snapshot has bytes past its end");
            }
            return (estimator, examples);
        }
        catch (Exception ex) when (ex is EndOfStreamException or IOException or InvalidDataException or FormatException or ArgumentException)
        {
            throw new ModelSnapshotException($"the ability snapshot is malformed: {ex.Message}");
        }
    }

    private static int Count(BinaryReader r)
    {
        var n = r.ReadInt32();
        return n >= 0 ? n : throw new ModelSnapshotException("the ability snapshot holds a negative count");
    }
}

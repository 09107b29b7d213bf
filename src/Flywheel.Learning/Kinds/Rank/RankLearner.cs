using System.Buffers.Binary;
using System.IO.Hashing;
using Flywheel.Core;

namespace Flywheel.Learning;

/// <summary>
/// The <c>rank</c> kind's learner: a <c>choose</c> learner's regressor taught once per served slot, and the examination
/// counts of the loop's shuffled decisions. Not thread-safe.
/// </summary>
internal sealed class RankLearner(ChooseLearner scores, ExaminationCounts examination) : IRankingLearner
{
    private static ReadOnlySpan<byte> Magic => "FWRANK01"u8;

    private Featurizer? _featurizer;
    private FeatureVector? _vector;

    public ChooseLearner Scores { get; } = scores;

    public ExaminationCounts Counts { get; } = examination;

    public long Examples => Scores.Examples;

    public double Examination(PositionBias bias, int slot) => Counts.Used(bias, slot);

    private BanditLearner Bandit => Scores.Learner;

    private Featurizer Featurizer => _featurizer ??= new Featurizer(Bandit.Config);

    private FeatureVector Vector => _vector ??= new FeatureVector();

    /// <summary>
    /// Each served slot's reward r, with the slot's examination probability θ, teaches the regressor that its action's
    /// reward where it is looked at is default + (r − default)/θ: unbiased under the position-based model, since a
    /// result nobody examined earns the default whatever it is.
    /// </summary>
    public void Learn(DecisionRecord decision, RewardRecord reward, LoopConfig config)
    {
        ArgumentNullException.ThrowIfNull(decision);
        ArgumentNullException.ThrowIfNull(reward);
        ArgumentNullException.ThrowIfNull(config);
        if (reward.Slots is not { Count: > 0 } slots)
        {
            return;
        }
        if (decision.Intervened)
        {
            Counts.Add(slots);
        }
        Bandit.Unweighted = config.Exploration.Algorithm == ExplorationAlgorithm.SquareCb;
        var bias = config.RankSettings.PositionBias;
        var floor = config.Reward.Default;
        Featurizer.SetContext(HashedFeatureSet.FromContext(decision.Context));
        foreach (var slot in slots)
        {
            var action = IndexOf(decision.Actions, slot.ActionId);
            if (action < 0 || slot.Slot - 1 >= decision.Ranking.Count)
            {
                continue;
            }
            var theta = Counts.Used(bias, slot.Slot);
            var target = floor + (slot.Reward - floor) / theta;
            Vector.Clear();
            Featurizer.AddAction(HashedFeatureSet.FromAction(decision.Actions[action]), Vector);
            Bandit.Learn(Vector.Indices(0), Vector.Values(0), (float)-target, decision.Ranking[slot.Slot - 1].Probability, decision.Actions.Count);
        }
    }

    public void Learn(DecisionRecord decision, double reward, ExplorationConfig exploration) => Scores.Learn(decision, reward, exploration);

    public void Learn(PreparedDecision decision, int chosen, double reward, double probability, int repeats = 1)
        => Scores.Learn(decision, chosen, reward, probability, repeats);

    public void Score(PreparedDecision decision, ExplorationConfig exploration, Span<float> costs, Span<double> pmf)
        => Scores.Score(decision, exploration, costs, pmf);

    public void Refresh(bool keepWeights = true) => Scores.Refresh(keepWeights);

    public ILoopPolicy Publish(int version, ILoopPolicy? previous = null)
        => new RankPolicy((ChoosePolicy)Scores.Publish(version, (previous as RankPolicy)?.Scores), Counts.Clone());

    /// <summary>The magic, the examination counts and their XxHash64, then the regressor's own snapshot.</summary>
    public byte[] Save()
    {
        var counts = Counts.ToArray();
        var inner = Scores.Save();
        var head = Magic.Length + 4 + counts.Length * 8;
        var buffer = new byte[head + 8 + inner.Length];
        var span = buffer.AsSpan();
        Magic.CopyTo(span);
        BinaryPrimitives.WriteInt32LittleEndian(span[Magic.Length..], counts.Length);
        for (var i = 0; i < counts.Length; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(span[(Magic.Length + 4 + i * 8)..], counts[i]);
        }
        BinaryPrimitives.WriteUInt64LittleEndian(span[head..], XxHash64.HashToUInt64(span[..head]));
        inner.CopyTo(span[(head + 8)..]);
        return buffer;
    }

    public static RankLearner Load(ReadOnlySpan<byte> snapshot, LearnerConfig learner, ExplorationConfig exploration)
    {
        if (snapshot.Length < Magic.Length + 4 || !snapshot.StartsWith(Magic))
        {
            throw new ModelSnapshotException("not a rank model snapshot");
        }
        var length = BinaryPrimitives.ReadInt32LittleEndian(snapshot[Magic.Length..]);
        var head = Magic.Length + 4 + (long)length * 8;
        if (length < 2 || head + 8 > snapshot.Length)
        {
            throw new ModelSnapshotException("the rank snapshot's examination counts are truncated");
        }
        if (XxHash64.HashToUInt64(snapshot[..(int)head]) != BinaryPrimitives.ReadUInt64LittleEndian(snapshot[(int)head..]))
        {
            throw new ModelSnapshotException("the rank snapshot's examination counts fail their checksum");
        }
        var counts = new long[length];
        for (var i = 0; i < length; i++)
        {
            counts[i] = BinaryPrimitives.ReadInt64LittleEndian(snapshot[(Magic.Length + 4 + i * 8)..]);
        }
        if (counts[1] < 0 || 2 + 2 * counts[1] != length)
        {
            throw new ModelSnapshotException("the rank snapshot's examination counts are malformed");
        }
        return new RankLearner(new ChooseLearner(ModelSnapshot.Load(snapshot[((int)head + 8)..], learner, exploration)), ExaminationCounts.FromArray(counts));
    }

    private static int IndexOf(IReadOnlyList<ActionCandidate> actions, string id)
    {
        for (var i = 0; i < actions.Count; i++)
        {
            if (actions[i].Id == id)
            {
                return i;
            }
        }
        return -1;
    }
}

/// <summary>The <c>rank</c> kind's serving model: the regressor's scores, the slot sampler, and the examination measured at publication.</summary>
internal sealed class RankPolicy(ChoosePolicy scores, ExaminationCounts examination) : IRankingPolicy
{
    public ChoosePolicy Scores { get; } = scores;

    public int Version => Scores.Version;

    public long Examples => Scores.Examples;

    public void Score(ExplorationConfig exploration, Features context, IReadOnlyList<ActionCandidate> actions, Span<float> costs, Span<double> pmf)
        => Scores.Score(exploration, context, actions, costs, pmf);

    public long CountFeatures(Features context, IReadOnlyList<ActionCandidate> actions) => Scores.CountFeatures(context, actions);

    public SampledRanking Rank(LoopConfig config, Features context, IReadOnlyList<ActionCandidate> actions, Func<int, double> uniform)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(actions);
        var costs = new float[actions.Count];
        var pmf = new double[actions.Count];
        Scores.Score(config.Exploration, context, actions, costs, pmf);
        var rank = config.RankSettings;
        return RankSampler.Rank(costs, config.Exploration, Examples, rank.Slots, rank.InterventionRate, uniform);
    }

    public PositionBiasReport PositionBias(LoopConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var rank = config.RankSettings;
        return examination.Report(config.Id, rank.PositionBias, rank.Slots);
    }
}

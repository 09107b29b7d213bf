using System.Runtime.CompilerServices;
using System.Diagnostics;
using System.Globalization;
using Flywheel.Core;

namespace Flywheel.Learning.Replay;

/// <summary>Settings of a <see cref="CbifyReplay"/> run.</summary>
public sealed record CbifyReplayOptions
{
    /// <summary>K, the number of actions; labels lie in 1..K. At least 2.</summary>
    public required int Classes { get; init; }

    /// <summary>The learner. <value>Default <c>new LearnerConfig()</c>: 18 bits, <c>context*action</c>, reduction dm.</value></summary>
    public LearnerConfig Learner { get; init; } = new();

    /// <summary>The exploration. <value>Default: the loop default, SquareCB without a floor.</value></summary>
    public ExplorationConfig Exploration { get; init; } = new();

    /// <summary>Seeds the action draws: example i draws <see cref="Flywheel.Learning.Exploration.UniformFor(ulong, long)"/> (seed, i). <value>Default 1.</value></summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Throws when a setting is out of range or not supported yet.</summary>
    public void Validate()
    {
        if (Classes < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(Classes), Classes, "K must be at least 2");
        }
        ArgumentNullException.ThrowIfNull(Learner);
        ArgumentNullException.ThrowIfNull(Exploration);
        if (!(Exploration.EffectiveEpsilon is >= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(Exploration), Exploration.EffectiveEpsilon, "epsilon must lie in [0, 1]");
        }
    }
}

/// <summary>The figures of a <see cref="CbifyReplay"/> run.</summary>
/// <param name="Examples">Examples replayed.</param>
/// <param name="ProgressiveLoss">Mean cost paid by the sampled actions, exploration included, each example scored before it was learned from.</param>
/// <param name="GreedyLoss">Mean cost the greedy action (lowest predicted cost, ties split evenly) would have paid.</param>
/// <param name="Seconds">Wall-clock seconds, reading included.</param>
/// <param name="Format">The detected input format.</param>
/// <param name="Compressed">True when the input was gzip-compressed.</param>
public sealed record CbifyReplayResult(long Examples, double ProgressiveLoss, double GreedyLoss, double Seconds, MulticlassFormat Format, bool Compressed)
{
    /// <summary>Examples per wall-clock second.</summary>
    public double ExamplesPerSecond => Seconds > 0 ? Examples / Seconds : 0;
}

/// <summary>A progress report of a running replay.</summary>
/// <param name="Examples">Examples replayed so far.</param>
/// <param name="BytesRead">Bytes of the input read so far (compressed bytes for gzip).</param>
/// <param name="TotalBytes">The input's size in bytes, or −1 when unknown.</param>
public readonly record struct ReplayProgress(long Examples, long BytesRead, long TotalBytes)
{
    /// <summary>The fraction of the input read, in [0, 1], or null when the size is unknown.</summary>
    public double? Fraction => TotalBytes > 0 ? Math.Clamp((double)BytesRead / TotalBytes, 0, 1) : null;
}

/// <summary>
/// The supervised-to-bandit simulation of <c>replay --cbify K</c> (docs/estimators.md, VW's <c>--cbify</c>): one pass over
/// the rows in file order; each row's context is scored for the K actions, an action is sampled from the exploration
/// distribution, it pays cost 0 when it is the row's label and 1 otherwise, and the learner learns from that cost
/// alone. Each action's only own feature is its id (<see cref="HashedFeatureSet.ActionId(string)"/> of "1".."K"), so
/// with <c>context*action</c> every action gets its own linear model of the context. Allocates nothing per row in
/// steady state.
/// </summary>
public sealed class CbifyReplay
{
    private static readonly double ReportInterval = 0.5;

    /// <summary>Checks the options and prepares a replay.</summary>
    public CbifyReplay(CbifyReplayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
    }

    /// <summary>The settings.</summary>
    public CbifyReplayOptions Options { get; }

    /// <summary>The learner of the last run, for inspection after it.</summary>
    public BanditLearner? Learner { get; private set; }

    /// <summary>Replays a file (CSV or VW text, plain or gzip); the time includes opening and reading it.</summary>
    public CbifyReplayResult Run(string path, IProgress<ReplayProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var start = Stopwatch.GetTimestamp();
        using var reader = MulticlassReader.Open(path, Options.Classes);
        return Run(reader, start, progress, cancellationToken);
    }

    /// <summary>Replays a stream (CSV or VW text, plain or gzip).</summary>
    public CbifyReplayResult Run(Stream stream, IProgress<ReplayProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var start = Stopwatch.GetTimestamp();
        using var reader = new MulticlassReader(stream, Options.Classes, leaveOpen: true);
        return Run(reader, start, progress, cancellationToken);
    }

    /// <summary>Replays the remaining examples of a reader whose <see cref="MulticlassReader.Classes"/> is K.</summary>
    public CbifyReplayResult Run(MulticlassReader reader, IProgress<ReplayProgress>? progress = null, CancellationToken cancellationToken = default)
        => Run(reader, Stopwatch.GetTimestamp(), progress, cancellationToken);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private CbifyReplayResult Run(MulticlassReader reader, long start, IProgress<ReplayProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var k = Options.Classes;
        if (reader.Classes != k)
        {
            throw new ArgumentException($"the reader checks labels against K = {reader.Classes}, not {k}", nameof(reader));
        }
        var exploration = Options.Exploration;
        var seed = Options.Seed;
        var learner = BanditLearner.For(Options.Learner, exploration, seed);
        Learner = learner;
        var featurizer = new Featurizer(Options.Learner);
        var context = new HashedFeatureSet();
        context.Add(new HashedNamespace(reader.Features.Name, 64));
        var actions = new HashedFeatureSet[k];
        for (var a = 0; a < k; a++)
        {
            actions[a] = new HashedFeatureSet();
            actions[a].Add(HashedFeatureSet.ActionId((a + 1).ToString(CultureInfo.InvariantCulture)));
        }
        var features = new FeatureVector();
        var costs = new float[k];
        var bagCosts = new float[k * learner.Bags];
        var pmf = new double[k];

        long n = 0;
        double paid = 0, greedy = 0;
        var lastReport = start;
        var reportTicks = (long)(ReportInterval * Stopwatch.Frequency);
        using var pipeline = new RowPipeline(reader, cancellationToken);
        long bytesRead = 0;
        while (pipeline.Next(cancellationToken) is { } batch)
        {
            for (var row = 0; row < batch.Count; row++)
            {
                // The context namespace is refilled from the batch: the reader's own buffer belongs to the parser thread.
                var ns = context[0];
                ns.Clear();
                for (var f = batch.Offsets[row]; f < batch.Offsets[row + 1]; f++)
                {
                    ns.Add(batch.Hashes[f], batch.Values[f]);
                }
                featurizer.SetContext(context);
                features.Clear();
                for (var a = 0; a < k; a++)
                {
                    featurizer.AddAction(actions[a], features);
                }
                learner.Predict(features, costs, bagCosts);
                Exploration.Distribution(exploration, costs, learner.Examples, pmf, bagCosts);
                var chosen = Exploration.Sample(pmf, Exploration.UniformFor(seed, n));
                var label = batch.Labels[row] - 1;
                var cost = chosen == label ? 0f : 1f;
                paid += cost;
                greedy += GreedyCost(costs, label);
                learner.Learn(features, chosen, cost, pmf[chosen]);
                n++;
            }
            bytesRead = batch.BytesRead;
            var error = batch.Error;
            pipeline.Return(batch);
            error?.Throw();
            cancellationToken.ThrowIfCancellationRequested();
            if (progress is not null)
            {
                var now = Stopwatch.GetTimestamp();
                if (now - lastReport >= reportTicks)
                {
                    lastReport = now;
                    progress.Report(new ReplayProgress(n, bytesRead, reader.TotalBytes));
                }
            }
        }
        if (n == 0)
        {
            throw new ReplayDataException(Math.Max(1, reader.LineNumber), "the file holds no examples");
        }
        progress?.Report(new ReplayProgress(n, bytesRead, reader.TotalBytes));
        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return new CbifyReplayResult(n, paid / n, greedy / n, seconds, reader.Format, reader.IsCompressed);
    }

    /// <summary>The expected cost of the lowest-cost action with ties split evenly: the fraction of tied actions that are wrong.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static double GreedyCost(ReadOnlySpan<float> costs, int label)
    {
        var best = costs[0];
        for (var a = 1; a < costs.Length; a++)
        {
            if (costs[a] < best)
            {
                best = costs[a];
            }
        }
        var ties = 0;
        for (var a = 0; a < costs.Length; a++)
        {
            if (costs[a] == best)
            {
                ties++;
            }
        }
        return costs[label] == best ? (ties - 1) / (double)ties : 1.0;
    }
}

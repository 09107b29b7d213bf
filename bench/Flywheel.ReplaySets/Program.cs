using System.Diagnostics;
using System.Globalization;
using Flywheel.Core;
using Flywheel.Learning.Replay;
using Flywheel.ReplaySets;

// usage: Flywheel.ReplaySets [folder=replay-sets] [seeds=6]
// Writes the ten sets into the folder (when missing), then replays each with every setting over seeds 1..N (small sets
// get at least 10) and prints markdown tables of mean progressive losses.
var folder = args.Length > 0 ? args[0] : "replay-sets";
var seeds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 6;
Directory.CreateDirectory(folder);

var mtr = new (string Name, ExplorationConfig Exploration)[]
{
    ("eps_adf", new ExplorationConfig { Algorithm = ExplorationAlgorithm.EpsilonGreedy, Epsilon = 0.05 }),
    ("softmax_adf", new ExplorationConfig { Algorithm = ExplorationAlgorithm.Softmax, Lambda = 10 }),
    ("squarecb_adf", new ExplorationConfig { Algorithm = ExplorationAlgorithm.SquareCb }),
    ("bag5_adf", new ExplorationConfig { Algorithm = ExplorationAlgorithm.Bag, Bags = 5 }),
};

var clock = Stopwatch.StartNew();
Console.WriteLine($"| set | K | rows | shape |");
Console.WriteLine($"|---|---|---|---|");
var rows = new Dictionary<string, int>();
foreach (var set in ReplaySet.All)
{
    var path = Path.Combine(folder, set.FileName);
    rows[set.Name] = File.Exists(path) ? File.ReadLines(path).Count() - 1 : set.Write(folder);
    Console.WriteLine($"| {set.Name} | {set.Classes} | {rows[set.Name]:N0} | {set.Shape} |");
}

double Mean(ReplaySet set, LearnerConfig learner, ExplorationConfig exploration)
{
    var runs = rows[set.Name] < 1000 ? Math.Max(seeds, 10) : seeds;
    var losses = new double[runs];
    Parallel.For(0, runs, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
    {
        var options = new CbifyReplayOptions { Classes = set.Classes, Learner = learner, Exploration = exploration, Seed = (ulong)(i + 1) };
        losses[i] = new CbifyReplay(options).Run(Path.Combine(folder, set.FileName)).ProgressiveLoss;
    });
    return losses.Average();
}

var defaults = new List<string>();
var likeWithLike = new List<string>();
var wins = 0;
foreach (var set in ReplaySet.All)
{
    var flywheel = Mean(set, new LearnerConfig(), new ExplorationConfig());
    var cells = new List<string>();
    var best = (Name: "", Loss: double.MaxValue);
    foreach (var (name, exploration) in mtr)
    {
        var ours = Mean(set, new LearnerConfig { Reduction = Reduction.Mtr }, exploration);
        var reference = Mean(set, new LearnerConfig { Reduction = Reduction.Mtr, LearningRate = 0.5 }, exploration);
        cells.Add(FormattableString.Invariant($"{ours:F4} / {reference:F4}"));
        if (reference < best.Loss)
        {
            best = (name, reference);
        }
    }
    wins += flywheel < best.Loss ? 1 : 0;
    defaults.Add(FormattableString.Invariant($"| {set.Name} | {flywheel:F4} | {best.Loss:F4} ({best.Name}) | {best.Loss - flywheel:+0.0000;-0.0000} |"));
    likeWithLike.Add($"| {set.Name} | {string.Join(" | ", cells)} |");
}

Console.WriteLine();
Console.WriteLine($"Flywheel's defaults against the best mtr setting at VW's learning rate 0.5 (mean progressive loss, seeds 1..{seeds}; sets under 1,000 rows: 1..{Math.Max(seeds, 10)}):");
Console.WriteLine();
Console.WriteLine("| set | Flywheel defaults | best reference (setting) | margin |");
Console.WriteLine("|---|---|---|---|");
defaults.ForEach(Console.WriteLine);
Console.WriteLine();
Console.WriteLine($"defaults below the best reference on {wins} of {ReplaySet.All.Count} sets");
Console.WriteLine();
Console.WriteLine("Like with like: Flywheel's mtr at its default rate / at VW's rate 0.5:");
Console.WriteLine();
Console.WriteLine($"| set | {string.Join(" | ", mtr.Select(m => m.Name))} |");
Console.WriteLine($"|---|{string.Concat(mtr.Select(_ => "---|"))}");
likeWithLike.ForEach(Console.WriteLine);
Console.WriteLine();
Console.WriteLine(FormattableString.Invariant($"{clock.Elapsed.TotalSeconds:F0} s on {Environment.ProcessorCount} cores"));

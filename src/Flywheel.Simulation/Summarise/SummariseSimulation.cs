using Flywheel.Core;

namespace Flywheel.Simulation.Summarise;

/// <summary>
/// The summarise scenario (<c>flywheel simulate summarise</c>, docs/summarise-simulation.md): users with hidden
/// preferences ask for summaries, a generation loop picks the prompt variant, a deterministic fake chat client writes
/// the summary, and users keep, copy, edit or regenerate it. The learning loop and a frozen twin (the no-learning
/// baseline) each run on their own engine and store on a fake clock, over the same users, requests and dice.
/// </summary>
public static class SummariseSimulation
{
    /// <summary>The scenario's name on the command line.</summary>
    public const string Name = "summarise";

    /// <summary>The loop's id.</summary>
    public const string LoopId = "summarise";

    /// <summary>What the scenario is and what should happen in it.</summary>
    public const string Description =
        "Users ask for summaries of documents and prefer a length, a tone and a format that their role, device and task partly reveal. "
        + "A generation loop picks one of 8 prompt variants; a deterministic fake chat client writes the summary; users keep it when it is close "
        + "to what they would have written, rewrite it into their own text, or regenerate it when it is far off. The loop should learn which "
        + "variant suits which context, so users edit less and keep more than under the frozen baseline, which serves variants uniformly.";

    /// <summary>The arms in the order the figures list them: the loop, then the baseline.</summary>
    public static IReadOnlyList<SummarisePolicy> Policies { get; } = [SummarisePolicy.Loop, SummarisePolicy.Baseline];

    /// <summary>
    /// The generation loop the product declares: <c>kept</c> and <c>copied</c> +1, <c>edited</c> −1 times the edit's
    /// normalised distance (the engine measures it from the user's text), <c>regenerated</c> −1, each closing the
    /// decision's window; the sum clamped to [−1, 1], 0 for a decision with no reaction within the hour. The baseline is
    /// the same loop, <c>frozen</c>.
    /// </summary>
    public static LoopConfig Loop(SummarisePolicy policy) => new()
    {
        Id = LoopId,
        Kind = LoopKind.Choose,
        Mode = policy == SummarisePolicy.Baseline ? LoopMode.Frozen : LoopMode.Online,
        Generation = new GenerationConfig { StoreText = true },
        Signals = new Dictionary<string, SignalTypeConfig>
        {
            [GenerationConfig.KeptSignal] = new() { Kind = SignalKind.Implicit, Weight = 1, ClosesWindow = true },
            [GenerationConfig.CopiedSignal] = new() { Kind = SignalKind.Implicit, Weight = 1, ClosesWindow = true },
            [GenerationConfig.EditedSignal] = new() { Kind = SignalKind.Explicit, Weight = -1, ClosesWindow = true },
            [GenerationConfig.RegeneratedSignal] = new() { Kind = SignalKind.Implicit, Weight = -1, ClosesWindow = true },
        },
        Reward = new RewardConfig { WindowSeconds = 3600, Aggregate = RewardAggregate.Sum, Min = -1, Max = 1, Default = 0 },
    };

    /// <summary>The wire name of <paramref name="policy"/>: <c>loop</c> or <c>baseline</c>.</summary>
    public static string PolicyName(SummarisePolicy policy) => policy == SummarisePolicy.Loop ? "loop" : "baseline";

    /// <summary>Runs the scenario: both arms over the same users and requests, in parallel. Progress counts arm-days.</summary>
    public static async Task<SummariseResult> RunAsync(SummariseOptions options, IProgress<SimulationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var world = new SummariseWorld(options.World, options.Users, options.Days, options.Seed);
        Directory.CreateDirectory(options.DataDirectory);
        foreach (var policy in Policies)
        {
            ProductRunner.ClearStore(Path.Combine(options.DataDirectory, PolicyName(policy)));
        }
        var total = (long)Policies.Count * options.Days;
        long done = 0;
        void OnDay() => progress?.Report(new SimulationProgress(Interlocked.Increment(ref done), total));

        // One arm's failure stops the other rather than letting it run out its days.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var runs = Policies.Select(policy => Task.Run(async () =>
        {
            try
            {
                return await new SummariseRunner(world, policy, options).RunAsync(OnDay, stop.Token).ConfigureAwait(false);
            }
            catch
            {
                await stop.CancelAsync().ConfigureAwait(false);
                throw;
            }
        }, stop.Token)).ToArray();
        var arms = await Task.WhenAll(runs).ConfigureAwait(false);
        return new SummariseResult { Options = options, World = world, Arms = arms, Truth = Truth(world) };
    }

    /// <summary>
    /// What only a simulator knows, per request: the edit distance every variant's output would have left from the user's
    /// own text, in the order of <see cref="SummariseWorld.Variants"/>.
    /// </summary>
    public static double[][] Truth(SummariseWorld world)
    {
        ArgumentNullException.ThrowIfNull(world);
        var truth = new double[world.Requests.Count][];
        Parallel.For(0, truth.Length, i =>
        {
            var request = world.Requests[i];
            var document = world.Document(i);
            var ideal = world.Ideal(request, document);
            truth[i] = [.. SummariseWorld.Variants.Select(v => EditDistance.Normalized(SummaryRenderer.Render(document, v), ideal))];
        });
        return truth;
    }
}

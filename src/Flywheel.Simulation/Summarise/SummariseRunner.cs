using System.Globalization;
using Flywheel.Core;
using Flywheel.Engine;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Flywheel.Simulation.Summarise;

/// <summary>
/// Runs one arm of the summarise scenario day by day on its own engine (SQLite store on disk, fake clock): each request
/// is decided, the chosen variant's prompt goes to <see cref="SummariserChatClient"/>, the output is recorded with its
/// prompt, and the user's reaction goes back as a signal (<c>kept</c>, <c>copied</c>, <c>edited</c> with the user's text,
/// or <c>regenerated</c>, followed by a new decision whose output names the old one in <c>replaces</c>).
/// </summary>
/// <remarks>
/// Reproducible as <see cref="Search.SearchRunner"/> is: a day's requests are served in waves of <see cref="Wave"/> at one
/// simulated moment each, from 08:00. Before each wave the clock moves on and the engine is flushed, so every reaction of
/// the wave before (each closes its decision's window) is learned and published; within a wave the clock stands still
/// and each round's calls (decisions, then outputs, then signals) are issued from one thread in a fixed order. A
/// regeneration is a further round of the same wave, offering the variants the request has not tried yet.
/// </remarks>
internal sealed class SummariseRunner(SummariseWorld world, SummarisePolicy policy, SummariseOptions options)
{
    /// <summary>Requests decided at one simulated moment.</summary>
    public const int Wave = 25;

    /// <summary>The first wave of a day starts at 08:00 UTC.</summary>
    public const int FirstHour = 8;

    private readonly FakeTimeProvider _time = new(SimulationCalendar.Start);
    private readonly EngineErrors _errors = new();
    private readonly List<SummaryGeneration> _generations = [];
    private readonly SummariserChatClient _client = new();
    private long _explored;

    public string DataDirectory { get; } = Path.Combine(options.DataDirectory, SummariseSimulation.PolicyName(policy));

    /// <summary>Seconds between waves: the day's waves spread over 14 hours, 1 to 5 minutes apart.</summary>
    public static int WaveSeconds(int requests) => Math.Clamp(14 * 3600 / Math.Max(1, (requests + Wave - 1) / Wave), 60, 300);

    public async Task<SummariseArmResult> RunAsync(Action onDay, CancellationToken cancellationToken)
    {
        var loop = SummariseSimulation.Loop(policy);
        Directory.CreateDirectory(DataDirectory);
        var engineOptions = new FlywheelOptions
        {
            ScheduleTurns = false,
            JoinInterval = TimeSpan.FromSeconds(10),
            // Shorter than the gap between waves: each wave sees a model that has learned every reaction before it.
            PublishInterval = TimeSpan.FromSeconds(30),
            SnapshotInterval = TimeSpan.FromDays(1),
            SnapshotEveryExamples = 1_000_000,
            ExplorationSeed = SimRandom.Fork(options.Seed, "summarise-exploration").NextUInt64(),
        }.UseSqlite(DataDirectory);
        var engine = await FlywheelEngine.OpenAsync(engineOptions, _time, _errors, cancellationToken).ConfigureAwait(false);
        int version;
        try
        {
            await engine.PutLoopAsync(loop, cancellationToken).ConfigureAwait(false);
            for (var day = 1; day <= options.Days; day++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var requests = world.Day(day);
                var gap = WaveSeconds(requests.Count);
                for (var first = 0; first < requests.Count; first += Wave)
                {
                    SetTime(SimulationCalendar.DateOf(day).AddHours(FirstHour).AddSeconds((double)first / Wave * gap));
                    await engine.FlushAsync(cancellationToken).ConfigureAwait(false);
                    await RunWaveAsync(engine, requests.Slice(first, Math.Min(Wave, requests.Count - first)), cancellationToken).ConfigureAwait(false);
                    _errors.ThrowIfAny(SummariseSimulation.PolicyName(policy));
                }
                onDay();
            }
            // Every window closes and is learned before the model is read.
            SetTime(SimulationCalendar.DateOf(options.Days + 1).AddHours(FirstHour));
            await engine.FlushAsync(cancellationToken).ConfigureAwait(false);
            _errors.ThrowIfAny(SummariseSimulation.PolicyName(policy));
            version = (await engine.ListModelsAsync(SummariseSimulation.LoopId, cancellationToken).ConfigureAwait(false)).Single(m => m.Status == ModelStatus.Champion).Version;
        }
        finally
        {
            await engine.DisposeAsync().ConfigureAwait(false);
        }
        return new SummariseArmResult
        {
            Policy = policy,
            Loop = loop,
            DataDirectory = DataDirectory,
            Generations = _generations,
            Explored = _explored,
            ModelVersion = version,
        };
    }

    /// <summary>One wave: a round of decisions, outputs and reactions, then a round for each regeneration asked for.</summary>
    private async Task RunWaveAsync(FlywheelEngine engine, ArraySegment<SummaryRequest> requests, CancellationToken cancellationToken)
    {
        var open = requests.Select(r =>
        {
            var document = world.Document(r.Index);
            return new Pending(r, document, world.Ideal(r, document), world.Dice(r.Index));
        }).ToList();
        while (open.Count > 0)
        {
            var decisions = new ValueTask<Decision>[open.Count];
            for (var i = 0; i < open.Count; i++)
            {
                var p = open[i];
                var request = new DecideRequest
                {
                    DecisionId = p.DecisionId,
                    UserId = SummariseWorld.UserId(p.Request.User),
                    Context = world.Context(p.Request),
                    Actions = [.. Enumerable.Range(0, SummariseWorld.Variants.Count).Where(v => !p.Tried.Contains(v)).Select(world.Action)],
                };
                decisions[i] = engine.DecideAsync(SummariseSimulation.LoopId, request, cancellationToken);
            }
            var texts = new string[open.Count];
            var outputs = new ValueTask<OutputResult>[open.Count];
            for (var i = 0; i < open.Count; i++)
            {
                var p = open[i];
                var decision = await decisions[i].ConfigureAwait(false);
                p.Variant = SummariseWorld.VariantOf(decision.ChosenActionId);
                p.Explored = decision.Explored;
                _explored += decision.Explored ? 1 : 0;
                PromptMessage[] prompt = [new("system", SummariseWorld.Variants[p.Variant].SystemPrompt), new("user", p.Document)];
                var response = await _client.GetResponseAsync([.. prompt.Select(m => new ChatMessage(m.Role == "system" ? ChatRole.System : ChatRole.User, m.Content))], cancellationToken: cancellationToken).ConfigureAwait(false);
                texts[i] = response.Text;
                outputs[i] = engine.RecordOutputAsync(SummariseSimulation.LoopId, p.DecisionId, new OutputInput { Text = texts[i], Messages = prompt, Replaces = p.Replaces }, cancellationToken);
            }
            for (var i = 0; i < open.Count; i++)
            {
                if ((await outputs[i].ConfigureAwait(false)).Duplicate)
                {
                    throw new InvalidOperationException($"arm {SummariseSimulation.PolicyName(policy)}: decision {open[i].DecisionId} already had an output");
                }
            }
            var signals = new List<SignalInput>(open.Count);
            var next = new List<Pending>();
            for (var i = 0; i < open.Count; i++)
            {
                var p = open[i];
                var reaction = world.React(p.Request, p.Ideal, texts[i], p.Attempt, p.Dice);
                _generations.Add(new SummaryGeneration(p.Request.Index, p.Attempt, p.Request.Day, p.Variant, p.Explored, reaction.Outcome, reaction.Distance));
                var type = reaction.Outcome switch
                {
                    SummaryOutcome.Kept => GenerationConfig.KeptSignal,
                    SummaryOutcome.Copied => GenerationConfig.CopiedSignal,
                    SummaryOutcome.Edited => GenerationConfig.EditedSignal,
                    _ => GenerationConfig.RegeneratedSignal,
                };
                // The edit carries the user's text and no value: the engine measures it against the stored output.
                signals.Add(new SignalInput { SignalId = p.DecisionId + "-" + type, DecisionId = p.DecisionId, Type = type, Text = reaction.FinalText });
                if (reaction.Outcome == SummaryOutcome.Regenerated)
                {
                    next.Add(p.Regenerate());
                }
            }
            var recorded = await engine.RecordSignalsAsync(SummariseSimulation.LoopId, signals, cancellationToken).ConfigureAwait(false);
            if (recorded.Accepted != signals.Count || recorded.Late + recorded.Orphaned > 0)
            {
                // Every signal names a decision of this wave, inside its window: anything else is a bug in the run.
                throw new InvalidOperationException($"arm {SummariseSimulation.PolicyName(policy)}: {recorded.Accepted} of {signals.Count} signals accepted ({recorded.Duplicates} duplicate, {recorded.Orphaned} orphaned, {recorded.Late} late)");
            }
            open = next;
        }
    }

    private void SetTime(DateTimeOffset at)
    {
        if (at > _time.GetUtcNow())
        {
            _time.SetUtcNow(at);
        }
    }

    /// <summary>A request waiting for its next output.</summary>
    private sealed class Pending(SummaryRequest request, string document, string ideal, SimRandom dice)
    {
        public SummaryRequest Request { get; } = request;

        public string Document { get; } = document;

        public string Ideal { get; } = ideal;

        public SimRandom Dice { get; } = dice;

        public int Attempt { get; private init; }

        public HashSet<int> Tried { get; private init; } = [];

        public string? Replaces { get; private init; }

        public int Variant { get; set; } = -1;

        public bool Explored { get; set; }

        public string DecisionId => "g" + Request.Index.ToString(CultureInfo.InvariantCulture) + "-" + Attempt.ToString(CultureInfo.InvariantCulture);

        /// <summary>The request's next attempt, offering the variants not yet tried and naming this output as the one it replaces.</summary>
        public Pending Regenerate() => new(Request, Document, Ideal, Dice)
        {
            Attempt = Attempt + 1,
            Tried = [.. Tried, Variant],
            Replaces = DecisionId,
        };
    }
}

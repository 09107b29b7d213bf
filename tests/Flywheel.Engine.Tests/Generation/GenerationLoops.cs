using Flywheel.Core;
using Microsoft.Extensions.Time.Testing;

namespace Flywheel.Engine.Tests;

/// <summary>The summariser loop of the generation tests, and an engine over SQLite in a temporary folder on a fake clock.</summary>
internal sealed class GenerationRig : IAsyncDisposable
{
    public const string Loop = "summarize";

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "flywheel-generation-tests", Guid.NewGuid().ToString("N"));

    public FakeTimeProvider Time { get; } = new(TestEngine.Start);

    public FlywheelEngine Engine { get; set; } = null!;

    public string Directory => _directory;

    public static async Task<GenerationRig> StartAsync(LoopConfig? loop = null, Action<FlywheelOptions>? configure = null)
    {
        var rig = new GenerationRig();
        rig.Engine = await TestEngine.OpenAsync(rig._directory, rig.Time, configure);
        await rig.Engine.PutLoopAsync(loop ?? SummarizeLoop());
        return rig;
    }

    public static LoopConfig SummarizeLoop(string id = Loop, bool storeText = true, int maxChars = 65_536) => new()
    {
        Id = id,
        Generation = new GenerationConfig { StoreText = storeText, MaxChars = maxChars },
        Signals = new Dictionary<string, SignalTypeConfig>
        {
            ["kept"] = new() { Kind = SignalKind.Implicit, Weight = 1, ClosesWindow = true },
            ["copied"] = new() { Kind = SignalKind.Implicit, Weight = 0.5 },
            ["edited"] = new() { Kind = SignalKind.Explicit, Weight = -1, ClosesWindow = true },
            ["regenerated"] = new() { Kind = SignalKind.Implicit, Weight = -1, ClosesWindow = true },
            ["thumbs_up"] = new() { Kind = SignalKind.Explicit, Weight = 1 },
        },
        Reward = new RewardConfig { WindowSeconds = 3600, Aggregate = RewardAggregate.Sum, Min = -1, Max = 1 },
    };

    public static readonly PromptMessage[] Prompt = [new("system", "Summarise in one sentence."), new("user", "A long article about rivers.")];

    /// <summary>A decision offered one variant only, so the test knows which one it served.</summary>
    public Task<Decision> DecideAsync(string decisionId, string variant = "terse", string user = "u-1", string loop = Loop)
        => Engine.DecideAsync(loop, new DecideRequest
        {
            DecisionId = decisionId,
            UserId = user,
            Context = new Features { ["doc"] = { ["words"] = 900 } },
            Actions = [new ActionCandidate(variant, new Features { ["variant"] = { ["name"] = variant } })],
        }).AsTask();

    public async Task<OutputResult> OutputAsync(string decisionId, string text, string? replaces = null, IReadOnlyList<PromptMessage>? prompt = null, string loop = Loop)
        => await Engine.RecordOutputAsync(loop, decisionId, new OutputInput { Text = text, Messages = prompt ?? Prompt, Replaces = replaces });

    public async Task SignalAsync(string decisionId, string type, string? text = null, double? value = null, string loop = Loop)
        => await Engine.RecordSignalsAsync(loop, [new SignalInput { DecisionId = decisionId, Type = type, Text = text, Value = value }]);

    /// <summary>Lets every open window close and the rewards be written.</summary>
    public async Task CloseWindowsAsync()
    {
        Time.Advance(TimeSpan.FromHours(2));
        await Engine.FlushAsync();
    }

    public async Task<List<TrainingExample>> ExportAsync(TrainingExportRequest request, string loop = Loop)
    {
        var examples = new List<TrainingExample>();
        await foreach (var example in Engine.ExportTrainingAsync(loop, request))
        {
            examples.Add(example);
        }
        return examples;
    }

    public async ValueTask DisposeAsync()
    {
        await Engine.DisposeAsync();
        if (System.IO.Directory.Exists(_directory))
        {
            System.IO.Directory.Delete(_directory, recursive: true);
        }
    }
}

namespace Flywheel.LoadTest;

/// <summary>Everything a run depends on, from the command line.</summary>
internal sealed record Settings
{
    public required string Cli { get; init; }
    public required IReadOnlyList<string> Durabilities { get; init; }
    public required IReadOnlyList<int> Rates { get; init; }
    public required TimeSpan DecideWarmup { get; init; }
    public required TimeSpan DecideDuration { get; init; }
    public required IReadOnlyList<int> BatchSizes { get; init; }
    public required TimeSpan SignalWarmup { get; init; }
    public required TimeSpan SignalDuration { get; init; }
    public required int Senders { get; init; }
    public required int Connections { get; init; }
    public required int SignalDecisions { get; init; }
    public required TimeSpan Prewarm { get; init; }
    public required double WindowSeconds { get; init; }
    public required int Seed { get; init; }
    public required bool SignalIds { get; init; }
    public required bool SequentialSignals { get; init; }
    public required bool Json { get; init; }
    public required bool KeepData { get; init; }
    public required TimeSpan RequestTimeout { get; init; }
    public required double TraceSlowMs { get; init; }
}

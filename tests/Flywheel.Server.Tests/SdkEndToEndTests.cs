using Flywheel.Client;
using Flywheel.Core;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace Flywheel.Server.Tests;

/// <summary>The first issue's world, served over HTTP on 127.0.0.1 and driven only through the .NET SDK.</summary>
public sealed class SdkEndToEndTests(ITestOutputHelper output)
{
    /// <summary>Lets <see cref="WorldRunner"/> drive a remote server: decide and signals go through <see cref="FlywheelClient"/>.</summary>
    private sealed class RemoteEngine(FlywheelClient client) : IFlywheelEngine
    {
        public ValueTask<Decision> DecideAsync(string loop, DecideRequest request, CancellationToken cancellationToken = default)
            => new(client.DecideAsync(loop, request, cancellationToken));

        public ValueTask<SignalBatchResult> RecordSignalsAsync(string loop, IReadOnlyList<SignalInput> signals, CancellationToken cancellationToken = default)
            => new(client.SignalAsync(loop, signals, cancellationToken));

        public ValueTask<LoopConfig> PutLoopAsync(LoopConfig config, CancellationToken cancellationToken = default) => new(client.PutLoopAsync(config, cancellationToken));

        public ValueTask<LoopConfig?> GetLoopAsync(string loop, CancellationToken cancellationToken = default) => new(client.GetLoopAsync(loop, cancellationToken));

        public ValueTask<IReadOnlyList<LoopConfig>> ListLoopsAsync(CancellationToken cancellationToken = default) => new(client.ListLoopsAsync(cancellationToken));

        public ValueTask<DecisionAudit?> GetDecisionAsync(string loop, string decisionId, CancellationToken cancellationToken = default) => new(client.GetDecisionAsync(loop, decisionId, cancellationToken));

        // The HTTP API has no counts or flush: learning over HTTP runs behind the requests, as in production.
        public ValueTask<LoopCounts> GetCountsAsync(string loop, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ValueTask FlushAsync(CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public ValueTask<IReadOnlyList<ModelRecord>> ListModelsAsync(string loop, CancellationToken cancellationToken = default) => new(client.ListModelsAsync(loop, cancellationToken));

        public ValueTask<TurnRecord> PromoteAsync(string loop, int version, string? reason = null, CancellationToken cancellationToken = default)
            => new(client.PromoteAsync(loop, version, reason, cancellationToken));

        public ValueTask<TurnRecord> RollbackAsync(string loop, string? reason = null, CancellationToken cancellationToken = default) => new(client.RollbackAsync(loop, reason, cancellationToken));

        public ValueTask<TurnRecord> RunTurnAsync(string loop, CancellationToken cancellationToken = default) => new(client.RunTurnAsync(loop, cancellationToken));

        public ValueTask<IReadOnlyList<TurnRecord>> ListTurnsAsync(string loop, CancellationToken cancellationToken = default) => new(client.ListTurnsAsync(loop, cancellationToken));

        public IAsyncEnumerable<LoggedDecision> ExportAsync(string loop, ExportRequest request, CancellationToken cancellationToken = default) => client.ExportAsync(loop, request, cancellationToken);

        public ValueTask<OutputResult> RecordOutputAsync(string loop, string decisionId, OutputInput output, CancellationToken cancellationToken = default) => new(client.RecordOutputAsync(loop, decisionId, output, cancellationToken));

        // Over HTTP a training export arrives as lines in OpenAI's or TRL's shape, not as the engine's examples.
        public IAsyncEnumerable<TrainingExample> ExportTrainingAsync(string loop, TrainingExportRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ValueTask<EvaluationReport> EvaluateAsync(string loop, EvaluateRequest request, CancellationToken cancellationToken = default) => new(client.EvaluateAsync(loop, request, cancellationToken));

        public ValueTask<ModelRecord> ShadowAsync(string loop, int version, CancellationToken cancellationToken = default) => new(client.ShadowAsync(loop, version, cancellationToken));

        public ValueTask<ModelRecord> RetireAsync(string loop, int version, string? reason = null, CancellationToken cancellationToken = default)
            => new(client.RetireAsync(loop, version, reason, cancellationToken));

        public ValueTask<HealthReport> GetHealthAsync(string loop, CancellationToken cancellationToken = default)
            => new(client.GetHealthAsync(loop, cancellationToken));

        public ValueTask<ErasureResult> EraseUserAsync(string userId, CancellationToken cancellationToken = default)
            => new(client.EraseUserAsync(userId, cancellationToken));

        public ValueTask<PositionBiasReport> GetPositionBiasAsync(string loop, CancellationToken cancellationToken = default)
            => new(client.GetPositionBiasAsync(loop, cancellationToken));

        public ValueTask<LearnerReport> GetLearnerAsync(string loop, string userId, CancellationToken cancellationToken = default)
            => new(client.GetLearnerAsync(loop, userId, cancellationToken));

        public ValueTask<ItemReport> GetItemAsync(string loop, string actionId, CancellationToken cancellationToken = default)
            => new(client.GetItemAsync(loop, actionId, cancellationToken));

        public ValueTask<ReviewList> GetReviewsAsync(string loop, string userId, DateTimeOffset? due = null, CancellationToken cancellationToken = default)
            => new(client.GetReviewsAsync(loop, userId, due, cancellationToken));

        public ValueTask<IReadOnlyList<ErasureRecord>> ListErasuresAsync(CancellationToken cancellationToken = default)
            => new(client.ListErasuresAsync(cancellationToken));

        public ValueTask<ShadowReport> GetShadowReportAsync(string loop, int version, CancellationToken cancellationToken = default)
            => new(client.GetShadowReportAsync(loop, version, cancellationToken));

        public ValueTask<IReadOnlyList<Mismatch>> ListMismatchesAsync(string loop, int? version = null, int limit = 100, CancellationToken cancellationToken = default)
            => new(client.ListMismatchesAsync(loop, version, limit, cancellationToken));

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [Fact]
    public async Task Server_CombinationWorldThroughTheSdk_LearnsAndFrozenStaysAtChance()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero));
        await using var server = await ServerFixture.StartAsync(o => o.TimeProvider = time);
        using var http = new HttpClient { BaseAddress = server.Address };
        var client = new FlywheelClient(http, new FlywheelClientOptions { BaseAddress = server.Address });
        var engine = new RemoteEngine(client);
        await engine.PutLoopAsync(CombinationWorld.Loop("pairs", ["context*action", "context*context*action"]));
        await engine.PutLoopAsync(CombinationWorld.Loop("frozen", ["context*context*action"], LoopMode.Frozen));

        var world = new CombinationWorld(seed: 20261124);
        var runner = new WorldRunner(engine, time, world);
        await runner.RunAsync(["pairs", "frozen"], rounds: 20_000);

        var pairs = runner.Rewards["pairs"].TakeLast(2000).Average();
        var frozen = runner.Rewards["frozen"].TakeLast(2000).Average();
        output.WriteLine($"optimal {world.OptimalReward:F4}, uniform {world.UniformReward:F4}; pairs {pairs:F4} ({pairs / world.OptimalReward:P1}), frozen {frozen:F4}");
        Assert.True(pairs >= 0.9 * world.OptimalReward, $"pairs reached {pairs:F4}, below 90% of {world.OptimalReward:F4}");
        Assert.InRange(frozen, world.UniformReward - 0.05, world.UniformReward + 0.05);

        var audit = await client.GetDecisionAsync("pairs", "d100");
        Assert.NotNull(audit?.Reward);
    }
}

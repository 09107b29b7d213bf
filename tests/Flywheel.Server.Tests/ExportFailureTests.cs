using System.Runtime.CompilerServices;
using Flywheel.Client;
using Flywheel.Core;
using Flywheel.Engine;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Flywheel.Server.Tests;

/// <summary>An export that fails after its answer has started must not look like a complete, shorter export.</summary>
public sealed class ExportFailureTests : IAsyncLifetime
{
    private ServerFixture _server = null!;
    private Uri _address = null!;

    /// <summary>The real engine, except that an export throws after <see cref="FailAfter"/> rows.</summary>
    private sealed class FailingExportEngine(FlywheelEngine inner) : IFlywheelEngine
    {
        public const int FailAfter = 300;

        public async IAsyncEnumerable<LoggedDecision> ExportAsync(string loop, ExportRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            var n = 0;
            await foreach (var row in inner.ExportAsync(loop, request, cancellationToken))
            {
                if (n++ == FailAfter)
                {
                    throw new InvalidOperationException("the store went away");
                }
                yield return row;
            }
        }

        public ValueTask<LoopConfig> PutLoopAsync(LoopConfig config, CancellationToken cancellationToken = default) => inner.PutLoopAsync(config, cancellationToken);

        public ValueTask<LoopConfig?> GetLoopAsync(string loop, CancellationToken cancellationToken = default) => inner.GetLoopAsync(loop, cancellationToken);

        public ValueTask<IReadOnlyList<LoopConfig>> ListLoopsAsync(CancellationToken cancellationToken = default) => inner.ListLoopsAsync(cancellationToken);

        public ValueTask<Decision> DecideAsync(string loop, DecideRequest request, CancellationToken cancellationToken = default) => inner.DecideAsync(loop, request, cancellationToken);

        public ValueTask<SignalBatchResult> RecordSignalsAsync(string loop, IReadOnlyList<SignalInput> signals, CancellationToken cancellationToken = default)
            => inner.RecordSignalsAsync(loop, signals, cancellationToken);

        public ValueTask<DecisionAudit?> GetDecisionAsync(string loop, string decisionId, CancellationToken cancellationToken = default) => inner.GetDecisionAsync(loop, decisionId, cancellationToken);

        public ValueTask<OutputResult> RecordOutputAsync(string loop, string decisionId, OutputInput output, CancellationToken cancellationToken = default) => inner.RecordOutputAsync(loop, decisionId, output, cancellationToken);

        public IAsyncEnumerable<TrainingExample> ExportTrainingAsync(string loop, TrainingExportRequest request, CancellationToken cancellationToken = default) => inner.ExportTrainingAsync(loop, request, cancellationToken);

        public ValueTask<LoopCounts> GetCountsAsync(string loop, CancellationToken cancellationToken = default) => inner.GetCountsAsync(loop, cancellationToken);

        public ValueTask FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);

        public ValueTask<IReadOnlyList<ModelRecord>> ListModelsAsync(string loop, CancellationToken cancellationToken = default) => inner.ListModelsAsync(loop, cancellationToken);

        public ValueTask<TurnRecord> PromoteAsync(string loop, int version, string? reason = null, CancellationToken cancellationToken = default)
            => inner.PromoteAsync(loop, version, reason, cancellationToken);

        public ValueTask<TurnRecord> RollbackAsync(string loop, string? reason = null, CancellationToken cancellationToken = default) => inner.RollbackAsync(loop, reason, cancellationToken);

        public ValueTask<TurnRecord> RunTurnAsync(string loop, CancellationToken cancellationToken = default) => inner.RunTurnAsync(loop, cancellationToken);

        public ValueTask<IReadOnlyList<TurnRecord>> ListTurnsAsync(string loop, CancellationToken cancellationToken = default) => inner.ListTurnsAsync(loop, cancellationToken);

        public ValueTask<EvaluationReport> EvaluateAsync(string loop, EvaluateRequest request, CancellationToken cancellationToken = default) => inner.EvaluateAsync(loop, request, cancellationToken);

        public ValueTask<ModelRecord> ShadowAsync(string loop, int version, CancellationToken cancellationToken = default) => inner.ShadowAsync(loop, version, cancellationToken);

        public ValueTask<ModelRecord> RetireAsync(string loop, int version, string? reason = null, CancellationToken cancellationToken = default)
            => inner.RetireAsync(loop, version, reason, cancellationToken);

        public ValueTask<HealthReport> GetHealthAsync(string loop, CancellationToken cancellationToken = default) => inner.GetHealthAsync(loop, cancellationToken);

        public ValueTask<ErasureResult> EraseUserAsync(string userId, CancellationToken cancellationToken = default) => inner.EraseUserAsync(userId, cancellationToken);

        public ValueTask<PositionBiasReport> GetPositionBiasAsync(string loop, CancellationToken cancellationToken = default) => inner.GetPositionBiasAsync(loop, cancellationToken);
        public ValueTask<LearnerReport> GetLearnerAsync(string loop, string userId, CancellationToken cancellationToken = default) => inner.GetLearnerAsync(loop, userId, cancellationToken);
        public ValueTask<ItemReport> GetItemAsync(string loop, string actionId, CancellationToken cancellationToken = default) => inner.GetItemAsync(loop, actionId, cancellationToken);
        public ValueTask<ReviewList> GetReviewsAsync(string loop, string userId, DateTimeOffset? due = null, CancellationToken cancellationToken = default) => inner.GetReviewsAsync(loop, userId, due, cancellationToken);

        public ValueTask<IReadOnlyList<ErasureRecord>> ListErasuresAsync(CancellationToken cancellationToken = default) => inner.ListErasuresAsync(cancellationToken);

        public ValueTask<ShadowReport> GetShadowReportAsync(string loop, int version, CancellationToken cancellationToken = default) => inner.GetShadowReportAsync(loop, version, cancellationToken);

        public ValueTask<IReadOnlyList<Mismatch>> ListMismatchesAsync(string loop, int? version = null, int limit = 100, CancellationToken cancellationToken = default)
            => inner.ListMismatchesAsync(loop, version, limit, cancellationToken);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    public async Task InitializeAsync()
    {
        _server = await ServerFixture.StartAsync(configureBuilder: b => b.Services.AddSingleton<IFlywheelEngine>(sp => new FailingExportEngine(sp.GetRequiredService<FlywheelEngine>())));
        _address = _server.Address;

        var engine = _server.Services.GetRequiredService<FlywheelEngine>();
        await engine.PutLoopAsync(LoopConfigJson.Parse("""{ "id": "feed", "signals": { "click": { "weight": 1, "closesWindow": true } } }"""));
        for (var i = 0; i < 2 * FailingExportEngine.FailAfter; i++)
        {
            var decision = await engine.DecideAsync("feed", new DecideRequest { DecisionId = $"d{i}", Actions = [new ActionCandidate("a"), new ActionCandidate("b")] });
            await engine.RecordSignalsAsync("feed", [new SignalInput { DecisionId = decision.DecisionId, Type = "click" }]);
        }
        await engine.FlushAsync();
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    // The server ends the connection abruptly (a reset). Depending on timing the reset arrives before or after the
    // client has read the status line, so the caller sees either a failed request or a body that breaks off; never a
    // complete-looking answer.
    [Theory]
    [InlineData("jsonl")]
    [InlineData("vw")]
    public async Task Export_FailsAfterTheAnswerStarted_BreaksTheConnection(string format)
    {
        using var http = new HttpClient { BaseAddress = _address };
        var bytes = 0L;

        var ex = await Record.ExceptionAsync(async () =>
        {
            using var response = await http.GetAsync($"/v1/loops/feed/export?format={format}", HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(200, (int)response.StatusCode);
            Assert.True(response.Headers.TransferEncodingChunked);
            Assert.Null(response.Content.Headers.ContentLength);
            await using var body = await response.Content.ReadAsStreamAsync();
            var buffer = new byte[8192];
            int read;
            while ((read = await body.ReadAsync(buffer)) > 0)
            {
                bytes += read;
            }
        });

        Assert.True(ex is HttpRequestException or IOException, $"the export ended with {ex?.GetType().Name ?? "no error"} after {bytes} bytes");
    }

    [Fact]
    public async Task ClientExport_FailsAfterTheAnswerStarted_Throws()
    {
        using var http = new HttpClient();
        var client = new FlywheelClient(http, new FlywheelClientOptions { BaseAddress = _address, MaxRetries = 1, InitialBackoff = TimeSpan.Zero });
        var rows = 0;

        var ex = await Record.ExceptionAsync(async () =>
        {
            await foreach (var _ in client.ExportAsync("feed", new ExportRequest()))
            {
                rows++;
            }
        });

        // A break after the status line is a FlywheelApiException ("broke off"); a reset before it, a failed request.
        Assert.True(ex is FlywheelApiException { Message: var m } ? m.Contains("broke off", StringComparison.Ordinal) : ex is HttpRequestException,
            $"the export ended with {ex?.GetType().Name ?? "no error"}: {ex?.Message}");
        Assert.InRange(rows, 0, FailingExportEngine.FailAfter);
    }
}

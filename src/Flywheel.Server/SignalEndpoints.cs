namespace Flywheel.Server;

/// <summary>Signal batches.</summary>
internal static class SignalEndpoints
{
    public static void Map(RouteGroupBuilder v1)
    {
        v1.MapPost("/loops/{loop}/signals", SignalsAsync)
            .WithName("RecordSignals").WithSummary("Record a batch of signals durably; idempotent on signalId (a signalId reused for another signal refuses the batch with a 409).")
            .Accepts<SignalBatch>("application/json", "*/*").ProducesProblems(400, 404, 409, 413, 415, 422, 503)
            .RequireFlywheelScope(ApiKeyScopes.Ingest).ProducesProblems(401, 403);
    }

    private static async Task<Accepted<SignalBatchResult>> SignalsAsync(HttpContext http, string loop, IFlywheelEngine engine, IOptions<FlywheelServerOptions> options)
    {
        await Requests.EnsureLoopAsync(engine, loop, http.RequestAborted);
        var batch = await Requests.ReadJsonAsync<SignalBatch>(http, options.Value);
        var signals = batch.Signals ?? throw new FlywheelValidationException("signals", "is required: a list of { \"decisionId\" or \"userId\", \"type\", \"value\"?, \"at\"? }");
        return TypedResults.Accepted((string?)null, await engine.RecordSignalsAsync(loop, signals, http.RequestAborted));
    }
}

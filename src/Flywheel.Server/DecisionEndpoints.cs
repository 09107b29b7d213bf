namespace Flywheel.Server;

/// <summary>Decide, and the audit view of one decision.</summary>
internal static class DecisionEndpoints
{
    public static void Map(RouteGroupBuilder v1)
    {
        v1.MapPost("/loops/{loop}/decide", DecideAsync)
            .WithName("Decide").WithSummary("Score the actions, explore, log the decision durably and return the ranking with probabilities; a decisionId reused with another request is a 409.")
            .Accepts<DecideRequest>("application/json", "*/*").ProducesProblems(400, 404, 409, 413, 415, 422, 503)
            .RequireFlywheelScope(ApiKeyScopes.Decide).ProducesProblems(401, 403);
        v1.MapGet("/loops/{loop}/decisions/{decisionId}", GetDecisionAsync)
            .WithName("GetDecision").WithSummary("One decision with its signals and reward (audit).").ProducesProblems(404)
            .RequireFlywheelScope(ApiKeyScopes.Read).ProducesProblems(401, 403);
        v1.MapPut("/loops/{loop}/decisions/{decisionId}/output", RecordOutputAsync)
            .WithName("RecordOutput").WithSummary("Generation loops: store the text a decision produced and the prompt that produced it, durably; "
                + "the same output again is a duplicate, another output for the same decision a 409.")
            .Accepts<OutputInput>("application/json", "*/*").ProducesProblems(400, 404, 409, 413, 415, 422, 503)
            .RequireFlywheelScope(ApiKeyScopes.Ingest).ProducesProblems(401, 403);
    }

    private static async Task<Ok<OutputResult>> RecordOutputAsync(HttpContext http, string loop, string decisionId, IFlywheelEngine engine, IOptions<FlywheelServerOptions> options)
    {
        await Requests.EnsureLoopAsync(engine, loop, http.RequestAborted);
        var output = await Requests.ReadJsonAsync<OutputInput>(http, options.Value);
        return TypedResults.Ok(await engine.RecordOutputAsync(loop, decisionId, output, http.RequestAborted));
    }

    private static async Task<Ok<Decision>> DecideAsync(HttpContext http, string loop, IFlywheelEngine engine, IOptions<FlywheelServerOptions> options)
    {
        await Requests.EnsureLoopAsync(engine, loop, http.RequestAborted);
        var request = await Requests.ReadJsonAsync<DecideRequest>(http, options.Value);
        return TypedResults.Ok(await engine.DecideAsync(loop, request, http.RequestAborted));
    }

    private static async Task<Ok<DecisionAudit>> GetDecisionAsync(HttpContext http, string loop, string decisionId, IFlywheelEngine engine)
    {
        var audit = await engine.GetDecisionAsync(loop, decisionId, http.RequestAborted)
            ?? throw new FlywheelValidationException("decisionId", $"decision '{decisionId}' does not exist in loop '{loop}'") { Kind = ValidationKind.NotFound };
        return TypedResults.Ok(audit);
    }
}

using Microsoft.Extensions.Hosting;

namespace Flywheel.Server;

/// <summary>The turn ledger, running a turn, and off-policy evaluation (the HTTP API).</summary>
internal static class TurnEndpoints
{
    public static void Map(RouteGroupBuilder v1)
    {
        v1.MapGet("/loops/{loop}/turns", ListTurnsAsync)
            .WithName("ListTurns").WithSummary("The turn ledger, oldest first: turns, manual promotions and rollbacks with their evidence.")
            .ProducesProblems(401, 403, 404)
            .RequireFlywheelScope(ApiKeyScopes.Read);
        v1.MapPost("/loops/{loop}/turns", RunTurnAsync)
            .WithName("RunTurn")
            .WithSummary("Run a turn now (body {} as application/json; train candidates, evaluate them off-policy, promote under the loop's policy) and answer its ledger entry. Not idempotent: each call runs a turn.")
            .Accepts<EmptyRequest>("application/json", "*/*")
            .ProducesProblems(400, 401, 403, 404, 413, 415, 422)
            .RequireFlywheelScope(ApiKeyScopes.Admin);
        v1.MapPost("/loops/{loop}/evaluate", EvaluateAsync)
            .WithName("Evaluate")
            .WithSummary("Off-policy estimates (IPS, SNIPS, DM, DR with intervals) of named policies over rewarded decisions made in [from, to).")
            .Accepts<EvaluateRequest>("application/json", "*/*")
            .ProducesProblems(400, 401, 403, 404, 409, 413, 415, 422)
            .RequireFlywheelScope(ApiKeyScopes.Read);
    }

    private static async Task<Ok<TurnList>> ListTurnsAsync(HttpContext http, string loop, IFlywheelEngine engine)
        => TypedResults.Ok(new TurnList(await engine.ListTurnsAsync(loop, http.RequestAborted)));

    private static async Task<Ok<TurnRecord>> RunTurnAsync(HttpContext http, string loop, IFlywheelEngine engine, IOptions<FlywheelServerOptions> options, IHostApplicationLifetime lifetime)
    {
        await Requests.EnsureLoopAsync(engine, loop, http.RequestAborted);
        await Requests.ReadNoFieldsAsync(http, options.Value);
        // A turn can take a while; once started it runs to its ledger entry even when the caller gives up waiting.
        return TypedResults.Ok(await engine.RunTurnAsync(loop, lifetime.ApplicationStopping));
    }

    private static async Task<Ok<EvaluationReport>> EvaluateAsync(HttpContext http, string loop, IFlywheelEngine engine, IOptions<FlywheelServerOptions> options)
    {
        await Requests.EnsureLoopAsync(engine, loop, http.RequestAborted);
        var request = await Requests.ReadJsonAsync<EvaluateRequest>(http, options.Value);
        return TypedResults.Ok(await engine.EvaluateAsync(loop, request, http.RequestAborted));
    }
}

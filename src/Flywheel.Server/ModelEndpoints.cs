using Microsoft.Extensions.Hosting;

namespace Flywheel.Server;

/// <summary>The model registry: list, promote, roll back (shadow mode is in <see cref="ShadowEndpoints"/>).</summary>
internal static class ModelEndpoints
{
    public static void Map(RouteGroupBuilder v1)
    {
        v1.MapGet("/loops/{loop}/models", ListModelsAsync)
            .WithName("ListModels").WithSummary("The loop's registered models, oldest first, with lineage, status and off-policy estimates.")
            .ProducesProblems(401, 403, 404)
            .RequireFlywheelScope(ApiKeyScopes.Read);
        v1.MapPost("/loops/{loop}/models/{version}/promote", PromoteAsync)
            .WithName("PromoteModel")
            .WithSummary("Make a registered model with stored weights the champion at once; body {} or { \"reason\": \"…\" } (application/json). Answers the ledger entry.")
            .Accepts<ReasonRequest>("application/json", "*/*")
            .ProducesProblems(400, 401, 403, 404, 409, 413, 415, 422)
            .RequireFlywheelScope(ApiKeyScopes.Admin);
        v1.MapPost("/loops/{loop}/rollback", RollbackAsync)
            .WithName("Rollback")
            .WithSummary("Put the champion's predecessor back; body {} or { \"reason\": \"…\" } (application/json). Answers the ledger entry.")
            .Accepts<ReasonRequest>("application/json", "*/*")
            .ProducesProblems(400, 401, 403, 404, 409, 413, 415, 422)
            .RequireFlywheelScope(ApiKeyScopes.Admin);
    }

    private static async Task<Ok<ModelList>> ListModelsAsync(HttpContext http, string loop, IFlywheelEngine engine)
        => TypedResults.Ok(new ModelList(await engine.ListModelsAsync(loop, http.RequestAborted)));

    private static async Task<Ok<TurnRecord>> PromoteAsync(HttpContext http, string loop, string version, IFlywheelEngine engine, IOptions<FlywheelServerOptions> options, IHostApplicationLifetime lifetime)
    {
        await Requests.EnsureLoopAsync(engine, loop, http.RequestAborted);
        var number = Requests.ParseVersion(version);
        var reason = await Requests.ReadReasonAsync(http, options.Value);
        // A promotion that has started finishes even when the caller goes away, so the ledger always records it.
        return TypedResults.Ok(await engine.PromoteAsync(loop, number, reason, lifetime.ApplicationStopping));
    }

    private static async Task<Ok<TurnRecord>> RollbackAsync(HttpContext http, string loop, IFlywheelEngine engine, IOptions<FlywheelServerOptions> options, IHostApplicationLifetime lifetime)
    {
        await Requests.EnsureLoopAsync(engine, loop, http.RequestAborted);
        var reason = await Requests.ReadReasonAsync(http, options.Value);
        return TypedResults.Ok(await engine.RollbackAsync(loop, reason, lifetime.ApplicationStopping));
    }
}

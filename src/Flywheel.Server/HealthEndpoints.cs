namespace Flywheel.Server;

/// <summary>The health report (docs/health.md): is the wheel spinning, and if not, which link is broken.</summary>
internal static class HealthEndpoints
{
    public static void Map(RouteGroupBuilder v1)
    {
        v1.MapGet("/loops/{loop}/health", GetHealthAsync)
            .WithName("GetHealth")
            .WithSummary("The loop's health: capture rate (implicit/explicit), fuel, pipe, loop latency, learning curve with its fit, felt lift of "
                + "learning and of each turn, staleness and drift (PSI, Page-Hinkley), return rates and streaks, each with its definition, window "
                + "and sample size; and the verdict { status, evidence, advice } with status spinning, no-signal, no-pipe, invisible, plateau, "
                + "stale or warming-up.")
            .ProducesProblems(401, 403, 404)
            .RequireFlywheelScope(ApiKeyScopes.Read);
        v1.MapGet("/loops/{loop}/position-bias", GetPositionBiasAsync)
            .WithName("GetPositionBias")
            .WithSummary("A rank loop's position bias: each slot's examination probability relative to slot 1, measured from the loop's shuffled "
                + "decisions (rank.interventionRate), with a 95% interval, the shuffled decisions behind it, and the value the learner weighs that "
                + "slot's rewards by now.")
            .ProducesProblems(401, 403, 404, 422)
            .RequireFlywheelScope(ApiKeyScopes.Read);
    }

    private static async Task<Ok<PositionBiasReport>> GetPositionBiasAsync(HttpContext http, string loop, IFlywheelEngine engine)
    {
        await Requests.EnsureLoopAsync(engine, loop, http.RequestAborted);
        return TypedResults.Ok(await engine.GetPositionBiasAsync(loop, http.RequestAborted));
    }

    private static async Task<Ok<HealthReport>> GetHealthAsync(HttpContext http, string loop, IFlywheelEngine engine)
    {
        await Requests.EnsureLoopAsync(engine, loop, http.RequestAborted);
        return TypedResults.Ok(await engine.GetHealthAsync(loop, http.RequestAborted));
    }
}

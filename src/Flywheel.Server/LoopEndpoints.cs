namespace Flywheel.Server;

/// <summary>Loops: create or update, list, read (docs/loop-config.md).</summary>
internal static class LoopEndpoints
{
    public static void Map(RouteGroupBuilder v1)
    {
        v1.MapPut("/loops/{loop}", PutLoopAsync)
            .WithName("PutLoop").WithSummary("Create or update a loop (docs/loop-config.md).")
            .Accepts<LoopConfig>("application/json", "*/*").ProducesProblems(400, 401, 403, 413, 415, 422)
            .RequireFlywheelScope(ApiKeyScopes.Admin);
        v1.MapGet("/loops", ListLoopsAsync)
            .WithName("ListLoops").WithSummary("List every loop's config.").ProducesProblems(401, 403)
            .RequireFlywheelScope(ApiKeyScopes.Read);
        v1.MapGet("/loops/{loop}", GetLoopAsync)
            .WithName("GetLoop").WithSummary("Read one loop's config.").ProducesProblems(401, 403, 404)
            .RequireFlywheelScope(ApiKeyScopes.Read);
    }

    private static async Task<Ok<LoopConfig>> PutLoopAsync(HttpContext http, string loop, IFlywheelEngine engine, IOptions<FlywheelServerOptions> options)
    {
        var body = await Requests.ReadJsonBytesAsync(http, options.Value);
        var config = LoopConfigJson.Parse(body.WrittenSpan, expectedId: loop);
        return TypedResults.Ok(await engine.PutLoopAsync(config, http.RequestAborted));
    }

    private static async Task<Ok<LoopList>> ListLoopsAsync(HttpContext http, IFlywheelEngine engine)
        => TypedResults.Ok(new LoopList(await engine.ListLoopsAsync(http.RequestAborted)));

    private static async Task<Ok<LoopConfig>> GetLoopAsync(HttpContext http, string loop, IFlywheelEngine engine)
    {
        var config = await engine.GetLoopAsync(loop, http.RequestAborted)
            ?? throw new FlywheelValidationException("loop", $"loop '{loop}' does not exist") { Kind = ValidationKind.NotFound };
        return TypedResults.Ok(config);
    }
}

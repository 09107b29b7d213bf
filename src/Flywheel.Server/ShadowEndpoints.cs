using System.ComponentModel;
using System.Globalization;
using Microsoft.Extensions.Hosting;

namespace Flywheel.Server;

/// <summary>
/// Shadow mode (docs/turns.md): registered models that score every decision without being served, their report and
/// their mismatches.
/// </summary>
internal static class ShadowEndpoints
{
    /// <summary>Mismatches answered when the request sets no <c>limit</c>.</summary>
    internal const int DefaultMismatchLimit = 100;

    /// <summary>Most mismatches one request may ask for.</summary>
    internal const int MaxMismatchLimit = 100_000;

    private static readonly string[] MismatchParameters = ["limit"];

    public static void Map(RouteGroupBuilder v1)
    {
        v1.MapPost("/loops/{loop}/models/{version}/shadow", ShadowAsync)
            .WithName("ShadowModel")
            .WithSummary("Make a registered model with stored weights a shadow: from now on it scores every decision (its choice is recorded "
                + "in the decision's `shadows`) without being served. Body {} (application/json). Answers the model. Idempotent.")
            .Accepts<EmptyRequest>("application/json", "*/*")
            .ProducesProblems(400, 401, 403, 404, 409, 413, 415, 422)
            .RequireFlywheelScope(ApiKeyScopes.Admin);
        v1.MapPost("/loops/{loop}/models/{version}/retire", RetireAsync)
            .WithName("RetireModel")
            .WithSummary("Retire a shadow or a candidate (a shadow stops scoring decisions); body {} or { \"reason\": \"…\" } (application/json). "
                + "Answers the model. Idempotent. The champion cannot be retired: promote another model or roll back.")
            .Accepts<ReasonRequest>("application/json", "*/*")
            .ProducesProblems(400, 401, 403, 404, 409, 413, 415, 422)
            .RequireFlywheelScope(ApiKeyScopes.Admin);
        v1.MapGet("/loops/{loop}/models/{version}/shadow", GetShadowReportAsync)
            .WithName("GetShadowReport")
            .WithSummary("How a shadow compares with what was served on the rewarded decisions it scored: decisions, agreements, agreement rate, "
                + "IPS and SNIPS on live traffic with intervals, the served mean reward and the mismatch count. 409 for the champion when it never ran as a shadow.")
            .ProducesProblems(401, 403, 404, 409, 422)
            .RequireFlywheelScope(ApiKeyScopes.Read);
        v1.MapGet("/loops/{loop}/models/{version}/mismatches", ListModelMismatchesAsync)
            .WithName("ListModelMismatches")
            .WithSummary("The latest mismatches of one shadow, oldest first: rewarded decisions where it disagreed with what was served and "
                + "the reward shows one side was clearly wrong. { \"mismatches\": [...] }")
            .ProducesProblems(401, 403, 404, 422)
            .RequireFlywheelScope(ApiKeyScopes.Read);
        v1.MapGet("/loops/{loop}/mismatches", ListLoopMismatchesAsync)
            .WithName("ListMismatches")
            .WithSummary("The latest mismatches of every shadow of the loop, oldest first. { \"mismatches\": [...] }")
            .ProducesProblems(401, 403, 404, 422)
            .RequireFlywheelScope(ApiKeyScopes.Read);
    }

    private static async Task<Ok<ModelRecord>> ShadowAsync(HttpContext http, string loop, string version, IFlywheelEngine engine, IOptions<FlywheelServerOptions> options, IHostApplicationLifetime lifetime)
    {
        await Requests.EnsureLoopAsync(engine, loop, http.RequestAborted);
        var number = Requests.ParseVersion(version);
        await Requests.ReadNoFieldsAsync(http, options.Value);
        // Like a promotion, a started status change finishes even when the caller goes away: the registry and the
        // shadows that score decisions never disagree.
        return TypedResults.Ok(await engine.ShadowAsync(loop, number, lifetime.ApplicationStopping));
    }

    private static async Task<Ok<ModelRecord>> RetireAsync(HttpContext http, string loop, string version, IFlywheelEngine engine, IOptions<FlywheelServerOptions> options, IHostApplicationLifetime lifetime)
    {
        await Requests.EnsureLoopAsync(engine, loop, http.RequestAborted);
        var number = Requests.ParseVersion(version);
        var reason = await Requests.ReadReasonAsync(http, options.Value);
        return TypedResults.Ok(await engine.RetireAsync(loop, number, reason, lifetime.ApplicationStopping));
    }

    private static async Task<Ok<ShadowReport>> GetShadowReportAsync(HttpContext http, string loop, string version, IFlywheelEngine engine)
    {
        await Requests.EnsureLoopAsync(engine, loop, http.RequestAborted);
        var number = Requests.ParseVersion(version);
        return TypedResults.Ok(await engine.GetShadowReportAsync(loop, number, http.RequestAborted));
    }

    private static async Task<Ok<MismatchList>> ListModelMismatchesAsync(
        HttpContext http,
        string loop,
        string version,
        IFlywheelEngine engine,
        [Description("How many of the latest mismatches to answer, 1 to 100000 (default 100).")] string? limit)
    {
        await Requests.EnsureLoopAsync(engine, loop, http.RequestAborted);
        var number = Requests.ParseVersion(version);
        return await ListMismatchesAsync(http, engine, loop, number, limit);
    }

    private static async Task<Ok<MismatchList>> ListLoopMismatchesAsync(
        HttpContext http,
        string loop,
        IFlywheelEngine engine,
        [Description("How many of the latest mismatches to answer, 1 to 100000 (default 100).")] string? limit)
    {
        await Requests.EnsureLoopAsync(engine, loop, http.RequestAborted);
        return await ListMismatchesAsync(http, engine, loop, null, limit);
    }

    private static async Task<Ok<MismatchList>> ListMismatchesAsync(HttpContext http, IFlywheelEngine engine, string loop, int? version, string? limit)
    {
        Requests.CheckQuery(http.Request.Query, "mismatches", MismatchParameters);
        var count = ParseLimit(limit);
        return TypedResults.Ok(new MismatchList(await engine.ListMismatchesAsync(loop, version, count, http.RequestAborted)));
    }

    private static int ParseLimit(string? limit)
    {
        if (string.IsNullOrEmpty(limit))
        {
            return DefaultMismatchLimit;
        }
        return int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= MaxMismatchLimit
            ? n
            : throw new FlywheelValidationException("limit", $"'{limit}' is not a whole number from 1 to {MaxMismatchLimit}");
    }
}

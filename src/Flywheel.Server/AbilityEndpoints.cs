using System.ComponentModel;

namespace Flywheel.Server;

/// <summary>An <c>ability</c> loop's learners and items (docs/ability.md): ability, difficulty, streaks and reviews.</summary>
internal static class AbilityEndpoints
{
    private static readonly string[] ReviewParameters = ["due"];

    public static void Map(RouteGroupBuilder v1)
    {
        v1.MapGet("/loops/{loop}/learners/{userId}", GetLearnerAsync)
            .WithName("GetLearner")
            .WithSummary("A learner of an ability loop: ability on the logit scale with its 95% interval, answers, success rate overall and "
                + "recent, streak (current, best, active days, at risk, time zone) and the number of reviews due now.")
            .ProducesProblems(401, 403, 404, 422)
            .RequireFlywheelScope(ApiKeyScopes.Read);
        v1.MapGet("/loops/{loop}/learners/{userId}/reviews", GetReviewsAsync)
            .WithName("GetReviews")
            .WithSummary("The items a learner should review by `due` (default now), least remembered first: each with its due time, "
                + "predicted recall at `due`, FSRS stability and difficulty, last review, reviews and lapses.")
            .ProducesProblems(401, 403, 404, 422)
            .RequireFlywheelScope(ApiKeyScopes.Read);
        v1.MapGet("/loops/{loop}/items/{actionId}", GetItemAsync)
            .WithName("GetItem")
            .WithSummary("An item of an ability loop: difficulty on the logit scale with its 95% interval (for irt loops, also the "
                + "difficulty its features alone predict), first answers and their success rate.")
            .ProducesProblems(401, 403, 404, 422)
            .RequireFlywheelScope(ApiKeyScopes.Read);
    }

    private static async Task<Ok<LearnerReport>> GetLearnerAsync(HttpContext http, string loop, string userId, IFlywheelEngine engine)
    {
        await Requests.EnsureLoopAsync(engine, loop, http.RequestAborted);
        return TypedResults.Ok(await engine.GetLearnerAsync(loop, userId, http.RequestAborted));
    }

    private static async Task<Ok<ReviewList>> GetReviewsAsync(
        HttpContext http,
        string loop,
        string userId,
        IFlywheelEngine engine,
        [Description("List the items due at or before this time, ISO 8601 (default: now).")] string? due)
    {
        await Requests.EnsureLoopAsync(engine, loop, http.RequestAborted);
        Requests.CheckQuery(http.Request.Query, "reviews", ReviewParameters);
        return TypedResults.Ok(await engine.GetReviewsAsync(loop, userId, FlywheelJson.ParseTime(due, "due"), http.RequestAborted));
    }

    private static async Task<Ok<ItemReport>> GetItemAsync(HttpContext http, string loop, string actionId, IFlywheelEngine engine)
    {
        await Requests.EnsureLoopAsync(engine, loop, http.RequestAborted);
        return TypedResults.Ok(await engine.GetItemAsync(loop, actionId, http.RequestAborted));
    }
}

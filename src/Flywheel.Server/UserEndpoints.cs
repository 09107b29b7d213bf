namespace Flywheel.Server;

/// <summary>Erasure (docs/erasure.md): everything stored about one user, in every loop.</summary>
internal static class UserEndpoints
{
    public static void Map(RouteGroupBuilder v1)
    {
        v1.MapDelete("/users/{userId}", EraseAsync)
            .WithName("EraseUser")
            .WithSummary("Erases everything stored about a user in every loop: their decisions with rewards and shadow choices, the signals of "
                + "those decisions and every signal naming the user, and their open reward windows. Answers the audit entry (when and how much; "
                + "the audit trail never holds the user's id). Erasing a user with nothing stored is not an error: the counts are zero.")
            .ProducesProblems(400, 422)
            .RequireFlywheelScope(ApiKeyScopes.Admin).ProducesProblems(401, 403);
        v1.MapGet("/erasures", ListAsync)
            .WithName("ListErasures")
            .WithSummary("The erasure audit trail, oldest first: when each erasure ran and how many decisions, signals and rewards it removed.")
            .RequireFlywheelScope(ApiKeyScopes.Admin).ProducesProblems(401, 403);
    }

    private static async Task<Ok<ErasureResult>> EraseAsync(HttpContext http, string userId, IFlywheelEngine engine)
        => TypedResults.Ok(await engine.EraseUserAsync(userId, http.RequestAborted));

    private static async Task<Ok<ErasureList>> ListAsync(HttpContext http, IFlywheelEngine engine)
        => TypedResults.Ok(new ErasureList(await engine.ListErasuresAsync(http.RequestAborted)));
}

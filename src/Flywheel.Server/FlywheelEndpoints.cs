namespace Flywheel.Server;

/// <summary>
/// The <c>/v1</c> endpoints of DESIGN §5, one small class per area. Each endpoint reads its body strictly through the
/// wire format's contract, calls the engine and answers a typed result, so the OpenAPI document describes every body.
/// </summary>
public static class FlywheelEndpoints
{
    /// <summary>The content type of <c>format=jsonl</c> exports.</summary>
    public const string JsonLinesContentType = ExportEndpoints.JsonLinesContentType;

    /// <summary>The content type of <c>format=vw</c> exports.</summary>
    public const string VwContentType = ExportEndpoints.VwContentType;

    /// <summary>
    /// Maps the loop, decide, signal and audit endpoints, the model registry, shadow mode, the turn ledger, evaluation
    /// and export, plus <c>/healthz</c>.
    /// </summary>
    public static IEndpointRouteBuilder MapFlywheelApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var v1 = endpoints.MapGroup("/v1").WithTags("Flywheel");
        LoopEndpoints.Map(v1);
        DecisionEndpoints.Map(v1);
        SignalEndpoints.Map(v1);
        ModelEndpoints.Map(v1);
        TurnEndpoints.Map(v1);
        ShadowEndpoints.Map(v1);
        ExportEndpoints.Map(v1);
        HealthEndpoints.Map(v1);
        UserEndpoints.Map(v1);

        endpoints.MapGet("/healthz", () => TypedResults.Ok(new HealthStatus("ok"))).WithName("Healthz").WithSummary("Liveness.").AllowWithoutKey();
        return endpoints;
    }
}

/// <summary>The answer of <c>GET /healthz</c>.</summary>
/// <param name="Status">Always <c>ok</c> while the server answers.</param>
public sealed record HealthStatus(string Status);

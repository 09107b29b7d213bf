using Flywheel.Engine;

namespace Flywheel.Server;

/// <summary>
/// The <c>/v1</c> endpoints of the HTTP API, one small class per area. Each endpoint reads its body strictly through the
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
    /// and export, plus <c>/healthz</c> (liveness) and <c>/readyz</c> (readiness: can the store write).
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
        AbilityEndpoints.Map(v1);
        UserEndpoints.Map(v1);

        endpoints.MapGet("/healthz", () => TypedResults.Ok(new HealthStatus("ok"))).WithName("Healthz")
            .WithSummary("Liveness.")
            .WithDescription("200 while the process answers, whatever the state of its store: a restart would not fix a full or "
                + "read-only disk. Whether the store takes writes is `/readyz`.")
            .AllowWithoutKey();
        endpoints.MapGet("/readyz", GetReadinessAsync).WithName("Readyz")
            .WithSummary("Readiness: can the store take writes.")
            .WithDescription("200 while the store takes writes. 503 with `Retry-After` and a problem saying why (type "
                + "`https://flywheel.dev/problems/store-full`, `store-read-only` or `store-io-error`) while the last write failed for the "
                + "disk and none has succeeded since. While ready it touches nothing; while not, each call tries one small write, so it "
                + "turns ready as soon as the disk is fixed.")
            .Produces<ReadinessStatus>(StatusCodes.Status200OK)
            .ProducesProblems(StatusCodes.Status503ServiceUnavailable)
            .AllowWithoutKey();
        return endpoints;
    }

    private static async Task<IResult> GetReadinessAsync(HttpContext http, FlywheelEngine engine)
        => await engine.GetStoreWriteFailureAsync(http.RequestAborted) is { } fault
            ? new StoreFaultResult(fault)
            : TypedResults.Ok(new ReadinessStatus("ready"));

    /// <summary>Not ready: 503, <c>Retry-After</c> and the store's problem.</summary>
    private sealed class StoreFaultResult(FlywheelStoreWriteException fault) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext) => ProblemDetailsWriter.WriteStoreFaultAsync(httpContext, fault, readiness: true);
    }
}

/// <summary>The answer of <c>GET /healthz</c>.</summary>
/// <param name="Status">Always <c>ok</c> while the server answers.</param>
public sealed record HealthStatus(string Status);

/// <summary>The answer of <c>GET /readyz</c> while the store takes writes.</summary>
/// <param name="Status">Always <c>ready</c>; a server that is not ready answers 503 with a problem instead.</param>
public sealed record ReadinessStatus(string Status);

using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using Flywheel.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Flywheel.Server;

// Shadow mode (docs/turns.md): registered models that score every decision without being served, their report and
// their mismatches.
public static partial class FlywheelEndpoints
{
    /// <summary>Mismatches answered when the request sets no <c>limit</c>.</summary>
    internal const int DefaultMismatchLimit = 100;

    /// <summary>Most mismatches one request may ask for.</summary>
    internal const int MaxMismatchLimit = 100_000;

    private static readonly string[] MismatchParameters = ["limit"];

    private static void MapShadows(this RouteGroupBuilder v1)
    {
        v1.MapPost("/loops/{loop}/models/{version}/shadow", ShadowAsync)
            .WithName("ShadowModel")
            .WithSummary("Make a registered model with stored weights a shadow: from now on it scores every decision (its choice is recorded "
                + "in the decision's `shadows`) without being served. Optional empty body. Answers the model. Idempotent.")
            .Accepts<JsonElement>(isOptional: true, "application/json", "*/*")
            .Produces<JsonElement>(200).ProducesProblem(404).ProducesProblem(409).ProducesProblem(422);
        v1.MapPost("/loops/{loop}/models/{version}/retire", RetireAsync)
            .WithName("RetireModel")
            .WithSummary("Retire a shadow or a candidate (a shadow stops scoring decisions); optional body { \"reason\": \"…\" }. "
                + "Answers the model. Idempotent. The champion cannot be retired: promote another model or roll back.")
            .Accepts<JsonElement>(isOptional: true, "application/json", "*/*")
            .Produces<JsonElement>(200).ProducesProblem(404).ProducesProblem(409).ProducesProblem(422);
        v1.MapGet("/loops/{loop}/models/{version}/shadow", GetShadowReportAsync)
            .WithName("GetShadowReport")
            .WithSummary("How a shadow compares with what was served on the rewarded decisions it scored: decisions, agreements, agreement rate, "
                + "IPS and SNIPS on live traffic with intervals, the served mean reward and the mismatch count.")
            .Produces<JsonElement>(200).ProducesProblem(404);
        v1.MapGet("/loops/{loop}/models/{version}/mismatches", ListModelMismatchesAsync)
            .WithName("ListModelMismatches")
            .WithSummary("The latest mismatches of one shadow, oldest first: rewarded decisions where it disagreed with what was served and "
                + "the reward shows one side was clearly wrong. { \"mismatches\": [...] }")
            .Produces<JsonElement>(200).ProducesProblem(404).ProducesProblem(422);
        v1.MapGet("/loops/{loop}/mismatches", ListLoopMismatchesAsync)
            .WithName("ListMismatches")
            .WithSummary("The latest mismatches of every shadow of the loop, oldest first. { \"mismatches\": [...] }")
            .Produces<JsonElement>(200).ProducesProblem(404).ProducesProblem(422);
    }

    private static async Task ShadowAsync(HttpContext http, string loop, string version, IFlywheelEngine engine, IOptions<FlywheelServerOptions> options, IHostApplicationLifetime lifetime)
    {
        await EnsureLoopAsync(engine, loop, http.RequestAborted);
        var number = ParseVersion(version);
        await ReadReasonAsync(http, options.Value, allowReason: false);
        // Like a promotion, a started status change finishes even when the caller goes away: the registry and the
        // shadows that score decisions never disagree.
        var model = await engine.ShadowAsync(loop, number, lifetime.ApplicationStopping);
        await WriteJsonAsync(http, 200, w => FlywheelJson.WriteModel(w, model));
    }

    private static async Task RetireAsync(HttpContext http, string loop, string version, IFlywheelEngine engine, IOptions<FlywheelServerOptions> options, IHostApplicationLifetime lifetime)
    {
        await EnsureLoopAsync(engine, loop, http.RequestAborted);
        var number = ParseVersion(version);
        var reason = await ReadReasonAsync(http, options.Value, allowReason: true);
        var model = await engine.RetireAsync(loop, number, reason, lifetime.ApplicationStopping);
        await WriteJsonAsync(http, 200, w => FlywheelJson.WriteModel(w, model));
    }

    private static async Task GetShadowReportAsync(HttpContext http, string loop, string version, IFlywheelEngine engine)
    {
        await EnsureLoopAsync(engine, loop, http.RequestAborted);
        var number = ParseVersion(version);
        var report = await engine.GetShadowReportAsync(loop, number, http.RequestAborted);
        await WriteJsonAsync(http, 200, w => FlywheelJson.WriteShadowReport(w, report));
    }

    private static async Task ListModelMismatchesAsync(
        HttpContext http,
        string loop,
        string version,
        IFlywheelEngine engine,
        [Description("How many of the latest mismatches to answer, 1 to 100000 (default 100).")] string? limit)
    {
        await EnsureLoopAsync(engine, loop, http.RequestAborted);
        var number = ParseVersion(version);
        await WriteMismatchesAsync(http, engine, loop, number, limit);
    }

    private static async Task ListLoopMismatchesAsync(
        HttpContext http,
        string loop,
        IFlywheelEngine engine,
        [Description("How many of the latest mismatches to answer, 1 to 100000 (default 100).")] string? limit)
    {
        await EnsureLoopAsync(engine, loop, http.RequestAborted);
        await WriteMismatchesAsync(http, engine, loop, null, limit);
    }

    private static async Task WriteMismatchesAsync(HttpContext http, IFlywheelEngine engine, string loop, int? version, string? limit)
    {
        CheckQuery(http.Request.Query, "mismatches", MismatchParameters);
        var count = ParseLimit(limit);
        var mismatches = await engine.ListMismatchesAsync(loop, version, count, http.RequestAborted);
        await WriteJsonAsync(http, 200, w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("mismatches");
            foreach (var m in mismatches)
            {
                FlywheelJson.WriteMismatch(w, m);
            }
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    /// <summary>Reads the <c>{version}</c> of a model path: a positive integer.</summary>
    private static int ParseVersion(string version)
        => int.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number >= 1
            ? number
            : throw new FlywheelValidationException("version", $"'{version}' is not a model version; use a positive integer such as 3");

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

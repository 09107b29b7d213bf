using System.Text.Json;
using Flywheel.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Flywheel.Server;

// The model registry, the turn ledger and off-policy evaluation (DESIGN §5); shadow mode is in FlywheelEndpoints.Shadows.cs.
public static partial class FlywheelEndpoints
{
    /// <summary>Longest <c>reason</c> a promotion or rollback may carry, in characters.</summary>
    internal const int MaxReasonLength = 1_000;

    // Bodies also accept "*/*" so that a wrong content type reaches the handler and gets a problem+json 415 naming
    // Content-Type, rather than the router's bare 415.
    private static void MapRegistryAndTurns(this RouteGroupBuilder v1)
    {
        v1.MapGet("/loops/{loop}/models", ListModelsAsync)
            .WithName("ListModels").WithSummary("The loop's registered models, oldest first, with lineage, status and off-policy estimates.")
            .Produces<JsonElement>(200).ProducesProblem(404);
        v1.MapPost("/loops/{loop}/models/{version}/promote", PromoteAsync)
            .WithName("PromoteModel")
            .WithSummary("Make a registered model with stored weights the champion at once; optional body { \"reason\": \"…\" }. Answers the ledger entry.")
            .Accepts<JsonElement>(isOptional: true, "application/json", "*/*")
            .Produces<JsonElement>(200).ProducesProblem(404).ProducesProblem(409).ProducesProblem(422);
        v1.MapPost("/loops/{loop}/rollback", RollbackAsync)
            .WithName("Rollback")
            .WithSummary("Put the champion's predecessor back; optional body { \"reason\": \"…\" }. Answers the ledger entry.")
            .Accepts<JsonElement>(isOptional: true, "application/json", "*/*")
            .Produces<JsonElement>(200).ProducesProblem(404).ProducesProblem(409).ProducesProblem(422);
        v1.MapGet("/loops/{loop}/turns", ListTurnsAsync)
            .WithName("ListTurns").WithSummary("The turn ledger, oldest first: turns, manual promotions and rollbacks with their evidence.")
            .Produces<JsonElement>(200).ProducesProblem(404);
        v1.MapPost("/loops/{loop}/turns", RunTurnAsync)
            .WithName("RunTurn")
            .WithSummary("Run a turn now (train candidates, evaluate them off-policy, promote under the loop's policy) and answer its ledger entry. Not idempotent: each call runs a turn.")
            .Accepts<JsonElement>(isOptional: true, "application/json", "*/*")
            .Produces<JsonElement>(200).ProducesProblem(404).ProducesProblem(422);
        v1.MapPost("/loops/{loop}/evaluate", EvaluateAsync)
            .WithName("Evaluate")
            .WithSummary("Off-policy estimates (IPS, SNIPS, DM, DR with intervals) of named policies over rewarded decisions made in [from, to).")
            .Accepts<JsonElement>("application/json", "*/*")
            .Produces<JsonElement>(200).ProducesProblem(404).ProducesProblem(409).ProducesProblem(422);
        v1.MapShadows();
        v1.MapExport();
    }

    private static async Task ListModelsAsync(HttpContext http, string loop, IFlywheelEngine engine)
    {
        var models = await engine.ListModelsAsync(loop, http.RequestAborted);
        await WriteJsonAsync(http, 200, w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("models");
            foreach (var model in models)
            {
                FlywheelJson.WriteModel(w, model);
            }
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    private static async Task PromoteAsync(HttpContext http, string loop, string version, IFlywheelEngine engine, IOptions<FlywheelServerOptions> options, IHostApplicationLifetime lifetime)
    {
        await EnsureLoopAsync(engine, loop, http.RequestAborted);
        var number = ParseVersion(version);
        var reason = await ReadReasonAsync(http, options.Value, allowReason: true);
        // A promotion that has started finishes even when the caller goes away, so the ledger always records it.
        var entry = await engine.PromoteAsync(loop, number, reason, lifetime.ApplicationStopping);
        await WriteJsonAsync(http, 200, w => FlywheelJson.WriteTurn(w, entry));
    }

    private static async Task RollbackAsync(HttpContext http, string loop, IFlywheelEngine engine, IOptions<FlywheelServerOptions> options, IHostApplicationLifetime lifetime)
    {
        await EnsureLoopAsync(engine, loop, http.RequestAborted);
        var reason = await ReadReasonAsync(http, options.Value, allowReason: true);
        var entry = await engine.RollbackAsync(loop, reason, lifetime.ApplicationStopping);
        await WriteJsonAsync(http, 200, w => FlywheelJson.WriteTurn(w, entry));
    }

    private static async Task ListTurnsAsync(HttpContext http, string loop, IFlywheelEngine engine)
    {
        var turns = await engine.ListTurnsAsync(loop, http.RequestAborted);
        await WriteJsonAsync(http, 200, w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("turns");
            foreach (var turn in turns)
            {
                FlywheelJson.WriteTurn(w, turn);
            }
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    private static async Task RunTurnAsync(HttpContext http, string loop, IFlywheelEngine engine, IOptions<FlywheelServerOptions> options, IHostApplicationLifetime lifetime)
    {
        await EnsureLoopAsync(engine, loop, http.RequestAborted);
        await ReadReasonAsync(http, options.Value, allowReason: false);
        // A turn can take a while; once started it runs to its ledger entry even when the caller gives up waiting.
        var entry = await engine.RunTurnAsync(loop, lifetime.ApplicationStopping);
        await WriteJsonAsync(http, 200, w => FlywheelJson.WriteTurn(w, entry));
    }

    private static async Task EvaluateAsync(HttpContext http, string loop, IFlywheelEngine engine, IOptions<FlywheelServerOptions> options)
    {
        await EnsureLoopAsync(engine, loop, http.RequestAborted);
        using var doc = await ReadJsonAsync(http, options.Value);
        var request = FlywheelJson.ReadEvaluateRequest(doc.RootElement);
        var report = await engine.EvaluateAsync(loop, request, http.RequestAborted);
        await WriteJsonAsync(http, 200, w => FlywheelJson.WriteEvaluationReport(w, report));
    }

    /// <summary>
    /// Reads the optional body of promote, rollback, run-turn, shadow and retire: none, or a JSON object with an optional
    /// <c>reason</c> (only where <paramref name="allowReason"/>). Unknown fields are refused, naming them.
    /// </summary>
    private static async Task<string?> ReadReasonAsync(HttpContext http, FlywheelServerOptions options, bool allowReason)
    {
        using var doc = await ReadOptionalJsonAsync(http, options);
        if (doc is null)
        {
            return null;
        }
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new FlywheelValidationException("", allowReason
                ? $"the body must be a JSON object such as {{ \"reason\": \"…\" }}, not {Describe(root)}"
                : $"the body must be empty or an empty JSON object, not {Describe(root)}");
        }
        string? reason = null;
        foreach (var property in root.EnumerateObject())
        {
            if (!allowReason || property.Name != "reason")
            {
                throw new FlywheelValidationException(property.Name, allowReason ? "is not a known field; the body takes only \"reason\"" : "is not a known field; the body takes no fields");
            }
            if (reason is not null)
            {
                throw new FlywheelValidationException("reason", "appears twice");
            }
            reason = property.Value.ValueKind switch
            {
                JsonValueKind.String => property.Value.GetString()!,
                JsonValueKind.Null => "",
                _ => throw new FlywheelValidationException("reason", $"must be a string, not {Describe(property.Value)}"),
            };
            if (reason.Length > MaxReasonLength)
            {
                throw new FlywheelValidationException("reason", $"is {reason.Length} characters long; the limit is {MaxReasonLength}") { Kind = ValidationKind.TooLarge };
            }
        }
        return string.IsNullOrWhiteSpace(reason) ? null : reason;
    }

    private static string Describe(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}

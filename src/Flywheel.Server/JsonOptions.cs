using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Flywheel.Core;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.DependencyInjection;

namespace Flywheel.Server;

internal static class JsonOptions
{
    /// <summary>Answers are JSON, never embedded in HTML, so quotes and apostrophes in messages stay readable.</summary>
    public static readonly JsonWriterOptions Writer = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// Makes ASP.NET Core's JSON the wire format: typed results are written, and the OpenAPI document describes
    /// bodies, through the contracts generated for Flywheel's types and the server's own, completed by
    /// <see cref="OpenApiSchemas"/> where a converter hides the shape.
    /// </summary>
    public static IServiceCollection AddFlywheelJson(this IServiceCollection services) => services
        .ConfigureHttpJsonOptions(o =>
        {
            FlywheelJson.Configure(o.SerializerOptions);
            o.SerializerOptions.TypeInfoResolverChain.Insert(1, ServerJsonContext.Default);
            o.SerializerOptions.Encoder = Writer.Encoder;
        })
        .ConfigureAll<OpenApiOptions>(o => o.AddSchemaTransformer<OpenApiSchemas>());
}

/// <summary>The server's own bodies: problems and liveness.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(FlywheelProblem))]
[JsonSerializable(typeof(HealthStatus))]
[JsonSerializable(typeof(ReadinessStatus))]
internal sealed partial class ServerJsonContext : JsonSerializerContext;

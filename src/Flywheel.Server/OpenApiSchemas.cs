using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Flywheel.Core;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Flywheel.Server;

/// <summary>
/// Completes the OpenAPI schemas of the wire format where System.Text.Json cannot see the shape: types read and written
/// by their own converters (enums by their wire names, features, times, numbers that are null when not finite) and
/// types written in the shape of another (<see cref="FlywheelJson.WireShapeOf"/>).
/// </summary>
internal sealed class OpenApiSchemas : IOpenApiSchemaTransformer
{
    private static bool HasOwnConverter(Type type)
        => type == typeof(Features) || FlywheelJson.WireShapeOf(type) is not null || FlywheelJson.EnumNames(Nullable.GetUnderlyingType(type) ?? type) is not null;

    public async Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        var type = Nullable.GetUnderlyingType(context.JsonTypeInfo.Type) ?? context.JsonTypeInfo.Type;
        var nullable = type != context.JsonTypeInfo.Type ? JsonSchemaType.Null : 0;
        if (context.JsonPropertyInfo?.CustomConverter?.Type is { } converted && (converted == typeof(double) || converted == typeof(double?)))
        {
            // NaN and infinities are written as null.
            schema.Type = JsonSchemaType.Number | JsonSchemaType.Null;
            schema.Format = "double";
        }
        else if (type == typeof(DateTimeOffset))
        {
            schema.Type = JsonSchemaType.String | nullable;
            schema.Format = "date-time";
        }
        else if (type.IsEnum && FlywheelJson.EnumNames(type) is { } names)
        {
            schema.Type = JsonSchemaType.String;
            schema.Enum = [.. names.Select(n => (JsonNode)n)];
        }
        else if (type == typeof(Features))
        {
            schema.Type = JsonSchemaType.Object;
            schema.AdditionalProperties = new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Description = "A namespace: feature name → value.",
                AdditionalProperties = new OpenApiSchema
                {
                    Description = "A number (dense), a string (categorical), a boolean (1/0) or an array of strings (one categorical feature each).",
                    AnyOf =
                    [
                        new OpenApiSchema { Type = JsonSchemaType.Number },
                        new OpenApiSchema { Type = JsonSchemaType.String },
                        new OpenApiSchema { Type = JsonSchemaType.Boolean },
                        new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String } },
                    ],
                },
            };
        }
        else if (context.JsonTypeInfo.Kind is JsonTypeInfoKind.Enumerable or JsonTypeInfoKind.Dictionary
            && context.JsonTypeInfo.ElementType is { } element && HasOwnConverter(element))
        {
            // The exporter leaves out the element schema of a type with a converter; this transformer makes it.
            var item = await context.GetOrCreateSchemaAsync(element, null, cancellationToken);
            if (context.JsonTypeInfo.Kind == JsonTypeInfoKind.Enumerable)
            {
                schema.Items ??= item;
            }
            else
            {
                schema.AdditionalProperties ??= item;
            }
        }
        else if (FlywheelJson.WireShapeOf(type) is { } wireType)
        {
            var wire = await context.GetOrCreateSchemaAsync(wireType, null, cancellationToken);
            schema.Type = wire.Type;
            schema.Properties = wire.Properties;
            schema.Required = wire.Required;
            schema.AdditionalProperties = wire.AdditionalProperties;
            schema.AdditionalPropertiesAllowed = wire.AdditionalPropertiesAllowed;
        }

        if (type == typeof(LoopConfig) && schema.Required is { } required && schema.Properties?.TryGetValue("id", out var id) == true)
        {
            // A PUT names the loop in its path, so its body may leave the id out; answers always carry it.
            required.Remove("id");
            if (id is OpenApiSchema idSchema)
            {
                idSchema.Description = "The loop's id. Optional in a PUT body, where the path names the loop; when given it must match.";
            }
        }
    }
}

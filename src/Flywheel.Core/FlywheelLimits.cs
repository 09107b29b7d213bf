namespace Flywheel.Core;

/// <summary>Size limits applied to every decision and signal batch. Violations are <see cref="FlywheelValidationException"/>s.</summary>
public sealed class FlywheelLimits
{
    /// <summary>Most candidate actions in one decision. <value>Default 1,000.</value></summary>
    public int MaxActionsPerDecision { get; set; } = 1_000;

    /// <summary>Most namespaces in one feature object. <value>Default 64.</value></summary>
    public int MaxNamespaces { get; set; } = 64;

    /// <summary>Most features (array elements count one each) in one namespace. <value>Default 1,024.</value></summary>
    public int MaxFeaturesPerNamespace { get; set; } = 1_024;

    /// <summary>Longest string value, feature name or id, in characters. <value>Default 256.</value></summary>
    public int MaxStringLength { get; set; } = 256;

    /// <summary>Most signals in one batch. <value>Default 10,000.</value></summary>
    public int MaxSignalsPerBatch { get; set; } = 10_000;

    /// <summary>The defaults.</summary>
    public static FlywheelLimits Default { get; } = new();

    /// <summary>No limits: for reading back what this engine already validated and stored.</summary>
    public static FlywheelLimits Unlimited { get; } = new()
    {
        MaxActionsPerDecision = int.MaxValue,
        MaxNamespaces = int.MaxValue,
        MaxFeaturesPerNamespace = int.MaxValue,
        MaxStringLength = int.MaxValue,
        MaxSignalsPerBatch = int.MaxValue,
    };

    /// <summary>True when <paramref name="value"/> is a non-empty string within <see cref="MaxStringLength"/>.</summary>
    public bool IsValidString(string? value) => value is { Length: > 0 } && value.Length <= MaxStringLength;

    /// <summary>Throws when <paramref name="value"/> is missing (if required), empty or longer than <see cref="MaxStringLength"/>.</summary>
    public void CheckString(string field, string? value, bool required = true)
    {
        if (value is null)
        {
            if (required)
            {
                throw new FlywheelValidationException(field, "is required");
            }
            return;
        }
        if (value.Length == 0)
        {
            throw new FlywheelValidationException(field, "must not be empty");
        }
        if (value.Length > MaxStringLength)
        {
            throw new FlywheelValidationException(field, $"is {value.Length} characters long; the limit is {MaxStringLength}") { Kind = ValidationKind.TooLarge };
        }
    }
}

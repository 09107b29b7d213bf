namespace Flywheel.Core;

/// <summary>
/// Thrown when input (a loop config, a decide request, a signal) is invalid. <see cref="Field"/> names the offending
/// field as a JSON path such as <c>reward.windowSeconds</c> or <c>actions[3].id</c>, so HTTP and CLI adapters can
/// report it as is.
/// </summary>
public class FlywheelValidationException : Exception
{
    /// <summary>Creates the exception for one offending field.</summary>
    public FlywheelValidationException(string field, string problem)
        : base(string.IsNullOrEmpty(field) ? problem : $"{field}: {problem}")
    {
        Field = field;
        Problem = problem;
    }

    /// <summary>The JSON path of the offending field (empty for the whole document).</summary>
    public string Field { get; }

    /// <summary>What is wrong with it, without the field name.</summary>
    public string Problem { get; }

    /// <summary>The kind of failure, so adapters can map it to a status code.</summary>
    public ValidationKind Kind { get; init; } = ValidationKind.Invalid;
}

/// <summary>Why input was refused.</summary>
public enum ValidationKind
{
    /// <summary>Out of range, of the wrong type, or otherwise not what the contract asks for (HTTP 422).</summary>
    Invalid,
    /// <summary>Refers to something that does not exist, such as an unknown loop (HTTP 404).</summary>
    NotFound,
    /// <summary>Exceeds a configured size limit (HTTP 413).</summary>
    TooLarge,
    /// <summary>Valid, but not supported by this version.</summary>
    NotSupported,
    /// <summary>Valid, but at odds with the current state, such as promoting the champion again (HTTP 409).</summary>
    Conflict,
    /// <summary>Not well-formed JSON at all (HTTP 400).</summary>
    Malformed,
}

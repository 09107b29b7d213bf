using Flywheel.Core;

namespace Flywheel.Client;

/// <summary>An RFC 9457 problem document as the server sent it (<c>application/problem+json</c>).</summary>
/// <param name="Type">A URI naming the kind of problem.</param>
/// <param name="Title">A short summary, such as <c>Invalid request</c>.</param>
/// <param name="Status">The HTTP status code the server put in the document.</param>
/// <param name="Detail">What went wrong, in words.</param>
/// <param name="Field">The JSON path of the offending field, such as <c>actions[3].id</c>, when the server named one.</param>
public sealed record FlywheelProblemDetails(string? Type, string? Title, int? Status, string? Detail, string? Field);

/// <summary>
/// Thrown when the server refuses a call with a status the client does not map to a domain exception (such as 401,
/// 403 or 415), when a retryable status (408, 500, 502, 504) persists after every retry (or, for calls that are not
/// idempotent, occurs once), or when an answer is not in the expected shape or an export stream breaks off. Refusals of the input itself are <see cref="FlywheelApiValidationException"/>s, and
/// persistent overload is a <see cref="FlywheelOverloadedException"/>, as in process.
/// </summary>
public class FlywheelApiException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="statusCode">The HTTP status code of the answer.</param>
    /// <param name="problemDetails">The problem document, when the server sent one.</param>
    /// <param name="message">The message; when null, one is made from the status and the problem.</param>
    /// <param name="innerException">The cause, if any.</param>
    public FlywheelApiException(int statusCode, FlywheelProblemDetails? problemDetails, string? message = null, Exception? innerException = null)
        : base(message ?? Describe(statusCode, problemDetails), innerException)
    {
        StatusCode = statusCode;
        ProblemDetails = problemDetails;
    }

    /// <summary>The HTTP status code of the answer.</summary>
    public int StatusCode { get; }

    /// <summary>The problem document, when the server sent one.</summary>
    public FlywheelProblemDetails? ProblemDetails { get; }

    internal static string Describe(int statusCode, FlywheelProblemDetails? problem)
    {
        var title = problem?.Title is { Length: > 0 } t ? $" {t}" : "";
        var detail = problem?.Detail is { Length: > 0 } d ? $": {d}" : "";
        return $"The Flywheel server answered {statusCode}{title}{detail}";
    }
}

/// <summary>
/// Thrown when the server refuses the input (400, 404, 409, 413 or 422). It is a <see cref="FlywheelValidationException"/>
/// with the server's <see cref="FlywheelValidationException.Field"/> and <see cref="FlywheelValidationException.Kind"/>
/// (<see cref="ValidationKind.NotFound"/> for 404, <see cref="ValidationKind.Conflict"/> for 409,
/// <see cref="ValidationKind.TooLarge"/> for 413), so code that calls
/// the engine in process and code that calls it over HTTP handle refusals alike.
/// </summary>
public sealed class FlywheelApiValidationException : FlywheelValidationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="statusCode">The HTTP status code of the answer.</param>
    /// <param name="field">The offending field's JSON path; empty for the whole request.</param>
    /// <param name="problem">What is wrong with it, without the field name.</param>
    /// <param name="kind">The kind of refusal.</param>
    /// <param name="problemDetails">The problem document, when the server sent one.</param>
    public FlywheelApiValidationException(int statusCode, string field, string problem, ValidationKind kind, FlywheelProblemDetails? problemDetails)
        : base(field, problem)
    {
        StatusCode = statusCode;
        Kind = kind;
        ProblemDetails = problemDetails;
    }

    /// <summary>The HTTP status code of the answer.</summary>
    public int StatusCode { get; }

    /// <summary>The problem document, when the server sent one.</summary>
    public FlywheelProblemDetails? ProblemDetails { get; }
}

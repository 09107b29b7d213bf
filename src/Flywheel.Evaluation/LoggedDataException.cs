using Flywheel.Core;

namespace Flywheel.Evaluation;

/// <summary>
/// A logged-decision file holds a bad row: <see cref="LineNumber"/> is its 1-based line in the file and
/// <see cref="FlywheelValidationException.Field"/> the offending field (empty when the line as a whole is bad, such as
/// malformed JSON). The message reads <c>line 17: probability must lie in (0, 1]; got 0</c>, ready for one line of
/// command-line output.
/// </summary>
public sealed class LoggedDataException : FlywheelValidationException
{
    /// <summary>Creates the exception for one field of one line.</summary>
    public LoggedDataException(long lineNumber, string field, string problem)
        : base(field, problem)
    {
        LineNumber = lineNumber;
    }

    /// <summary>The 1-based line number in the file.</summary>
    public long LineNumber { get; }

    /// <inheritdoc />
    public override string Message => Field.Length == 0 ? $"line {LineNumber}: {Problem}" : $"line {LineNumber}: {Field} {Problem}";
}

namespace Flywheel.Learning.Replay;

/// <summary>
/// Thrown when replay data is malformed. The message starts with the 1-based line number of the file, as in
/// <c>line 17: label '0' is outside 1..10</c>, so command-line tools can print it as is.
/// </summary>
public sealed class ReplayDataException : FormatException
{
    /// <summary>Creates the exception for a problem on one line.</summary>
    /// <param name="lineNumber">The 1-based line number of the file.</param>
    /// <param name="problem">What is wrong, without the line number.</param>
    public ReplayDataException(long lineNumber, string problem)
        : base($"line {lineNumber}: {problem}")
    {
        LineNumber = lineNumber;
        Problem = problem;
    }

    /// <summary>The 1-based line number of the file.</summary>
    public long LineNumber { get; }

    /// <summary>What is wrong, without the line number.</summary>
    public string Problem { get; }
}

namespace Flywheel.Cli;

/// <summary>Where a verb writes, and whether the error writer is an interactive terminal.</summary>
/// <param name="Out">Results.</param>
/// <param name="Error">Errors and progress.</param>
/// <param name="Interactive">True when <paramref name="Error"/> is a terminal a person watches (progress bars allowed).</param>
internal sealed record CliContext(TextWriter Out, TextWriter Error, bool Interactive)
{
    /// <summary>Writes one error line: <c>flywheel verb: message</c>.</summary>
    public void ErrorLine(string command, string message)
    {
        // One line, whatever the message holds: line ends and tabs become single spaces.
        var single = string.Join(' ', message.Split([' ', '\t', '\r', '\n'], StringSplitOptions.RemoveEmptyEntries));
        Error.WriteLine($"{command}: {single}");
        Error.Flush();
    }
}

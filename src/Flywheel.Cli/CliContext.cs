namespace Flywheel.Cli;

/// <summary>Where a verb writes, and whether the error writer is an interactive terminal.</summary>
/// <param name="Out">Results.</param>
/// <param name="Error">Errors and progress.</param>
/// <param name="Interactive">True when <paramref name="Error"/> is a terminal a person watches (progress bars allowed).</param>
/// <param name="Time">The clock that paces progress lines (tests pass a fake one).</param>
internal sealed record CliContext(TextWriter Out, TextWriter Error, bool Interactive, TimeProvider Time)
{
    /// <summary>Reads an environment variable (tests pass their own, so that no test changes the process's).</summary>
    public Func<string, string?> Variables { get; init; } = Environment.GetEnvironmentVariable;

    /// <summary>Writes one error line: <c>flywheel verb: message</c>.</summary>
    public void ErrorLine(string command, string message)
    {
        // One line, whatever the message holds: line ends and tabs become single spaces.
        var single = string.Join(' ', message.Split([' ', '\t', '\r', '\n'], StringSplitOptions.RemoveEmptyEntries));
        Error.WriteLine($"{command}: {single}");
        Error.Flush();
    }

    /// <summary>
    /// Runs a verb that reads a data file: bad arguments (<see cref="UsageException"/>), bad data (a
    /// <see cref="FormatException"/> or <see cref="Core.FlywheelValidationException"/> naming the line), a corrupt gzip
    /// stream and an unreadable file each print one line and give <see cref="ExitCodes.Usage"/>.
    /// </summary>
    public int RunFileVerb(string command, string file, Func<int> run)
    {
        ArgumentNullException.ThrowIfNull(run);
        try
        {
            return run();
        }
        catch (Exception ex) when (ex is UsageException or FormatException or Core.FlywheelValidationException)
        {
            ErrorLine(command, ex.Message);
        }
        catch (InvalidDataException ex)
        {
            ErrorLine(command, $"'{file}' could not be decompressed: {ex.Message}");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            ErrorLine(command, $"cannot read '{file}': {ex.Message}");
        }
        return ExitCodes.Usage;
    }
}

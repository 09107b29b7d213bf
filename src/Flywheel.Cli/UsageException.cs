namespace Flywheel.Cli;

/// <summary>Bad arguments or input found by a verb: printed as one line, exit code <see cref="ExitCodes.Usage"/>.</summary>
internal sealed class UsageException(string message) : Exception(message);

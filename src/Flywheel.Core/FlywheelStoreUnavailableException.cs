namespace Flywheel.Core;

/// <summary>
/// The store cannot be used, for a reason an operator has to fix rather than a bug: another process holds the data
/// directory, or the file is corrupt. The message says which and what to do, in one line.
/// </summary>
public sealed class FlywheelStoreUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

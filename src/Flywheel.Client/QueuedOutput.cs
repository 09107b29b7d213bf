using Flywheel.Core;

namespace Flywheel.Client;

/// <summary>An output waiting in a <see cref="FlywheelSignalBatcher"/>: the decision and what it produced.</summary>
/// <param name="DecisionId">The decision that produced the output.</param>
/// <param name="Output">The text, the prompt, and the decision it replaced, if any.</param>
public sealed record QueuedOutput(string DecisionId, OutputInput Output);

namespace Flywheel.Client.Tests;

/// <summary>
/// How long a test waits for something that must happen before it calls it a hang. Only a guard: every wait ends on an
/// event, and a shared, loaded CI machine must never reach this limit on correct code.
/// </summary>
internal static class HangGuard
{
    public static readonly TimeSpan Limit = TimeSpan.FromMinutes(2);
}

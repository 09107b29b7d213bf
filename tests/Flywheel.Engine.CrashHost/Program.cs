using Flywheel.Engine;
using Flywheel.TestUtils;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

// Usage: Flywheel.Engine.CrashHost DATA_DIR SEED
// Prints "D <loop> <id>" / "S <loop> <id>" after each acknowledgement and runs until killed.
// Or: Flywheel.Engine.CrashHost DATA_DIR registry OPERATION PAUSE CLOCK_TICKS (see RegistryHost).
if (args.Length > 1 && args[1] == "registry")
{
    await RegistryHost.RunAsync(args);
    return;
}
var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 24, 12, 0, 0, TimeSpan.Zero));
var options = new FlywheelOptions { SnapshotEveryExamples = 700, ScheduleTurns = false }.UseSqlite(args[0]);
await using var engine = await FlywheelEngine.OpenAsync(options, time);
await engine.PutLoopAsync(CombinationWorld.Loop("feed", ["context*action", "context*context*action"]));
var stdout = Console.Out;
var runner = new WorldRunner(engine, time, new CombinationWorld(int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture)))
{
    OnAcknowledged = (kind, loop, id) =>
    {
        stdout.WriteLine($"{kind} {loop} {id}");
        stdout.Flush();
    },
};
await runner.RunAsync(["feed"], rounds: 1_000_000, flushEvery: 25);

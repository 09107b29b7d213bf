using System.Diagnostics;
using System.Globalization;
using Xunit.Abstractions;

namespace Flywheel.Engine.Tests.Registry;

/// <summary>
/// A real SIGKILL of a process running a registry change (the crash host's registry mode), ten rounds for each of a
/// turn's deploy, a promotion and a rollback: killed while the change runs, or held by a hook just before or just after
/// its store commit (the worst moments), or racing the commit. After a restart the served model is the registry's champion with its settings
/// and probabilities, as before the change or as after it; the ledger agrees; rollback works. Only the outcome is
/// asserted, never when the kill landed.
/// </summary>
public sealed class RegistrySigkillTests(RegistryWorld world, ITestOutputHelper output) : IClassFixture<RegistryWorld>, IDisposable
{
    private const int Rounds = 10;

    /// <summary>
    /// Where each round kills: as the change starts; as its commit starts, racing it (the host does not wait); held just
    /// before the commit; held just after it.
    /// </summary>
    private static readonly (string Name, string Pause, string Until)[] Kills =
        [("as it starts", "none", "B"), ("racing its commit", "none", "C"), ("before its commit", "before", "C"), ("after its commit", "after", "c")];

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("turn")]
    [InlineData("promote")]
    [InlineData("rollback")]
    public async Task RegistryChange_Sigkilled_RestartsConsistent(string operation)
    {
        var (origin, before, beforeRollsBackTo, after, afterRollsBackTo) = operation switch
        {
            "turn" => (world.Served, world.AtServed, null, world.AtTurned, world.AtServed),
            "promote" => (world.Turned, world.AtTurned, world.AtServed, world.AtPromoted, world.AtTurned),
            _ => (world.Promoted, world.AtPromoted, (ServedState?)world.AtTurned, world.AtTurned, (ServedState?)world.AtServed),
        };
        var host = Path.Combine(AppContext.BaseDirectory, "Flywheel.Engine.CrashHost.dll");
        Assert.True(File.Exists(host), $"crash host not built at {host}");
        var committedRounds = 0;
        for (var round = 0; round < Rounds; round++)
        {
            var (kill, pause, until) = Kills[round % Kills.Length];
            var directory = world.CopyOf(origin, _dir);
            var where = $"{operation}, round {round}, killed {kill}";
            using (var process = Process.Start(new ProcessStartInfo("dotnet", [host, directory, "registry", operation, pause, world.Time.GetUtcNow().UtcTicks.ToString(CultureInfo.InvariantCulture)])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            })!)
            {
                string? line;
                do
                {
                    line = await process.StandardOutput.ReadLineAsync();
                    if (line is null)
                    {
                        Assert.Fail($"{where}: the crash host ended early: {await process.StandardError.ReadToEndAsync()}");
                    }
                }
                while (line != until);
                process.Kill(); // SIGKILL on Unix: no shutdown code runs.
                await process.WaitForExitAsync();
            }

            var restarted = await world.ReadStateAsync(directory);
            var committed = restarted.Version == after.Version;
            (committed ? after : before).AssertSame(restarted, where);
            if (pause != "none")
            {
                Assert.True(committed == (pause == "after"), $"{where}: the change must be stored exactly when its commit is");
            }
            committedRounds += committed ? 1 : 0;
            await world.AssertRollbackAsync(directory, committed ? afterRollsBackTo : beforeRollsBackTo, where);
        }
        output.WriteLine($"{operation}: {committedRounds} of {Rounds} rounds restarted with the change stored");
    }
}

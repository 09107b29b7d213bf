using Flywheel.Core;
using Xunit.Abstractions;

namespace Flywheel.Engine.Tests.Loops;

/// <summary>Measures the whole process's managed heap, so it runs alone, after the tests that run in parallel.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessMemoryCollection
{
    public const string Name = "process memory";
}

[Collection(ProcessMemoryCollection.Name)]
public sealed class LoopMemoryTests(ITestOutputHelper output)
{
    private const int Loops = 500;
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Restore_ManyLoopsThatLearnedLittle_KeepsEachSmallAndLosesNoLearning()
    {
        using var directory = new TempDirectory();
        var learned = new Dictionary<string, byte[]>();
        await using (var rig = await ComponentRig.OpenAsync(directory: directory))
        {
            for (var l = 0; l < Loops; l++)
            {
                var loop = await rig.PutLoopAsync(TestEngine.FeedLoop($"loop-{l:D3}"));
                for (var d = 0; d < 5; d++)
                {
                    var id = $"d{d}";
                    await rig.Parts.Decider.DecideAsync(loop, TestEngine.Request(id, country: d % 2 == 0 ? "fr" : "de"), None);
                    // A closing signal ends the window at once: five rewards learned per loop.
                    await rig.Parts.Ingest.RecordSignalsAsync(loop, [new SignalInput { DecisionId = id, Type = d % 3 == 0 ? "thumbs_up" : "skip" }, new SignalInput { DecisionId = id, Type = "skip" }], None);
                }
            }
            await rig.Parts.Ingest.FlushAsync(None);
            foreach (var loop in rig.Parts.Table.All())
            {
                Assert.Equal(5, loop.Learner.Examples);
            }
            // Stopping saves the snapshot of every loop that learned since its last one.
            await rig.StopAsync();
            learned = rig.Parts.Table.All().ToDictionary(l => l.Id, l => l.Learner.Save());
        }

        var before = GC.GetTotalMemory(forceFullCollection: true);
        await using var restored = await ComponentRig.OpenAsync(directory: directory);
        var after = GC.GetTotalMemory(forceFullCollection: true);

        var perLoop = (after - before) / 1024.0 / Loops;
        output.WriteLine($"{Loops} loops restored: {(after - before) / 1048576.0:F1} MiB of managed heap, {perLoop:F1} KiB per loop");
        // Each dense regressor alone would take 4 MiB (2^18 slots of 12 bytes, and 4 more for the served copy).
        Assert.True(perLoop < 100, $"{perLoop:F1} KiB per loop");
        Assert.Equal(Loops, restored.Parts.Table.All().Count());
        foreach (var loop in restored.Parts.Table.All())
        {
            Assert.Equal(learned[loop.Id], loop.Learner.Save());
        }
        GC.KeepAlive(restored);
    }
}

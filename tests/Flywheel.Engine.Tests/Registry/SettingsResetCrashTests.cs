using Flywheel.Core;

namespace Flywheel.Engine.Tests.Registry;

/// <summary>
/// New learner settings that start a new model version store the settings and the new version's snapshot in one
/// transaction: a kill before or after that write restarts on the old settings and model, or on the new ones, never a mix.
/// </summary>
public sealed class SettingsResetCrashTests
{
    private static LoopConfig WithPairs(LoopConfig config) => config with { Learner = config.Learner with { Interactions = ["context*action", "context*context*action"] } };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task NewLearnerSettings_KilledAtTheirWrite_RestartOnOneModelWithItsSettings(bool afterWrite)
    {
        using var directory = new TempDirectory();
        CrashingStore? crashing = null;
        var original = TestEngine.FeedLoop("feed");
        await using (var rig = await ComponentRig.OpenAsync(o =>
        {
            var factory = o.StoreFactory!;
            o.StoreFactory = services => crashing = new CrashingStore(factory(services));
        }, directory: directory))
        {
            var runtime = await rig.PutLoopAsync(original);
            Assert.False(runtime.Kind.CanContinue(original, WithPairs(original)));
            crashing!.Arm(1, afterWrite);

            await Assert.ThrowsAnyAsync<Exception>(() => rig.PutLoopAsync(WithPairs(original)));

            Assert.Equal(["CommitRegistryAsync"], crashing.Log);
            Assert.Equal(1, runtime.ModelVersion); // the new model never served
        }

        await using (var rig = await ComponentRig.OpenAsync(directory: directory))
        {
            var runtime = rig.Parts.Table.Get("feed");
            var config = Assert.Single(await rig.Store.LoadLoopsAsync());
            var snapshot = await rig.Store.LoadSnapshotAsync("feed");
            Assert.Equal(afterWrite ? 2 : 1, runtime.ModelVersion);
            Assert.Equal(afterWrite ? 2 : 1, runtime.Config.Learner.Interactions.Count);
            Assert.Equal(runtime.Config.Learner.Interactions, config.Learner.Interactions);
            if (afterWrite)
            {
                Assert.Equal(2, snapshot!.Version);
            }
            else
            {
                Assert.True(snapshot is null || snapshot.Version == 1);
            }
        }
    }
}

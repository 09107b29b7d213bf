using Flywheel.Core;

namespace Flywheel.Storage.Conformance;

// Stored signals by id: what the ingest writer compares a reused signal id with.
public abstract partial class StoreConformanceTests
{
    [Fact]
    public async Task FindSignalRecordsAsync_MoreThanThousandIds_ReturnsTheStoredSignalsExactlyAndOnlyOfTheLoop()
    {
        var store = await OpenAsync();
        var batch = new StoreBatch();
        batch.Decisions.Add(SmallDecision("shop", "d-1", T0));
        for (var i = 0; i < 1_500; i++)
        {
            batch.Signals.Add(Signal("shop", $"s-{i}", i % 3 == 0 ? null : "d-1", T0.AddSeconds(i)) with { UserId = i % 3 == 0 ? "u-1" : null, Value = i * 0.1 });
        }
        batch.Signals.Add(Signal("other", "s-7", null, T0) with { UserId = "u-2" });
        await store.CommitAsync(batch);

        var query = Enumerable.Range(0, 3_000).Select(i => $"s-{i}").ToList();
        var found = (await store.FindSignalRecordsAsync("shop", query)).OrderBy(s => int.Parse(s.SignalId[2..], System.Globalization.CultureInfo.InvariantCulture)).ToList();

        AssertSameSignals(batch.Signals.Where(s => s.Loop == "shop").ToList(), found);
        Assert.Empty(await store.FindSignalRecordsAsync("shop", ["s-9999"]));
        Assert.Empty(await store.FindSignalRecordsAsync("shop", []));
        Assert.Equal("u-2", Assert.Single(await store.FindSignalRecordsAsync("other", ["s-7", "s-8"])).UserId);
    }
}

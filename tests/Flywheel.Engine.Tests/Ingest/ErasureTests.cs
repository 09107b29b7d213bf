using System.Text;
using Flywheel.Core;
using Microsoft.Extensions.Time.Testing;

namespace Flywheel.Engine.Tests;

/// <summary>
/// Erasing a user (the HTTP API, <c>DELETE /v1/users/{userId}</c>): every decision, signal and reward of theirs goes, in
/// every loop, open windows included; the audit trail keeps counts, never the id; the bytes leave the file too.
/// </summary>
public sealed class ErasureTests : IAsyncLifetime
{
    private const string Erased = "erase-me-7f3c";
    private const string Kept = "keep-u9";

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "flywheel-erasure-tests", Guid.NewGuid().ToString("N"));
    private readonly FakeTimeProvider _time = new(TestEngine.Start);
    private FlywheelEngine? _engine;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_engine is not null)
        {
            await _engine.DisposeAsync();
        }
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private async Task<FlywheelEngine> OpenAsync()
    {
        if (_engine is not null)
        {
            await _engine.DisposeAsync();
        }
        _engine = await TestEngine.OpenAsync(_directory, _time);
        return _engine;
    }

    private static DecideRequest Request(string decisionId, string user) => TestEngine.Request(decisionId) with { UserId = user };

    [Fact]
    public async Task EraseUserAsync_DecisionsSignalsAndOpenWindowsInTwoLoops_NothingOfTheUserIsLeftAnywhere()
    {
        var engine = await OpenAsync();
        await engine.PutLoopAsync(TestEngine.FeedLoop("home-feed"));
        await engine.PutLoopAsync(TestEngine.FeedLoop("other"));
        await engine.DecideAsync("home-feed", Request("d1", Erased));
        await engine.DecideAsync("other", Request("d2", Erased));
        await engine.DecideAsync("home-feed", Request("k1", Kept));
        await engine.RecordSignalsAsync("home-feed",
        [
            new SignalInput { DecisionId = "d1", Type = "watch_complete" },
            new SignalInput { DecisionId = "k1", Type = "watch_complete" },
            new SignalInput { UserId = Erased, Type = "return_visit" },
            new SignalInput { UserId = Kept, Type = "return_visit" },
        ]);
        _time.Advance(TimeSpan.FromMinutes(11));
        await engine.FlushAsync();
        // One more decision whose window is still open when the erasure runs, with a signal on it.
        await engine.DecideAsync("home-feed", Request("d3", Erased));
        await engine.RecordSignalsAsync("home-feed", [new SignalInput { DecisionId = "d3", Type = "rewatch" }]);

        var result = await engine.EraseUserAsync(Erased);

        Assert.Equal(Erased, result.UserId);
        Assert.Equal(new ErasureCounts(Decisions: 3, Signals: 3, Rewards: 2), result.Audit.Removed);
        Assert.Equal(1, result.Audit.Sequence);
        foreach (var (loop, id) in new[] { ("home-feed", "d1"), ("other", "d2"), ("home-feed", "d3") })
        {
            Assert.Null(await engine.GetDecisionAsync(loop, id));
        }
        var kept = await engine.GetDecisionAsync("home-feed", "k1");
        Assert.NotNull(kept!.Reward);
        Assert.Single(kept.Signals);

        // d3's window was dropped: closing time passes without a reward for a decision that no longer exists.
        _time.Advance(TimeSpan.FromMinutes(11));
        await engine.FlushAsync();
        Assert.Equal(new LoopCounts(Decisions: 1, Signals: 2, LateSignals: 0, OrphanedSignals: 0, Rewards: 1), await engine.GetCountsAsync("home-feed"));
        Assert.Equal(new LoopCounts(0, 0, 0, 0, 0), await engine.GetCountsAsync("other"));
        await AssertNothingOfTheUserAsync(engine);

        // A restart reads the store as the erasure left it.
        engine = await OpenAsync();
        await AssertNothingOfTheUserAsync(engine);
        var audit = Assert.Single(await engine.ListErasuresAsync());
        Assert.Equal(result.Audit, audit);
        Assert.DoesNotContain(Erased, FlywheelJson.Serialize(new ErasureList([audit])), StringComparison.Ordinal);

        // Not even in the file's free pages or the write-ahead log.
        await engine.DisposeAsync();
        _engine = null;
        var needle = Encoding.UTF8.GetBytes(Erased);
        foreach (var file in Directory.EnumerateFiles(_directory))
        {
            Assert.True(File.ReadAllBytes(file).AsSpan().IndexOf(needle) < 0, $"{Path.GetFileName(file)} still holds the erased id");
        }
        Assert.True(File.ReadAllBytes(Path.Combine(_directory, "flywheel.db")).AsSpan().IndexOf(Encoding.UTF8.GetBytes(Kept)) >= 0, "the kept user must still be in the file");
    }

    [Fact]
    public async Task EraseUserAsync_TheNewestReward_LaterRewardsNeverReuseItsSequence()
    {
        var engine = await OpenAsync();
        await engine.PutLoopAsync(TestEngine.FeedLoop());
        await engine.DecideAsync("home-feed", Request("k1", Kept));
        _time.Advance(TimeSpan.FromMinutes(1));
        await engine.DecideAsync("home-feed", Request("d1", Erased));
        _time.Advance(TimeSpan.FromMinutes(11));
        await engine.FlushAsync();
        var erasedSequence = 2L;
        Assert.Equal(1, (await engine.GetDecisionAsync("home-feed", "k1"))!.Reward!.Sequence);

        await engine.EraseUserAsync(Erased);
        // The sequence is kept across a restart too, where it is read back from the store.
        engine = await OpenAsync();
        await engine.DecideAsync("home-feed", Request("k2", Kept));
        _time.Advance(TimeSpan.FromMinutes(11));
        await engine.FlushAsync();

        Assert.Equal(erasedSequence + 1, (await engine.GetDecisionAsync("home-feed", "k2"))!.Reward!.Sequence);
    }

    [Fact]
    public async Task EraseUserAsync_UserWithNothingStored_ZeroCountsAndStillAudited()
    {
        var engine = await OpenAsync();
        await engine.PutLoopAsync(TestEngine.FeedLoop());

        var result = await engine.EraseUserAsync("nobody");

        Assert.Equal(new ErasureCounts(0, 0, 0), result.Audit.Removed);
        Assert.Equal(TestEngine.Start, result.Audit.ErasedAt);
        Assert.Single(await engine.ListErasuresAsync());
    }

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    public async Task EraseUserAsync_NoUserId_RefusedNamingUserId(string? userId)
    {
        var engine = await OpenAsync();

        var error = await Assert.ThrowsAsync<FlywheelValidationException>(() => engine.EraseUserAsync(userId!).AsTask());

        Assert.Equal("userId", error.Field);
        Assert.Empty(await engine.ListErasuresAsync());
    }

    private static async Task AssertNothingOfTheUserAsync(FlywheelEngine engine)
    {
        foreach (var loop in new[] { "home-feed", "other" })
        {
            await foreach (var row in engine.ExportAsync(loop, new ExportRequest()))
            {
                Assert.DoesNotContain(Erased, FlywheelJson.Serialize(row), StringComparison.Ordinal);
            }
        }
        var health = await engine.GetHealthAsync("home-feed");
        Assert.Equal(1, health.Evidence.Decisions);
    }
}

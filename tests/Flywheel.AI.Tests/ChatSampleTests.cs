namespace Flywheel.AI.Tests;

public sealed class ChatSampleTests
{
    [Fact]
    public async Task ChatSample_AgainstARealServer_WithTheFakeModel_RecordsOutputsAndFeedback()
    {
        await using var server = await ServerFixture.StartAsync();
        var (exitCode, stdout, stderr) = await ChildProcess.RunAsync("dotnet", [Path.Combine(AppContext.BaseDirectory, "Flywheel.ChatSample.dll"), server.Address.ToString()],
            new Dictionary<string, string?> { ["FLYWHEEL_CHAT_ENDPOINT"] = null }, ChildProcess.HangGuard);

        Assert.True(exitCode == 0, stderr);
        Assert.Contains("model: built-in fake", stdout);
        Assert.Contains("5 outputs stored, 5 signals stored", stdout);
        Assert.Contains("edit distance", stdout);
        Assert.Contains("replaces", stdout);
        Assert.DoesNotContain("decision (none)", stdout);
    }
}

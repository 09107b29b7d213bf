using System.Text.RegularExpressions;

namespace Flywheel.Server.Tests;

public sealed partial class ReadmeTests
{
    [GeneratedRegex(@"## HTTP quick start.*?```bash\n(?<script>.*?)```", RegexOptions.Singleline)]
    private static partial Regex CurlBlock();

    [GeneratedRegex(@"## Rankings quick start.*?```bash\n(?<script>.*?)```", RegexOptions.Singleline)]
    private static partial Regex RankingsBlock();

    [GeneratedRegex(@"## Tutor quick start.*?```bash\n(?<script>.*?)```", RegexOptions.Singleline)]
    private static partial Regex TutorBlock();

    [GeneratedRegex(@"## Summariser quick start.*?```bash\n(?<script>.*?)```", RegexOptions.Singleline)]
    private static partial Regex SummariserBlock();

    /// <summary>Runs the README's bash block that <paramref name="block"/> finds against a real server; returns its output.</summary>
    private static async Task<string> RunBlockAsync(Regex block)
    {
        var readme = await File.ReadAllTextAsync(Repository.Path("README.md"));
        var script = block.Match(readme).Groups["script"].Value;
        Assert.Contains("curl", script);
        await using var server = await ServerFixture.StartAsync();
        script = script.Replace("http://127.0.0.1:5005", server.Address.ToString().TrimEnd('/'), StringComparison.Ordinal);

        var (exitCode, stdout, stderr) = await ChildProcess.RunAsync("bash", "-e", "-c", script);
        Assert.True(exitCode == 0, $"exit {exitCode}: {stderr}\n{stdout}");
        return stdout;
    }

    [Fact]
    public async Task Readme_CurlQuickStart_WorksAgainstARealServer()
    {
        var stdout = await RunBlockAsync(CurlBlock());

        Assert.Contains("\"chosenActionId\"", stdout);
        Assert.Contains("\"accepted\":1", stdout);
        Assert.Contains("\"signalId\":\"s-1\"", stdout);
        // The reward is there at once: the quick start's signal closes its window.
        Assert.Contains("\"reward\":{\"value\":1,", stdout);
        Assert.Contains("\"closedBy\":\"signal\"", stdout);
    }

    [Fact]
    public async Task Readme_RankingsQuickStart_WorksAgainstARealServer()
    {
        var stdout = await RunBlockAsync(RankingsBlock());

        Assert.Contains("\"ranking\":[{\"actionId\":", stdout);
        Assert.Contains("\"slot\":3", stdout);
        Assert.Contains("\"accepted\":2", stdout);
        // The purchase closed the window: p2's slot earned click + purchase, the others the default.
        Assert.Contains("\"actionId\":\"p2\",\"reward\":3,\"signals\":2", stdout);
        Assert.Contains("\"closedBy\":\"signal\"", stdout);
        Assert.Contains("\"slots\":[{\"slot\":1,\"examination\":null", stdout);
    }

    [Fact]
    public async Task Readme_TutorQuickStart_WorksAgainstARealServer()
    {
        var stdout = await RunBlockAsync(TutorBlock());

        Assert.Contains("\"kind\":\"ability\"", stdout);
        Assert.Contains("\"accepted\":1", stdout);
        // One right answer of a new learner to a new exercise: ability 0.4 (P was 0.5, the first step 0.8).
        Assert.Contains("\"ability\":{\"value\":0.4", stdout);
        Assert.Contains("\"timeZone\":\"Europe/Paris\"", stdout);
        Assert.Contains("\"answers\":1", stdout);
        Assert.Contains("\"items\":[{\"actionId\":", stdout);
    }

    [Fact]
    public async Task Readme_SummariserQuickStart_WorksAgainstARealServer()
    {
        var stdout = await RunBlockAsync(SummariserBlock());

        Assert.Contains("\"generation\":{\"storeText\":true", stdout);
        Assert.Contains("\"duplicate\":false", stdout);
        Assert.Contains("\"accepted\":1", stdout);
        // "…delayed the hiring plan." → "…delayed hiring until March.": 13 edits over the longer text's 61 characters.
        Assert.Contains("\"type\":\"edited\",\"value\":0.21311475409836", stdout);
        Assert.Contains("\"reward\":{\"value\":-0.21311475409836", stdout);
        Assert.Contains("\"output\":{\"text\":\"The board approved the budget and delayed the hiring plan.\"", stdout);
    }
}

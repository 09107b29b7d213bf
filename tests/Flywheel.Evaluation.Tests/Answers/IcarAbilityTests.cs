using Flywheel.Evaluation.Answers;
using Xunit.Abstractions;

namespace Flywheel.Evaluation.Tests.Answers;

/// <summary>
/// The online estimates on real answers: the ICAR 16-item ability data (1,525 people; psychTools::ability, public-domain
/// items), extracted at test time by eng/icar-ability.sh, never committed.
/// </summary>
public sealed class IcarAbilityTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _folder = new("flywheel-icar-");

    public void Dispose() => _folder.Dispose();

    [RFact]
    public async Task Replay_IcarAbility_OnlineDifficultiesMatchTheRaschFit_AndBeatTheItemBaseRate()
    {
        var path = _folder.File("icar-ability.csv");
        var (code, stdout, stderr) = await ChildProcess.RunAsync("bash", Repository.Path("eng", "icar-ability.sh"), path);
        Assert.True(code == 0, $"eng/icar-ability.sh failed (exit {code}): {stdout}{stderr}");

        var data = AnswerData.Load(path);
        Assert.Equal(AnswerFileFormat.Wide, data.Format);
        // 1,525 people, 16 of whom answered nothing; 23,257 answers in all.
        Assert.Equal(1509, data.UserCount);
        Assert.Equal(16, data.ItemCount);
        Assert.Equal(23_257, data.Answers.Count);

        var r = AnswerReplay.Run(data);
        output.WriteLine($"ICAR ability: {r.Answers:N0} answers, {r.Users:N0} users, {r.Items} items; {r.TrainAnswers:N0} train, {r.HeldOutAnswers:N0} held out (holdout 0.2, seed 1, {r.Order})");
        output.WriteLine($"online (elo) vs Rasch difficulty over {r.ItemsCompared} items: Pearson {r.Pearson:F4}, Spearman {r.Spearman:F4}");
        output.WriteLine($"held-out log loss: online {r.OnlineLogLoss:F4}, Rasch {r.RaschLogLoss:F4}, item base rate {r.ItemBaseRateLogLoss:F4}, global base rate {r.GlobalBaseRateLogLoss:F4}");
        output.WriteLine($"progressive log loss {r.ProgressiveLogLoss:F4}; Rasch ability spread {r.RaschAbilitySpread:F3}, {r.RaschIterations} EM iterations");
        output.WriteLine($"{r.Seconds:F3} s (online pass {r.OnlineSeconds:F3} s, Rasch fit {r.RaschSeconds:F3} s)");
        foreach (var item in r.ItemResults)
        {
            output.WriteLine($"  {item.ItemId,-10} {item.TrainAnswers,5} answers  online {item.Online,7:F3}  Rasch {item.Rasch,7:F3} ± {item.RaschStandardError:F3}");
        }

        Assert.Equal(16, r.ItemsCompared);
        Assert.True(r.RaschConverged);
        Assert.True(r.Pearson >= 0.95, $"Pearson {r.Pearson}");
        Assert.True(r.OnlineLogLoss < r.ItemBaseRateLogLoss, $"online {r.OnlineLogLoss} vs item base rate {r.ItemBaseRateLogLoss}");
    }
}

/// <summary>
/// A fact that needs R with the psychTools package (Debian's r-cran-psychtools). Without them it is skipped with a message
/// saying how to install them, except when <c>CI=true</c>, where it runs and fails.
/// </summary>
public sealed class RFactAttribute : FactAttribute
{
    private static readonly Lazy<string?> MissingNow = new(FindMissing);

    public RFactAttribute()
    {
        if (!IsCi && MissingNow.Value is { } missing)
        {
            Skip = $"{missing}: install R with psychTools (apt-get install r-cran-psychtools) to run the ICAR check.";
        }
    }

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>What is missing ("Rscript not found on the PATH", …), or null when R and psychTools are there.</summary>
    private static string? FindMissing()
    {
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, "Rscript")));
        if (!onPath)
        {
            return "Rscript not found on the PATH";
        }
        var (code, _, _) = ChildProcess.RunAsync("Rscript", "--vanilla", "-e", "quit(status = if (requireNamespace('psychTools', quietly = TRUE)) 0 else 3)")
            .GetAwaiter().GetResult();
        return code == 0 ? null : "the R package psychTools is not installed";
    }
}

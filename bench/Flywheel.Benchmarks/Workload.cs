using Flywheel.Core;
using Flywheel.Learning;

namespace Flywheel.Benchmarks;

/// <summary>
/// The shared decision shape: a context of 30 features over 3 namespaces (numbers, categories, booleans), and 10
/// actions with 4 item features each (plus the implicit <c>@action</c> id), scored with the default learner
/// (<c>context*action</c>, 18 bits). Everything is built from fixed seeds.
/// </summary>
internal static class Workload
{
    public const int Actions = 10;
    public const string Loop = "bench";
    public const string Signal = "click";

    public static Features Context() => Context(0);

    /// <summary>Variant <paramref name="variant"/> of the context: the same 30 names, some values changed.</summary>
    public static Features Context(int variant)
    {
        string[] countries = ["fr", "de", "us", "br", "jp", "in", "es", "it"];
        string[] referrers = ["push", "search", "direct", "email", "social"];
        var features = new Features();
        var user = features["user"];
        user["country"] = countries[variant % countries.Length];
        user["language"] = "fr-FR";
        user["plan"] = "premium";
        user["device"] = "android";
        user["age_band"] = "25-34";
        user["tenure_days"] = 431 + variant;
        user["sessions_7d"] = 12;
        user["avg_watch_s"] = 184.5;
        user["spend_30d"] = 9.99;
        user["is_subscriber"] = true;
        user["notifications_on"] = true;
        user["ltv_score"] = 0.73;

        var session = features["session"];
        session["hour"] = 1 + (variant % 23);
        session["weekday"] = "tue";
        session["referrer"] = referrers[variant % referrers.Length];
        session["network"] = "wifi";
        session["depth"] = 3;
        session["seconds_in"] = 142;
        session["scroll_ratio"] = 0.41 + (variant * 0.01);
        session["is_logged_in"] = true;
        session["app_version"] = "5.12.0";
        session["battery"] = 0.87;

        var page = features["page"];
        page["surface"] = "home";
        page["section"] = "for-you";
        page["slot"] = 2;
        page["theme"] = "dark";
        page["layout"] = "grid";
        page["items_seen"] = 17;
        page["dwell_ms"] = 5400;
        page["has_video"] = true;
        return features;
    }

    public static IReadOnlyList<ActionCandidate> Candidates() => Candidates(Actions);

    /// <summary><paramref name="count"/> candidates of the same shape (categories repeat past 10).</summary>
    public static IReadOnlyList<ActionCandidate> Candidates(int count)
    {
        string[] categories = ["cooking", "diy", "music", "sport", "news", "travel", "comedy", "science", "gaming", "fashion"];
        string[] brands = ["acme", "globex", "initech", "umbrella", "hooli"];
        var random = new Random(7);
        var actions = new ActionCandidate[count];
        for (var i = 0; i < count; i++)
        {
            var features = new Features();
            var item = features["item"];
            item["category"] = categories[i % categories.Length];
            item["brand"] = brands[i % brands.Length];
            item["length_s"] = 30 + random.Next(600);
            item["rating"] = Math.Round(1 + (random.NextDouble() * 4), 2);
            actions[i] = new ActionCandidate("item-" + i.ToString("D4", System.Globalization.CultureInfo.InvariantCulture), features);
        }
        return actions;
    }

    public static DecideRequest Request() => new() { UserId = "user-42", Context = Context(), Actions = Candidates() };

    public static LearnerConfig Learner { get; } = new();

    public static LoopConfig LoopConfig(double windowSeconds = 3600) => new()
    {
        Id = Loop,
        Signals = new Dictionary<string, SignalTypeConfig> { [Signal] = new() { Weight = 1.0 } },
        Reward = new RewardConfig { WindowSeconds = windowSeconds },
    };

    /// <summary>A serving model with small non-zero weights, so predictions differ and ties are rare.</summary>
    public static ServingModel RandomModel(int bits)
    {
        var random = new Random(11);
        var weights = new float[1 << bits];
        for (var i = 0; i < weights.Length; i++)
        {
            weights[i] = (float)((random.NextDouble() - 0.5) * 0.02);
        }
        return new ServingModel(weights, 1, 0);
    }

    public static HashedFeatureSet[] HashActions(IReadOnlyList<ActionCandidate> actions)
        => actions.Select(HashedFeatureSet.FromAction).ToArray();

    /// <summary>A fresh temporary folder for a database.</summary>
    public static string TempDirectory(string prefix)
    {
        var path = Path.Combine(Path.GetTempPath(), $"flywheel-bench-{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        return path;
    }

    public static void DeleteDirectory(string? path)
    {
        if (path is not null && Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
    }
}

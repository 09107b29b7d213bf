namespace Flywheel.Simulation;

/// <summary>
/// The built-in scenarios: each a world whose truth is known, so what a product's figures show can be checked against
/// what had to happen. <c>feed</c> is the healthy flywheel; the others each break one link of it.
/// </summary>
public static class Scenarios
{
    /// <summary>The names <see cref="Get"/> knows, in the order the command line lists them.</summary>
    public static IReadOnlyList<string> Names { get; } = ["feed", "no-signal", "no-pipe", "invisible", "plateau", "drift"];

    private static readonly ProductSpec Loop = new()
    {
        Key = "a",
        Name = "A",
        Description = "built as a loop: every decision and signal logged, online learning, monthly turns",
    };

    private static readonly ProductSpec StraightLine = new()
    {
        Key = "b",
        Name = "B",
        Description = "the straight line: the launch model, frozen",
        Mode = Core.LoopMode.Frozen,
        Turns = false,
    };

    /// <summary>The scenario named <paramref name="name"/>; throws <see cref="ArgumentException"/> for an unknown name.</summary>
    public static Scenario Get(string name) => name switch
    {
        "feed" => Feed(withLateLoop: false),
        "no-signal" => new Scenario
        {
            Name = name,
            Description = "A is built as a loop but its product sends no signals: every reward is the default, so nothing is learned. A cannot beat B.",
            Products = [Loop with { Description = "a loop whose product captures nothing", CapturesSignals = false }, StraightLine],
        },
        "no-pipe" => new Scenario
        {
            Name = name,
            Description = "A captures every signal but never learns or deploys (its loop is frozen). A cannot beat B.",
            Products = [Loop with { Description = "captures every signal, never learns or deploys", Mode = Core.LoopMode.Frozen, Turns = false }, StraightLine],
        },
        "invisible" => new Scenario
        {
            Name = name,
            Description = "Items barely differ for anyone: A learns, but its gains are too small for users to feel, so they come back no more often than B's.",
            World = new WorldSettings { SegmentTaste = 0.08, PersonalTaste = 0.05, QualitySpread = 0.05, PatienceEffect = 0.05, NoveltyDecay = 0.05, EngagementBias = 0.4 },
            Products = [Loop, StraightLine],
        },
        "plateau" => new Scenario
        {
            Name = name,
            Description = "Everyone shares one taste by topic and items do not differ otherwise: A learns it in days, and more data stops helping early.",
            World = new WorldSettings { Regions = 1, AgeBands = 1, SegmentTaste = 1.0, PersonalTaste = 0, QualitySpread = 0, PatienceEffect = 0, NoveltyDecay = 0 },
            Products = [Loop, StraightLine],
        },
        "drift" => new Scenario
        {
            Name = name,
            Description = "Tastes are reshuffled on day 183. A keeps learning and turning; B is the same loop, stopped (frozen) on day 120, so it goes stale.",
            World = new WorldSettings { DriftDay = 183 },
            Products =
            [
                Loop,
                Loop with { Key = "b", Name = "B", Description = "the same loop, stopped on day 120 (frozen since)", FreezeDay = 120 },
            ],
        },
        _ => throw new ArgumentException($"unknown scenario '{name}'; choose one of {string.Join(", ", Names)}", nameof(name)),
    };

    /// <summary>
    /// The feed: users with tastes by segment and their own, items that arrive and age. A is a loop; B the straight line,
    /// cloned by rivals from month 2; with <paramref name="withLateLoop"/>, C is A's loop launched six months later.
    /// </summary>
    public static Scenario Feed(bool withLateLoop)
    {
        var b = StraightLine with { Description = "the straight line: the launch model, frozen; rivals clone it from month 2", ClonedFromDay = 32 };
        return new Scenario
        {
            Name = "feed",
            Description = withLateLoop
                ? "Three products launch on the same model: A is a loop, B the straight line (cloned by rivals from month 2), C the same loop as A launched six months later."
                : "Two products launch on the same model: A is a loop, B the straight line, cloned by rivals from month 2.",
            Products = withLateLoop
                ? [Loop, b, Loop with { Key = "c", Name = "C", Description = "the same loop as A, launched six months later", LaunchDay = 182 }]
                : [Loop, b],
        };
    }
}

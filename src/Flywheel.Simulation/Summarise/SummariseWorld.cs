using System.Globalization;
using Flywheel.Core;

namespace Flywheel.Simulation.Summarise;

/// <summary>Personal touches a user makes to any summary before using it.</summary>
[Flags]
public enum SummaryTouches
{
    /// <summary>None: a summary in the user's style is used as it is.</summary>
    None = 0,

    /// <summary>Writes <c>12%</c> for <c>12 percent</c>.</summary>
    PercentSign = 1,

    /// <summary>Drops <c>approximately</c> and <c>about</c>.</summary>
    NoHedges = 2,

    /// <summary>Writes <c>&amp;</c> for <c>and</c>.</summary>
    Ampersand = 4,

    /// <summary>Says <c>client</c> for <c>customer</c>.</summary>
    Clients = 8,
}

/// <summary>What a user does with an output.</summary>
public enum SummaryOutcome
{
    /// <summary>Kept as it was (<c>kept</c>).</summary>
    Kept,

    /// <summary>Copied out as it was (<c>copied</c>).</summary>
    Copied,

    /// <summary>Rewritten into the user's own final text (<c>edited</c> with that text).</summary>
    Edited,

    /// <summary>Thrown away for a new generation (<c>regenerated</c>; the new output names this one in <c>replaces</c>).</summary>
    Regenerated,
}

/// <summary>One user as the world draws them.</summary>
/// <param name="Index">The user's index, from 0.</param>
/// <param name="Role">Their role (seen): executive, manager, engineer or analyst.</param>
/// <param name="Device">Their device (seen): mobile or desktop.</param>
/// <param name="Language">Their language (seen; it says nothing about their preferences).</param>
/// <param name="Length">The length they prefer (hidden).</param>
/// <param name="Format">The format they prefer (hidden).</param>
/// <param name="FixedTone">The tone they always prefer, or null when it follows the task (hidden).</param>
/// <param name="Touches">The personal touches they make to any summary (hidden).</param>
/// <param name="Tolerance">The distance up to which they keep an output as it is (hidden).</param>
/// <param name="RegenerateAt">The distance from which they may ask for a new generation (hidden).</param>
/// <param name="Rate">Summaries they ask for a day, on average.</param>
public sealed record SummaryUser(int Index, string Role, string Device, string Language, SummaryLength Length, SummaryFormat Format,
    SummaryTone? FixedTone, SummaryTouches Touches, double Tolerance, double RegenerateAt, double Rate);

/// <summary>One request for a summary: the same user, document and task under every arm.</summary>
/// <param name="Index">The request's index over the run, from 0, in the order requests are served.</param>
/// <param name="Day">The day, from 1.</param>
/// <param name="User">The user's index.</param>
/// <param name="Task">What the summary is for (seen): report, email, notes or chat.</param>
public sealed record SummaryRequest(int Index, int Day, int User, string Task);

/// <summary>What a user did with one output, and what it is counted as.</summary>
/// <param name="Outcome">Kept, copied, edited or regenerated.</param>
/// <param name="Distance">The normalised edit distance between the output and the user's own final text.</param>
/// <param name="FinalText">The user's final text when edited (what the <c>edited</c> signal carries), else null.</param>
public sealed record SummaryReaction(SummaryOutcome Outcome, double Distance, string? FinalText)
{
    /// <summary>
    /// The distance the figures count: 0 for an output kept or copied as it was, the edit distance for an edited one, 1
    /// for a regenerated one (thrown away: nothing of it survives).
    /// </summary>
    public double Counted => Outcome switch
    {
        SummaryOutcome.Edited => Distance,
        SummaryOutcome.Regenerated => 1,
        _ => 0,
    };

    /// <summary>Whether the output was kept or copied without edits.</summary>
    public bool KeptAsIs => Outcome is SummaryOutcome.Kept or SummaryOutcome.Copied;
}

/// <summary>
/// A world of users who ask for summaries of documents (docs/summarise-simulation.md). Each user prefers a length, a
/// tone and a format, which their role, device and task partly reveal; their own final text is the summary in their
/// style with their personal touches. Built once from the seed and read-only afterwards, so that every arm meets the
/// same users, requests and documents.
/// </summary>
public sealed class SummariseWorld
{
    /// <summary>The roles users have, and the length each usually prefers.</summary>
    public static IReadOnlyList<(string Role, SummaryLength Length)> Roles { get; } =
        [("executive", SummaryLength.Short), ("manager", SummaryLength.Medium), ("engineer", SummaryLength.Medium), ("analyst", SummaryLength.Long)];

    /// <summary>The devices, and the format each usually prefers.</summary>
    public static IReadOnlyList<(string Device, SummaryFormat Format)> Devices { get; } = [("mobile", SummaryFormat.Bullets), ("desktop", SummaryFormat.Prose)];

    /// <summary>The languages users have: noise, unrelated to any preference.</summary>
    public static IReadOnlyList<string> Languages { get; } = ["en", "de", "fr", "es"];

    /// <summary>The tasks summaries are asked for, and the tone each calls for.</summary>
    public static IReadOnlyList<(string Task, SummaryTone Tone)> Tasks { get; } =
        [("report", SummaryTone.Formal), ("email", SummaryTone.Formal), ("notes", SummaryTone.Casual), ("chat", SummaryTone.Casual)];

    /// <summary>
    /// The prompt variants (the loop's actions): eight of the twelve styles, so that some users' exact preference is on
    /// offer and others' is not (no short prose, no long bullets).
    /// </summary>
    public static IReadOnlyList<SummaryStyle> Variants { get; } =
    [
        new(SummaryLength.Short, SummaryTone.Formal, SummaryFormat.Bullets),
        new(SummaryLength.Short, SummaryTone.Casual, SummaryFormat.Bullets),
        new(SummaryLength.Medium, SummaryTone.Formal, SummaryFormat.Prose),
        new(SummaryLength.Medium, SummaryTone.Casual, SummaryFormat.Prose),
        new(SummaryLength.Medium, SummaryTone.Formal, SummaryFormat.Bullets),
        new(SummaryLength.Medium, SummaryTone.Casual, SummaryFormat.Bullets),
        new(SummaryLength.Long, SummaryTone.Formal, SummaryFormat.Prose),
        new(SummaryLength.Long, SummaryTone.Casual, SummaryFormat.Prose),
    ];

    private static readonly string[] Subjects =
    [
        "northern warehouse", "support team", "finance group", "mobile app", "pilot programme", "billing system", "new supplier",
        "western sales region", "research unit", "onboarding flow", "night shift", "partner network", "returns desk", "data platform",
    ];

    private static readonly string[] Verbs = ["increased", "decreased", "reduced", "improved", "stabilised"];

    private static readonly string[] Objects =
    [
        "delivery times", "customer complaints", "operating costs", "weekly sign-ups", "error rates", "processing delays", "staff overtime",
        "energy use", "refund requests", "response times", "customer churn", "support tickets", "stock shortages", "invoice disputes",
    ];

    private static readonly string[] Reasons =
    [
        "following the revised schedule that commenced in March",
        "prior to the additional checks that the auditors require",
        "however the trend requires additional monitoring and a review by management",
        "therefore the team purchased additional equipment and hired contractors",
        "and subsequently numerous customers obtained refunds and credits",
        "since the new process does not require manual approval and customers wait less",
        "as the vendor demonstrated sufficient capacity and stable quality",
        "and management requested assistance from finance and legal",
        "in order to meet the targets that were agreed prior to launch",
        "and the pilot demonstrated that the change is not temporary",
        "although the figures are not final and require additional review",
        "following numerous requests from customers and partners",
    ];

    private readonly SummaryUser[] _users;
    private readonly SummaryRequest[] _requests;
    private readonly int[] _firstOfDay;
    private readonly ulong _documentSeed;
    private readonly ulong _reactionSeed;
    private readonly ActionCandidate[] _actions;

    /// <summary>Builds the world of <paramref name="seed"/>: <paramref name="users"/> users and their requests over <paramref name="days"/> days.</summary>
    public SummariseWorld(SummariseWorldSettings settings, int users, int days, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(users, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(days, 1);
        Settings = settings;
        var people = SimRandom.Fork(seed, "summarise-users");
        _users = new SummaryUser[users];
        for (var u = 0; u < users; u++)
        {
            var (role, roleLength) = Roles[people.Next(Roles.Count)];
            var (device, deviceFormat) = Devices[people.Next(Devices.Count)];
            var language = Languages[people.Next(Languages.Count)];
            var length = people.Chance(settings.TypicalShare) ? roleLength : Other(roleLength, people);
            var format = people.Chance(settings.TypicalShare) ? deviceFormat : (deviceFormat == SummaryFormat.Bullets ? SummaryFormat.Prose : SummaryFormat.Bullets);
            SummaryTone? fixedTone = people.Chance(settings.FollowsTaskShare) ? null : people.Chance(0.5) ? SummaryTone.Formal : SummaryTone.Casual;
            var touches = SummaryTouches.None;
            foreach (var touch in new[] { SummaryTouches.PercentSign, SummaryTouches.NoHedges, SummaryTouches.Ampersand, SummaryTouches.Clients })
            {
                touches |= people.Chance(settings.TouchChance) ? touch : SummaryTouches.None;
            }
            var tolerance = settings.ToleranceMin + (settings.ToleranceMax - settings.ToleranceMin) * people.NextDouble();
            var regenerateAt = settings.RegenerateMin + (settings.RegenerateMax - settings.RegenerateMin) * people.NextDouble();
            var rate = settings.RateMin + (settings.RateMax - settings.RateMin) * people.NextDouble();
            _users[u] = new SummaryUser(u, role, device, language, length, format, fixedTone, touches, tolerance, regenerateAt, rate);
        }

        // Each day every user asks Poisson(rate) times; the day's requests come in a shuffled order.
        var arrivals = SimRandom.Fork(seed, "summarise-requests");
        var requests = new List<SummaryRequest>();
        _firstOfDay = new int[days + 1];
        var today = new List<(int User, string Task)>();
        for (var day = 1; day <= days; day++)
        {
            _firstOfDay[day - 1] = requests.Count;
            today.Clear();
            foreach (var user in _users)
            {
                var n = arrivals.NextPoisson(user.Rate);
                for (var k = 0; k < n; k++)
                {
                    today.Add((user.Index, Tasks[arrivals.Next(Tasks.Count)].Task));
                }
            }
            for (var i = today.Count - 1; i > 0; i--)
            {
                var j = arrivals.Next(i + 1);
                (today[i], today[j]) = (today[j], today[i]);
            }
            foreach (var (user, task) in today)
            {
                requests.Add(new SummaryRequest(requests.Count, day, user, task));
            }
        }
        _firstOfDay[days] = requests.Count;
        _requests = [.. requests];
        _documentSeed = SimRandom.Fork(seed, "summarise-documents").NextUInt64();
        _reactionSeed = SimRandom.Fork(seed, "summarise-reactions").NextUInt64();
        _actions = [.. Variants.Select(v => new ActionCandidate(v.Key, v.Features()))];
    }

    /// <summary>The world's truth.</summary>
    public SummariseWorldSettings Settings { get; }

    /// <summary>The users.</summary>
    public IReadOnlyList<SummaryUser> Users => _users;

    /// <summary>Every request of the run, in the order they are served.</summary>
    public IReadOnlyList<SummaryRequest> Requests => _requests;

    /// <summary>The requests of day <paramref name="day"/> (from 1).</summary>
    public ArraySegment<SummaryRequest> Day(int day) => new(_requests, _firstOfDay[day - 1], _firstOfDay[day] - _firstOfDay[day - 1]);

    /// <summary>The id the engine knows user <paramref name="user"/> by.</summary>
    public static string UserId(int user) => "u" + user.ToString(CultureInfo.InvariantCulture);

    /// <summary>The variant's action: its key with <c>variant: {length, tone, format}</c>.</summary>
    public ActionCandidate Action(int variant) => _actions[variant];

    /// <summary>The index in <see cref="Variants"/> of the variant with key <paramref name="key"/>.</summary>
    public static int VariantOf(string key)
    {
        for (var i = 0; i < Variants.Count; i++)
        {
            if (Variants[i].Key == key)
            {
                return i;
            }
        }
        throw new ArgumentException($"no variant '{key}'", nameof(key));
    }

    /// <summary>What the engine sees of a request: <c>user: {role, device, language}</c> and <c>task: {type}</c>.</summary>
    public Features Context(SummaryRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var user = _users[request.User];
        return new Features
        {
            ["user"] = new FeatureNamespace { ["id"] = UserId(user.Index), ["role"] = user.Role, ["device"] = user.Device, ["language"] = user.Language },
            ["task"] = new FeatureNamespace { ["type"] = request.Task },
        };
    }

    /// <summary>The style the request's user wants for it: their length and format, and their tone or the task's.</summary>
    public SummaryStyle Preferred(SummaryRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var user = _users[request.User];
        var tone = user.FixedTone ?? Tasks.First(t => t.Task == request.Task).Tone;
        return new SummaryStyle(user.Length, tone, user.Format);
    }

    /// <summary>
    /// The document of request <paramref name="request"/>: 9–14 sentences, each a change of some size with its reason,
    /// in the formal wording the casual variants rewrite. Drawn from the request's own stream, so it is the same under every arm.
    /// </summary>
    public string Document(int request)
    {
        var r = new SimRandom(_documentSeed ^ ((ulong)(uint)request * 0x9E3779B97F4A7C15UL));
        var count = Settings.SentencesMin + r.Next(Settings.SentencesMax - Settings.SentencesMin + 1);
        var sentences = new string[count];
        for (var i = 0; i < count; i++)
        {
            var percent = 2 + r.Next(59);
            sentences[i] = string.Create(CultureInfo.InvariantCulture,
                $"The {Subjects[r.Next(Subjects.Length)]} {Verbs[r.Next(Verbs.Length)]} {Objects[r.Next(Objects.Length)]} by approximately {percent} percent, {Reasons[r.Next(Reasons.Length)]}.");
        }
        return string.Join(' ', sentences);
    }

    /// <summary>The user's own final text for the request: the summary in their style, with their personal touches.</summary>
    public string Ideal(SummaryRequest request, string document)
    {
        ArgumentNullException.ThrowIfNull(request);
        return ApplyTouches(SummaryRenderer.Render(document, Preferred(request)), _users[request.User].Touches);
    }

    /// <summary>Makes <paramref name="touches"/> to <paramref name="text"/>.</summary>
    public static string ApplyTouches(string text, SummaryTouches touches)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (touches.HasFlag(SummaryTouches.PercentSign))
        {
            text = text.Replace(" percent", "%", StringComparison.Ordinal);
        }
        if (touches.HasFlag(SummaryTouches.NoHedges))
        {
            text = text.Replace("approximately ", "", StringComparison.Ordinal).Replace("about ", "", StringComparison.Ordinal);
        }
        if (touches.HasFlag(SummaryTouches.Ampersand))
        {
            text = text.Replace(" and ", " & ", StringComparison.Ordinal);
        }
        if (touches.HasFlag(SummaryTouches.Clients))
        {
            text = text.Replace("customer", "client", StringComparison.Ordinal);
        }
        return text;
    }

    /// <summary>
    /// The stream of the user's dice for request <paramref name="request"/>: two draws per output (copy or keep; regenerate
    /// or edit), whatever they do, so arms that serve the same request meet the same dice.
    /// </summary>
    public SimRandom Dice(int request) => new(_reactionSeed ^ ((ulong)(uint)request * 0xD1B54A32D192ED03UL));

    /// <summary>
    /// What the user does with <paramref name="output"/>, the <paramref name="attempt"/>-th output (from 0) for the request:
    /// within their tolerance of their own text they keep it (or copy it); far off, with regenerations left, they may
    /// ask again; otherwise they rewrite it into their own text.
    /// </summary>
    public SummaryReaction React(SummaryRequest request, string ideal, string output, int attempt, SimRandom dice)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(dice);
        var user = _users[request.User];
        var (copy, regenerate) = (dice.NextDouble(), dice.NextDouble());
        var distance = EditDistance.Normalized(output, ideal);
        if (distance <= user.Tolerance)
        {
            return new SummaryReaction(copy < Settings.CopyShare ? SummaryOutcome.Copied : SummaryOutcome.Kept, distance, null);
        }
        if (distance >= user.RegenerateAt && attempt < Settings.MaxRegenerations && regenerate < Settings.RegenerateChance)
        {
            return new SummaryReaction(SummaryOutcome.Regenerated, distance, null);
        }
        return new SummaryReaction(SummaryOutcome.Edited, distance, ideal);
    }

    private static SummaryLength Other(SummaryLength length, SimRandom random)
    {
        var others = Enum.GetValues<SummaryLength>().Where(l => l != length).ToArray();
        return others[random.Next(others.Length)];
    }
}

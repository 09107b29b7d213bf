using System.Globalization;
using Flywheel.Core;

namespace Flywheel.Simulation.Search;

/// <summary>One query: its position in the stream, its intent and the candidate documents retrieval offers, in random order.</summary>
/// <param name="Index">The query's position in the stream, from 0.</param>
/// <param name="Intent">The intent, from 0.</param>
/// <param name="Candidates">The candidates' document indices.</param>
public sealed record SearchQuery(int Index, int Intent, int[] Candidates);

/// <summary>What a user did with one served result.</summary>
/// <param name="Examined">The user looked at it.</param>
/// <param name="Clicked">The user clicked it.</param>
/// <param name="Bounced">The user came straight back: the result did not answer.</param>
public readonly record struct SearchOutcome(bool Examined, bool Clicked, bool Bounced);

/// <summary>
/// A search world with known truth (docs/simulation.md, "The search world"): intents asked with a skewed popularity,
/// documents with a graded relevance to each intent, and users who click by the position-based model. P(examine slot k)
/// = θ_k; P(click | examined, grade g) = ε⁻ + (ε⁺ − ε⁻)(2^g − 1)/(2^G − 1); a click bounces with a probability by grade.
/// Built once from the seed and read-only afterwards, so loops run in parallel against the same world.
/// </summary>
/// <remarks>
/// The engine sees the context <c>query: {intent}</c> and per candidate <c>doc: {topic}</c> with the document's id (which
/// the engine adds as <c>@action</c>). Each intent has a topic; retrieval matches it to a pool of documents of that topic,
/// each with a grade drawn from <see cref="SearchWorldSettings.GradeShares"/>; every other document has grade 0 for it.
/// A query offers <see cref="SearchWorldSettings.FromPool"/> documents of its intent's pool and fills the rest of its
/// candidates with other documents.
/// </remarks>
public sealed class SearchWorld
{
    private readonly int[] _documentTopic;
    private readonly int[] _intentTopic;
    private readonly int[][] _pools;
    private readonly Dictionary<int, int>[] _grades;
    private readonly double[] _popularityCdf;
    private readonly double[] _clickByGrade;
    private readonly ActionCandidate[] _actions;

    /// <summary>Builds the world of <paramref name="seed"/>.</summary>
    public SearchWorld(SearchWorldSettings settings, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        Settings = settings;
        var random = SimRandom.Fork(seed, "search-world");

        _documentTopic = new int[settings.Documents];
        var byTopic = new List<int>[settings.Topics];
        for (var t = 0; t < byTopic.Length; t++)
        {
            byTopic[t] = [];
        }
        for (var d = 0; d < settings.Documents; d++)
        {
            _documentTopic[d] = d % settings.Topics;
            byTopic[d % settings.Topics].Add(d);
        }

        // Popularity ranks are shuffled over the intents, so intent q0 is not always the most asked.
        var ranks = Enumerable.Range(0, settings.Intents).ToArray();
        Shuffle(ranks, random);
        Popularity = [.. ranks.Select(r => Math.Pow(r + 1, -settings.PopularitySkew))];
        var total = Popularity.Sum();
        Popularity = [.. Popularity.Select(p => p / total)];
        _popularityCdf = new double[settings.Intents];
        var cumulative = 0.0;
        for (var q = 0; q < settings.Intents; q++)
        {
            cumulative += Popularity[q];
            _popularityCdf[q] = cumulative;
        }

        var shares = settings.GradeShares.Select(s => s / settings.GradeShares.Sum()).ToArray();
        _intentTopic = new int[settings.Intents];
        _pools = new int[settings.Intents][];
        _grades = new Dictionary<int, int>[settings.Intents];
        for (var q = 0; q < settings.Intents; q++)
        {
            // Intents are spread evenly over the topics too.
            var topic = q % settings.Topics;
            _intentTopic[q] = topic;
            var documents = byTopic[topic].ToArray();
            Shuffle(documents, random);
            _pools[q] = documents[..settings.PoolSize];
            _grades[q] = [];
            foreach (var d in _pools[q])
            {
                _grades[q][d] = Draw(shares, random);
            }
        }

        _clickByGrade = new double[settings.MaxGrade + 1];
        for (var g = 0; g <= settings.MaxGrade; g++)
        {
            _clickByGrade[g] = settings.ClickMin + (settings.ClickMax - settings.ClickMin) * (Math.Pow(2, g) - 1) / (Math.Pow(2, settings.MaxGrade) - 1);
        }

        _actions = new ActionCandidate[settings.Documents];
        for (var d = 0; d < settings.Documents; d++)
        {
            _actions[d] = new ActionCandidate(DocumentId(d), new Features { ["doc"] = new FeatureNamespace { ["topic"] = TopicName(_documentTopic[d]) } });
        }
    }

    /// <summary>The world's truth.</summary>
    public SearchWorldSettings Settings { get; }

    /// <summary>Each intent's probability of being asked.</summary>
    public IReadOnlyList<double> Popularity { get; }

    /// <summary>The id the engine knows document <paramref name="document"/> by.</summary>
    public static string DocumentId(int document) => "d" + document.ToString(CultureInfo.InvariantCulture);

    /// <summary>The name of intent <paramref name="intent"/>.</summary>
    public static string IntentName(int intent) => "q" + intent.ToString(CultureInfo.InvariantCulture);

    private static string TopicName(int topic) => "t" + topic.ToString(CultureInfo.InvariantCulture);

    /// <summary>The grade of <paramref name="document"/> for <paramref name="intent"/>: 0 outside the intent's pool.</summary>
    public int Grade(int intent, int document) => _grades[intent].GetValueOrDefault(document);

    /// <summary>θ_k: the probability that slot <paramref name="slot"/> (from 1) is examined.</summary>
    public double Examination(int slot)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slot, 1);
        var theta = Settings.Examination;
        return theta[Math.Min(slot, theta.Count) - 1];
    }

    /// <summary>P(click | examined) of a result of grade <paramref name="grade"/>.</summary>
    public double ClickProbability(int grade) => _clickByGrade[grade];

    /// <summary>
    /// What a result of grade <paramref name="grade"/> is worth in the metric once examined: its click probability when it
    /// is relevant (grade ≥ <see cref="SearchWorldSettings.RelevantGrade"/>), else 0.
    /// </summary>
    public double RelevantClickProbability(int grade) => grade >= Settings.RelevantGrade ? _clickByGrade[grade] : 0;

    /// <summary>The query stream of <paramref name="seed"/>: the same queries, in the same order, for every loop.</summary>
    public SearchQuery[] Queries(ulong seed, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var random = SimRandom.Fork(seed, "search-queries");
        var s = Settings;
        var queries = new SearchQuery[count];
        var pool = new int[s.PoolSize];
        var taken = new HashSet<int>();
        var fixedLists = new int[s.Intents][];
        for (var i = 0; i < count; i++)
        {
            var intent = Array.BinarySearch(_popularityCdf, random.NextDouble());
            intent = Math.Min(intent < 0 ? ~intent : intent, s.Intents - 1);
            if (s.FixedCandidates && fixedLists[intent] is { } list)
            {
                var again = (int[])list.Clone();
                Shuffle(again, random);
                queries[i] = new SearchQuery(i, intent, again);
                continue;
            }
            var candidates = new int[s.Candidates];
            Array.Copy(_pools[intent], pool, pool.Length);
            taken.Clear();
            taken.UnionWith(pool);
            // A partial Fisher–Yates shuffle draws the pool's share without replacement.
            for (var j = 0; j < s.FromPool; j++)
            {
                var k = j + random.Next(pool.Length - j);
                (pool[j], pool[k]) = (pool[k], pool[j]);
                candidates[j] = pool[j];
            }
            for (var j = s.FromPool; j < s.Candidates; j++)
            {
                int d;
                do
                {
                    d = random.Next(s.Documents);
                }
                while (!taken.Add(d));
                candidates[j] = d;
            }
            Shuffle(candidates, random);
            if (s.FixedCandidates)
            {
                fixedLists[intent] = (int[])candidates.Clone();
            }
            queries[i] = new SearchQuery(i, intent, candidates);
        }
        return queries;
    }

    /// <summary>The decision the product asks for <paramref name="query"/>.</summary>
    public DecideRequest Request(SearchQuery query, string decisionId)
    {
        ArgumentNullException.ThrowIfNull(query);
        return new DecideRequest
        {
            DecisionId = decisionId,
            Context = new Features { ["query"] = new FeatureNamespace { ["intent"] = IntentName(query.Intent) } },
            Actions = [.. query.Candidates.Select(d => _actions[d])],
        };
    }

    /// <summary>
    /// What the user does with <paramref name="document"/> shown in <paramref name="slot"/> (from 1). Three draws are taken
    /// whatever happens, so two loops reading the same stream meet the same user at every slot of every query.
    /// </summary>
    public SearchOutcome React(int intent, int document, int slot, SimRandom random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var (look, click, bounce) = (random.NextDouble(), random.NextDouble(), random.NextDouble());
        if (look >= Examination(slot))
        {
            return default;
        }
        var grade = Grade(intent, document);
        return click >= _clickByGrade[grade] ? new SearchOutcome(true, false, false) : new SearchOutcome(true, true, bounce < Settings.Bounce[grade]);
    }

    /// <summary>
    /// The expected clicks on relevant results of <paramref name="served"/> (document indices, top first) for
    /// <paramref name="intent"/>: Σ_k θ_k · P(click | g_k) · 1[g_k ≥ relevant grade], from the truth.
    /// </summary>
    public double ExpectedRelevantClicks(int intent, ReadOnlySpan<int> served)
    {
        var sum = 0.0;
        for (var k = 0; k < served.Length; k++)
        {
            sum += Examination(k + 1) * RelevantClickProbability(Grade(intent, served[k]));
        }
        return sum;
    }

    /// <summary>
    /// The oracle's expected clicks on relevant results for <paramref name="query"/> in <paramref name="slots"/> slots:
    /// the candidates ranked by their true click probability on relevant results (θ falls with the slot, so this order is
    /// the best).
    /// </summary>
    public double OracleRelevantClicks(SearchQuery query, int slots)
    {
        ArgumentNullException.ThrowIfNull(query);
        return ExpectedRelevantClicks(query.Intent, OracleRanking(query, slots));
    }

    /// <summary>
    /// A uniformly random ranking's expected clicks on relevant results for <paramref name="query"/>: every slot holds a
    /// uniformly drawn candidate, so (Σ_k θ_k) × the candidates' mean.
    /// </summary>
    public double UniformRelevantClicks(SearchQuery query, int slots)
    {
        ArgumentNullException.ThrowIfNull(query);
        var mean = query.Candidates.Average(d => RelevantClickProbability(Grade(query.Intent, d)));
        var examined = 0.0;
        for (var k = 1; k <= Math.Min(slots, query.Candidates.Length); k++)
        {
            examined += Examination(k);
        }
        return examined * mean;
    }

    /// <summary>The oracle's ranking of <paramref name="query"/>: the best <paramref name="slots"/> candidates, top first.</summary>
    public int[] OracleRanking(SearchQuery query, int slots)
    {
        ArgumentNullException.ThrowIfNull(query);
        return [.. query.Candidates
            .OrderByDescending(d => RelevantClickProbability(Grade(query.Intent, d)))
            .ThenBy(d => d)
            .Take(Math.Min(slots, query.Candidates.Length))];
    }

    private static int Draw(double[] shares, SimRandom random)
    {
        var u = random.NextDouble();
        for (var i = 0; i < shares.Length - 1; i++)
        {
            u -= shares[i];
            if (u < 0)
            {
                return i;
            }
        }
        return shares.Length - 1;
    }

    private static void Shuffle(int[] values, SimRandom random)
    {
        for (var i = values.Length - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (values[i], values[j]) = (values[j], values[i]);
        }
    }
}

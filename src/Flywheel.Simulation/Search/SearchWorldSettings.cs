namespace Flywheel.Simulation.Search;

/// <summary>
/// The latent truth of a search world: intents and their popularity, documents and their graded relevance, and the
/// position-based click model (docs/simulation.md, "The search world"). Nothing here is visible to the engine, which
/// sees only the query's intent and each candidate's id and topic.
/// </summary>
public sealed record SearchWorldSettings
{
    /// <summary>
    /// The examination probabilities θ⁰ of ranks 1–10 in ULTRA's position-based click simulator (ULTR-Community/ULTRA,
    /// <c>ultra/utils/click_models.py</c>), divided by θ⁰₁ = 0.68 so that the top slot is examined with probability 1: 1,
    /// 0.897, 0.706, 0.5, 0.412, 0.294, 0.162, 0.147, 0.118, 0.088.
    /// </summary>
    public static IReadOnlyList<double> UltraExamination { get; } =
        [.. new[] { 0.68, 0.61, 0.48, 0.34, 0.28, 0.20, 0.11, 0.10, 0.08, 0.06 }.Select(t => t / 0.68)];

    /// <summary>Distinct intents users search with. <value>Default 40.</value></summary>
    public int Intents { get; init; } = 40;

    /// <summary>
    /// Zipf exponent of the intents' popularity: the intent of popularity rank r is asked with probability ∝ r^−s.
    /// <value>Default 1 (the most popular intent is asked 40 times as often as the least, about 23% of queries).</value>
    /// </summary>
    public double PopularitySkew { get; init; } = 1.0;

    /// <summary>Topics of documents and intents (an observable document feature). <value>Default 8.</value></summary>
    public int Topics { get; init; } = 8;

    /// <summary>Documents in the collection, spread evenly over the topics. <value>Default 600.</value></summary>
    public int Documents { get; init; } = 600;

    /// <summary>
    /// Documents of the intent's topic that retrieval matches to each intent; only these can be relevant to it.
    /// <value>Default 30.</value>
    /// </summary>
    public int PoolSize { get; init; } = 30;

    /// <summary>Candidates each query offers the ranker. <value>Default 20.</value></summary>
    public int Candidates { get; init; } = 20;

    /// <summary>
    /// Of a query's candidates, how many come from its intent's pool (drawn afresh each query); the rest are other
    /// documents, irrelevant to it. <value>Default 12.</value>
    /// </summary>
    public int FromPool { get; init; } = 12;

    /// <summary>
    /// Whether retrieval returns the same candidates every time an intent is asked (in a fresh random order), as a search
    /// engine's first stage does for the same query, rather than drawing them afresh for each query. <value>Default true.</value>
    /// </summary>
    public bool FixedCandidates { get; init; } = true;

    /// <summary>
    /// The share of an intent's pool at each grade 0–4 (0 irrelevant, 4 perfect); the last index is the highest grade G.
    /// <value>Default 0.35, 0.25, 0.2, 0.12, 0.08.</value>
    /// </summary>
    public IReadOnlyList<double> GradeShares { get; init; } = [0.35, 0.25, 0.20, 0.12, 0.08];

    /// <summary>ε⁻: the click probability of an examined irrelevant (grade 0) result. <value>Default 0.05.</value></summary>
    public double ClickMin { get; init; } = 0.05;

    /// <summary>ε⁺: the click probability of an examined result of the highest grade. <value>Default 0.95.</value></summary>
    public double ClickMax { get; init; } = 0.95;

    /// <summary>
    /// The probability that a click bounces (the user came straight back: the result did not answer), by grade.
    /// <value>Default 0.9, 0.6, 0.1, 0.05, 0.02.</value>
    /// </summary>
    public IReadOnlyList<double> Bounce { get; init; } = [0.9, 0.6, 0.10, 0.05, 0.02];

    /// <summary>
    /// θ_k, the probability that slot k is examined, top first, with θ_1 = 1; deeper slots take the last value.
    /// <value>Default <see cref="UltraExamination"/>.</value>
    /// </summary>
    public IReadOnlyList<double> Examination { get; init; } = UltraExamination;

    /// <summary>The lowest grade that counts as relevant in the metric. <value>Default 2.</value></summary>
    public int RelevantGrade { get; init; } = 2;

    /// <summary>The highest grade, G.</summary>
    public int MaxGrade => GradeShares.Count - 1;

    /// <summary>Checks the settings; throws <see cref="ArgumentOutOfRangeException"/> naming the bad one.</summary>
    public void Validate()
    {
        static void Check(bool ok, string name, object? value, string message)
        {
            if (!ok)
            {
                throw new ArgumentOutOfRangeException(name, value, message);
            }
        }
        Check(Intents >= 1, nameof(Intents), Intents, "at least one intent");
        Check(double.IsFinite(PopularitySkew) && PopularitySkew >= 0, nameof(PopularitySkew), PopularitySkew, "a finite exponent of at least 0");
        Check(Topics >= 1 && Topics <= Intents, nameof(Topics), Topics, "at least 1 and at most one per intent");
        Check(Documents >= Topics * PoolSize, nameof(Documents), Documents, "enough documents for every topic to hold a pool");
        Check(FromPool >= 1 && FromPool <= PoolSize && FromPool <= Candidates, nameof(FromPool), FromPool, "at least 1, at most the pool and the candidates");
        Check(Candidates - FromPool <= Documents - PoolSize, nameof(Candidates), Candidates, "more candidates than documents outside a pool");
        Check(GradeShares is { Count: >= 2 } && GradeShares.All(s => double.IsFinite(s) && s >= 0) && GradeShares.Sum() > 0,
            nameof(GradeShares), GradeShares, "two or more non-negative shares, not all 0");
        Check(ClickMin is >= 0 and <= 1 && ClickMax is >= 0 and <= 1 && ClickMin <= ClickMax, nameof(ClickMax), ClickMax, "0 ≤ ClickMin ≤ ClickMax ≤ 1");
        Check(Bounce is not null && Bounce.Count == GradeShares.Count && Bounce.All(b => b is >= 0 and <= 1), nameof(Bounce), Bounce, "one probability per grade");
        Check(Examination is { Count: >= 1 } && Examination[0] == 1 && Examination.All(t => t is > 0 and <= 1)
            && Examination.Zip(Examination.Skip(1)).All(p => p.Second <= p.First), nameof(Examination), Examination,
            "θ_1 = 1 and every θ_k in (0, 1], falling with the slot");
        Check(RelevantGrade >= 1 && RelevantGrade <= MaxGrade, nameof(RelevantGrade), RelevantGrade, "a grade from 1 to the highest");
    }
}

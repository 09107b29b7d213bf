namespace Flywheel.Simulation;

/// <summary>
/// The latent truth of a feed world: how tastes, items, habits and word of mouth work. Nothing here is visible to the
/// engine; it sees only the features a product would log (<see cref="FeedWorld"/> documents which). Records compare by
/// value, so a scenario's settings print and test plainly.
/// </summary>
public sealed record WorldSettings
{
    /// <summary>Topics an item can have. <value>Default 10.</value></summary>
    public int Topics { get; init; } = 10;

    /// <summary>Regions a user can live in (an observable context feature). <value>Default 5.</value></summary>
    public int Regions { get; init; } = 5;

    /// <summary>Age bands (an observable context feature). <value>Default 4.</value></summary>
    public int AgeBands { get; init; } = 4;

    /// <summary>
    /// Spread of the taste each (region, age band) segment has for each topic. It is drawn per combination, so no sum of a
    /// region effect and an age effect expresses it. <value>Default 1.5.</value>
    /// </summary>
    public double SegmentTaste { get; init; } = 1.5;

    /// <summary>Spread of a user's own deviation from their segment's taste (learnable only per user). <value>Default 0.4.</value></summary>
    public double PersonalTaste { get; init; } = 0.4;

    /// <summary>Spread of an item's latent quality (learnable only per item). <value>Default 0.6.</value></summary>
    public double QualitySpread { get; init; } = 0.6;

    /// <summary>How much a long item pleases a patient user and annoys an impatient one. <value>Default 0.6.</value></summary>
    public double PatienceEffect { get; init; } = 0.6;

    /// <summary>Appeal an item loses between its arrival and its retirement. <value>Default 0.6.</value></summary>
    public double NoveltyDecay { get; init; } = 0.6;

    /// <summary>Engagement is sigmoid(appeal − bias): the larger, the pickier users are. <value>Default 1.3.</value></summary>
    public double EngagementBias { get; init; } = 1.3;

    /// <summary>Items live at launch. <value>Default 100.</value></summary>
    public int InitialItems { get; init; } = 100;

    /// <summary>New items a day (Poisson mean). <value>Default 2.</value></summary>
    public double ItemsPerDay { get; init; } = 2;

    /// <summary>Days an item stays in the catalogue. <value>Default 50.</value></summary>
    public int ItemLifetimeDays { get; init; } = 50;

    /// <summary>Candidates the product's retrieval offers per decision (the rented model's shortlist). <value>Default 8.</value></summary>
    public int Candidates { get; init; } = 8;

    /// <summary>Most items one visit shows. <value>Default 5.</value></summary>
    public int MaxSessionLength { get; init; } = 5;

    /// <summary>Chance a user watches another item after enjoying one. <value>Default 0.7.</value></summary>
    public double ContinueAfterEngaged { get; init; } = 0.7;

    /// <summary>Chance a user watches another item after skipping one. <value>Default 0.35.</value></summary>
    public double ContinueAfterSkip { get; init; } = 0.35;

    /// <summary>Chance an enjoyed item is watched again (<c>rewatch</c>), when it pleased the user a lot. <value>Default 0.3.</value></summary>
    public double RewatchRate { get; init; } = 0.3;

    /// <summary>Chance an enjoyed item gets a thumbs up (explicit signals are rare). <value>Default 0.05.</value></summary>
    public double ThumbsUpRate { get; init; } = 0.05;

    /// <summary>Chance a disliked item gets a thumbs down. <value>Default 0.03.</value></summary>
    public double ThumbsDownRate { get; init; } = 0.03;

    /// <summary>Chance a disliked item is skipped within a second (else the user just leaves it). <value>Default 0.85.</value></summary>
    public double SkipRate { get; init; } = 0.85;

    /// <summary>People who could ever use the product, as a multiple of the users at launch. <value>Default 10.</value></summary>
    public double MarketSize { get; init; } = 10;

    /// <summary>Users who find the product by themselves each day, as a share of the users at launch. <value>Default 0.01.</value></summary>
    public double Inflow { get; init; } = 0.01;

    /// <summary>New users brought in per satisfied visit (word of mouth), scaled by the market not yet reached. <value>Default 0.03.</value></summary>
    public double WordOfMouth { get; init; } = 0.03;

    /// <summary>A visit satisfies when at least this share of what it showed was enjoyed. <value>Default 0.6.</value></summary>
    public double SatisfiedShare { get; init; } = 0.6;

    /// <summary>Scale of the chance to leave for good after a visit, times (1 − loyalty)³. <value>Default 0.04.</value></summary>
    public double Churn { get; init; } = 0.04;

    /// <summary>How much one visit moves a user's loyalty towards that visit's satisfaction. <value>Default 0.25.</value></summary>
    public double LoyaltyStep { get; init; } = 0.25;

    /// <summary>Day (1-based) on which every segment's tastes are reshuffled among topics; null for none.</summary>
    public int? DriftDay { get; init; }

    /// <summary>Most items one visit may show: a visit's waves, two simulated minutes apart, must fit in the engine's publish interval.</summary>
    internal const int MostItemsPerVisit = 25;

    /// <summary>Checks every setting; throws <see cref="ArgumentOutOfRangeException"/> naming the first bad one.</summary>
    internal void Validate()
    {
        static void Range(string name, double value, double min, double max)
        {
            if (!double.IsFinite(value) || value < min || value > max)
            {
                throw new ArgumentOutOfRangeException(name, value, $"{name} must lie in [{min}, {max}]");
            }
        }
        Range(nameof(Topics), Topics, 2, 64);
        Range(nameof(Regions), Regions, 1, 64);
        Range(nameof(AgeBands), AgeBands, 1, 64);
        Range(nameof(Candidates), Candidates, 2, 100);
        Range(nameof(MaxSessionLength), MaxSessionLength, 1, MostItemsPerVisit);
        Range(nameof(InitialItems), InitialItems, Candidates, 1_000_000);
        Range(nameof(ItemLifetimeDays), ItemLifetimeDays, 1, 100_000);
        Range(nameof(ItemsPerDay), ItemsPerDay, double.Epsilon, 100_000);
        foreach (var (name, value) in new[] { (nameof(SegmentTaste), SegmentTaste), (nameof(PersonalTaste), PersonalTaste), (nameof(QualitySpread), QualitySpread), (nameof(PatienceEffect), PatienceEffect), (nameof(NoveltyDecay), NoveltyDecay) })
        {
            Range(name, value, 0, 1_000);
        }
        foreach (var (name, value) in new[] { (nameof(ContinueAfterEngaged), ContinueAfterEngaged), (nameof(ContinueAfterSkip), ContinueAfterSkip), (nameof(RewatchRate), RewatchRate), (nameof(ThumbsUpRate), ThumbsUpRate), (nameof(ThumbsDownRate), ThumbsDownRate), (nameof(SkipRate), SkipRate), (nameof(SatisfiedShare), SatisfiedShare), (nameof(Churn), Churn), (nameof(LoyaltyStep), LoyaltyStep) })
        {
            Range(name, value, 0, 1);
        }
        Range(nameof(EngagementBias), EngagementBias, -100, 100);
        Range(nameof(MarketSize), MarketSize, 1, 1_000_000);
        Range(nameof(Inflow), Inflow, 0, 1_000);
        Range(nameof(WordOfMouth), WordOfMouth, 0, 1_000);
        if (DriftDay is { } drift)
        {
            Range(nameof(DriftDay), drift, 1, int.MaxValue);
        }
    }
}

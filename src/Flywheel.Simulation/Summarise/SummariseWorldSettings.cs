namespace Flywheel.Simulation.Summarise;

/// <summary>
/// The latent truth of a summarise world (docs/summarise-simulation.md): how users' preferences follow their context,
/// how often they ask for summaries, and how they react to one. None of it is visible to the engine, which sees each
/// request's context and each variant's features.
/// </summary>
public sealed record SummariseWorldSettings
{
    /// <summary>
    /// The share of users whose preferred length is their role's usual one (executive short, manager and engineer medium,
    /// analyst long) and whose preferred format is their device's (mobile bullets, desktop prose); the others prefer one of
    /// the other lengths or the other format, drawn uniformly. <value>Default 0.75.</value>
    /// </summary>
    public double TypicalShare { get; init; } = 0.75;

    /// <summary>
    /// The share of users whose preferred tone follows the task (formal for reports and emails, casual for notes and chat);
    /// the others always prefer one tone, drawn 50/50. <value>Default 0.8.</value>
    /// </summary>
    public double FollowsTaskShare { get; init; } = 0.8;

    /// <summary>The fewest summaries a user asks for a day, on average (each user's rate is uniform between the two). <value>Default 0.3.</value></summary>
    public double RateMin { get; init; } = 0.3;

    /// <summary>The most summaries a user asks for a day, on average. <value>Default 1.7 (a mean of 1).</value></summary>
    public double RateMax { get; init; } = 1.7;

    /// <summary>The fewest sentences a document has (at least the 7 of a long summary). <value>Default 9.</value></summary>
    public int SentencesMin { get; init; } = 9;

    /// <summary>The most sentences a document has. <value>Default 14.</value></summary>
    public int SentencesMax { get; init; } = 14;

    /// <summary>
    /// The chance that a user has each of the four personal touches (writes % for percent, drops "approximately", writes
    /// &amp; for and, says client for customer), which they make to any summary, however well it suits them. <value>Default 0.3.</value>
    /// </summary>
    public double TouchChance { get; init; } = 0.3;

    /// <summary>The lowest distance below which a user keeps an output as it is (each user's is uniform between the two). <value>Default 0.02.</value></summary>
    public double ToleranceMin { get; init; } = 0.02;

    /// <summary>The highest such distance. <value>Default 0.1.</value></summary>
    public double ToleranceMax { get; init; } = 0.10;

    /// <summary>The lowest distance from which a user may throw an output away and ask again (uniform between the two). <value>Default 0.45.</value></summary>
    public double RegenerateMin { get; init; } = 0.45;

    /// <summary>The highest such distance. <value>Default 0.75.</value></summary>
    public double RegenerateMax { get; init; } = 0.75;

    /// <summary>The chance that a user facing an output that far off regenerates rather than edits. <value>Default 0.7.</value></summary>
    public double RegenerateChance { get; init; } = 0.7;

    /// <summary>The most regenerations of one request; the last output is kept or edited. <value>Default 2.</value></summary>
    public int MaxRegenerations { get; init; } = 2;

    /// <summary>The share of outputs kept as they are that the user copies out (<c>copied</c>) rather than keeps (<c>kept</c>). <value>Default 0.35.</value></summary>
    public double CopyShare { get; init; } = 0.35;

    /// <summary>Checks the settings; throws <see cref="ArgumentOutOfRangeException"/> naming the bad one.</summary>
    public void Validate()
    {
        Share(TypicalShare, nameof(TypicalShare));
        Share(FollowsTaskShare, nameof(FollowsTaskShare));
        Share(TouchChance, nameof(TouchChance));
        Share(RegenerateChance, nameof(RegenerateChance));
        Share(CopyShare, nameof(CopyShare));
        if (RateMin is < 0 or > 100 || RateMax < RateMin || RateMax > 100)
        {
            throw new ArgumentOutOfRangeException(nameof(RateMax), RateMax, "rates must satisfy 0 <= min <= max <= 100");
        }
        if (SentencesMin < SummaryStyle.Points(SummaryLength.Long) || SentencesMax < SentencesMin || SentencesMax > 100)
        {
            throw new ArgumentOutOfRangeException(nameof(SentencesMin), SentencesMin, "documents must have at least 7 sentences (a long summary's points) and at most 100");
        }
        if (ToleranceMin < 0 || ToleranceMax < ToleranceMin || ToleranceMax >= RegenerateMin)
        {
            throw new ArgumentOutOfRangeException(nameof(ToleranceMax), ToleranceMax, "tolerances must satisfy 0 <= min <= max < the lowest regenerate distance");
        }
        if (RegenerateMax < RegenerateMin || RegenerateMax > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(RegenerateMax), RegenerateMax, "regenerate distances must satisfy min <= max <= 1");
        }
        if (MaxRegenerations is < 0 or > 7)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxRegenerations), MaxRegenerations, "from 0 to 7: each regeneration offers the variants not yet tried");
        }
    }

    private static void Share(double value, string name)
    {
        if (value is < 0 or > 1 || double.IsNaN(value))
        {
            throw new ArgumentOutOfRangeException(name, value, "must be from 0 to 1");
        }
    }
}

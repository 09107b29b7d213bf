namespace Flywheel.Simulation.Summarise;

/// <summary>How an arm of the summarise scenario picks each request's prompt variant.</summary>
public enum SummarisePolicy
{
    /// <summary>The generation loop on the real engine, learning online from what users keep, edit and regenerate.</summary>
    Loop,

    /// <summary>
    /// The same loop in <c>frozen</c> mode on its own engine: it decides, stores and joins like the loop, but never learns,
    /// so its untrained model serves every variant with the same probability.
    /// </summary>
    Baseline,
}

/// <summary>Settings of one run of the summarise scenario (<c>flywheel simulate summarise</c>).</summary>
public sealed record SummariseOptions
{
    /// <summary>The default number of users.</summary>
    public const int DefaultUsers = 200;

    /// <summary>The most users a run may have.</summary>
    public const int MaxUsers = 10_000;

    /// <summary>The default length of a run in days.</summary>
    public const int DefaultDays = 30;

    /// <summary>The longest run in days.</summary>
    public const int MaxDays = 365;

    /// <summary>Users, the same people under both arms. 1–<see cref="MaxUsers"/>. <value>Default 200 (about 200 requests a day).</value></summary>
    public int Users { get; init; } = DefaultUsers;

    /// <summary>Days simulated, from 1 January 2027. 1–<see cref="MaxDays"/>. <value>Default 30.</value></summary>
    public int Days { get; init; } = DefaultDays;

    /// <summary>Seed of the world, the users' dice and the engine's exploration. <value>Default 1.</value></summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Where each arm's store goes: one folder per arm (<c>loop</c>, <c>baseline</c>), emptied first.</summary>
    public required string DataDirectory { get; init; }

    /// <summary>Days per row of the learning curve. <value>Default 5.</value></summary>
    public int BlockDays { get; init; } = 5;

    /// <summary>The last generations of each arm the closing comparison covers (all of a shorter run). <value>Default 1,000.</value></summary>
    public int FinalGenerations { get; init; } = 1_000;

    /// <summary>The world's truth.</summary>
    public SummariseWorldSettings World { get; init; } = new();

    /// <summary>Checks the settings; throws <see cref="ArgumentOutOfRangeException"/> or <see cref="ArgumentException"/> naming the bad one.</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(World);
        World.Validate();
        if (Users is < 1 or > MaxUsers)
        {
            throw new ArgumentOutOfRangeException(nameof(Users), Users, $"users must be from 1 to {MaxUsers:N0}");
        }
        if (Days is < 1 or > MaxDays)
        {
            throw new ArgumentOutOfRangeException(nameof(Days), Days, $"days must be from 1 to {MaxDays}");
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(BlockDays, 1, nameof(BlockDays));
        ArgumentOutOfRangeException.ThrowIfLessThan(FinalGenerations, 2, nameof(FinalGenerations));
        ArgumentException.ThrowIfNullOrEmpty(DataDirectory);
    }
}

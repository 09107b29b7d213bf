using Flywheel.Core;

namespace Flywheel.Simulation;

/// <summary>One product in a scenario: how it is built (loop or straight line), when it launches, what it captures.</summary>
public sealed record ProductSpec
{
    /// <summary>Short key used in JSON (<c>a</c>, <c>b</c>, <c>c</c>) and as the loop's data folder.</summary>
    public required string Key { get; init; }

    /// <summary>Display name (<c>A</c>).</summary>
    public required string Name { get; init; }

    /// <summary>One line on how the product is built.</summary>
    public required string Description { get; init; }

    /// <summary>The loop's mode at launch: online (a loop) or frozen (the straight line). <value>Default online.</value></summary>
    public LoopMode Mode { get; init; } = LoopMode.Online;

    /// <summary>Day (1-based) the product launches. <value>Default 1.</value></summary>
    public int LaunchDay { get; init; } = 1;

    /// <summary>Whether the product sends the signals its users leave. <value>Default true.</value></summary>
    public bool CapturesSignals { get; init; } = true;

    /// <summary>Whether the engine runs turns on the loop's schedule. <value>Default true.</value></summary>
    public bool Turns { get; init; } = true;

    /// <summary>Day from which rival clones of this product appear (one more every two months); null for none.</summary>
    public int? ClonedFromDay { get; init; }

    /// <summary>Day from which the loop stops learning and turning (set to frozen); null for never.</summary>
    public int? FreezeDay { get; init; }
}

/// <summary>A world with known truth and the products that live in it.</summary>
public sealed record Scenario
{
    /// <summary>The scenario's name, as given to <c>flywheel simulate</c>.</summary>
    public required string Name { get; init; }

    /// <summary>What the world is and what should happen in it.</summary>
    public required string Description { get; init; }

    /// <summary>The world's latent truth.</summary>
    public WorldSettings World { get; init; } = new();

    /// <summary>The products, each with its own users, loop and data directory.</summary>
    public required IReadOnlyList<ProductSpec> Products { get; init; }
}

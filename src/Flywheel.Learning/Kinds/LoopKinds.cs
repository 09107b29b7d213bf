using Flywheel.Core;

namespace Flywheel.Learning;

/// <summary>The implementation of each loop kind: the one place that maps a config's <c>kind</c> to code.</summary>
public static class LoopKinds
{
    /// <summary>The kind of <paramref name="config"/>.</summary>
    public static ILoopKind For(LoopConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return For(config.Kind);
    }

    /// <summary>The implementation of <paramref name="kind"/>.</summary>
    public static ILoopKind For(LoopKind kind) => kind switch
    {
        LoopKind.Choose => ChooseKind.Instance,
        LoopKind.Rank => RankKind.Instance,
        LoopKind.Ability => AbilityKind.Instance,
        _ => throw new FlywheelValidationException("kind", $"loop kind {kind} is not supported yet") { Kind = ValidationKind.NotSupported },
    };
}

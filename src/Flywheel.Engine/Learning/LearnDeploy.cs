using Flywheel.Core;
using Flywheel.Learning;

namespace Flywheel.Engine;

/// <summary>
/// Replaces the champion: the learner catches up on the rewards learned since <see cref="LearnedThrough"/>, then the
/// registry change (<see cref="Change"/>, given the old learner's weights and position) is committed together with the
/// new learner's snapshot, and only then does it serve with <see cref="Config"/> as <see cref="Version"/>.
/// </summary>
internal sealed class LearnDeploy(LoopRuntime loop, LoopConfig config, ILoopLearner learner, long learnedThrough, int version, Func<byte[], long, RegistryChange> change) : LearnItem
{
    public LoopRuntime Loop { get; } = loop;

    public LoopConfig Config { get; } = config;

    public ILoopLearner Learner { get; } = learner;

    public long LearnedThrough { get; } = learnedThrough;

    public int Version { get; } = version;

    /// <summary>Builds the registry change from the replaced learner's weights and position.</summary>
    public Func<byte[], long, RegistryChange> Change { get; } = change;

    public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

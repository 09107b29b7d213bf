using System.Globalization;
using System.Reflection;
using Flywheel.Core;
using Flywheel.Engine;
using Flywheel.Learning;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

/// <summary>
/// The registry crash host: opens an engine on a prepared data folder, prints <c>B</c>, runs one registry change
/// (<c>promote</c> of v3, <c>rollback</c> or <c>turn</c>), prints <c>E</c>, then waits to be killed. Around the store
/// commit of the change it prints <c>C</c> (before) and <c>c</c> (after); with <c>before</c> or <c>after</c> as pause it
/// stops there for good, so a test can kill it at exactly that moment.
/// </summary>
internal static class RegistryHost
{
    // Usage: Flywheel.Engine.CrashHost DATA_DIR registry promote|rollback|turn none|before|after CLOCK_TICKS
    public static async Task RunAsync(string[] args)
    {
        var (directory, operation, pause) = (args[0], args[2], args[3]);
        var time = new FakeTimeProvider(new DateTimeOffset(long.Parse(args[4], CultureInfo.InvariantCulture), TimeSpan.Zero));
        var options = new FlywheelOptions
        {
            ScheduleTurns = false,
            CandidateSearch = config =>
            [
                new CandidateSettings("epsilon 0.02", config.Learner, config.Exploration with { Epsilon = 0.02 }),
                new CandidateSettings("epsilon 0.9", config.Learner, config.Exploration with { Epsilon = 0.9 }),
            ],
        }.UseSqlite(directory);
        var factory = options.StoreFactory!;
        options.StoreFactory = services => HookedStore.Wrap(factory(services), pause);
        var engine = await FlywheelEngine.OpenAsync(options, time);
        await engine.StartAsync();
        HookedStore.Armed = true;
        Say("B");
        _ = operation switch
        {
            "promote" => await engine.PromoteAsync("feed", 3),
            "rollback" => await engine.RollbackAsync("feed"),
            "turn" => await engine.RunTurnAsync("feed"),
            _ => throw new ArgumentException($"unknown operation '{operation}'"),
        };
        Say("E");
        await new TaskCompletionSource().Task; // until killed
    }

    public static void Say(string line)
    {
        Console.Out.WriteLine(line);
        Console.Out.Flush();
    }
}

/// <summary>Passes every call through; announces (and may stop at) the registry commit.</summary>
public class HookedStore : DispatchProxy
{
    private IFlywheelStore _inner = null!;

    /// <summary>Set once the engine has started: only the change's commit is announced, not one at start-up.</summary>
    public static volatile bool Armed;
    private string _pause = "none";

    public static IFlywheelStore Wrap(IFlywheelStore inner, string pause)
    {
        var proxy = Create<IFlywheelStore, HookedStore>();
        var hooked = (HookedStore)(object)proxy;
        hooked._inner = inner;
        hooked._pause = pause;
        return proxy;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        if (Armed && targetMethod.Name == nameof(IFlywheelStore.CommitRegistryAsync))
        {
            return new ValueTask(CommitAsync((RegistryChange)args![0]!, (CancellationToken)args[1]!));
        }
        try
        {
            return targetMethod.Invoke(_inner, args);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(ex.InnerException);
            throw;
        }
    }

    private async Task CommitAsync(RegistryChange change, CancellationToken cancellationToken)
    {
        RegistryHost.Say("C");
        if (_pause == "before")
        {
            await new TaskCompletionSource().Task; // until killed
        }
        await _inner.CommitRegistryAsync(change, cancellationToken);
        RegistryHost.Say("c");
        if (_pause == "after")
        {
            await new TaskCompletionSource().Task; // until killed
        }
    }
}

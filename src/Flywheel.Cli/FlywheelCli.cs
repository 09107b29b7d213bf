using System.CommandLine;
using Flywheel.Cli.Commands;
using Flywheel.Core;

namespace Flywheel.Cli;

/// <summary>
/// The <c>flywheel</c> command line, callable in process. Bad arguments print exactly one line on the
/// error writer and return <see cref="ExitCodes.Usage"/>; <c>--help</c> prints help and returns 0.
/// </summary>
public static class FlywheelCli
{
    /// <summary>The executable's name, as shown in messages.</summary>
    public const string Name = "flywheel";

    /// <summary>Parses <paramref name="args"/> and runs the verb they name.</summary>
    /// <param name="args">The arguments, without the executable's name.</param>
    /// <param name="stdout">Where results go.</param>
    /// <param name="stderr">Where errors and progress go.</param>
    /// <param name="cancellationToken">Stops a running verb.</param>
    /// <returns>The process exit code: 0 on success, 2 for bad arguments or data (see <see cref="ExitCodes"/>).</returns>
    public static Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stderr);
        // A progress bar only when the error writer is a real terminal, never when it is a captured writer.
        var interactive = ReferenceEquals(stderr, Console.Error) && !Console.IsErrorRedirected;
        return RunAsync(args, new CliContext(stdout, stderr, interactive, TimeProvider.System), cancellationToken);
    }

    internal static async Task<int> RunAsync(string[] args, CliContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(context);
        var root = BuildRootCommand(context);
        var parse = root.Parse(args);
        var clearsErrors = parse.Action is { ClearsParseErrors: true }; // --help, --version
        if (parse.Errors.Count > 0 && !clearsErrors)
        {
            // "Unrecognized command or argument 'x'" says more than the "Required command" error it causes.
            var error = parse.Errors.FirstOrDefault(e => e.Message.StartsWith("Unrecognized", StringComparison.Ordinal)) ?? parse.Errors[0];
            context.ErrorLine(CommandPath(parse), error.Message);
            return ExitCodes.Usage;
        }
        try
        {
            var config = new InvocationConfiguration
            {
                Output = context.Out,
                Error = context.Error,
                EnableDefaultExceptionHandler = false,
            };
            return await parse.InvokeAsync(config, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            context.ErrorLine(CommandPath(parse), "cancelled");
            return ExitCodes.Cancelled;
        }
        catch (Exception ex) when (StoreUnavailable(ex) is { } unavailable)
        {
            // Something for the operator to fix (another process holds the directory, a corrupt file): their words only.
            context.ErrorLine(CommandPath(parse), unavailable.Message);
            return ExitCodes.Failure;
        }
        catch (Exception ex)
        {
            context.ErrorLine(CommandPath(parse), $"internal error: {ex.GetType().Name}: {ex.Message}");
            return ExitCodes.Failure;
        }
    }

    /// <summary>The root command with every verb.</summary>
    internal static RootCommand BuildRootCommand(CliContext context)
    {
        var root = new RootCommand("Flywheel: a self-hosted data-flywheel engine (contextual bandits that learn from their own decisions).");
        // One class per verb; serve, evaluate, simulate, … slot in here.
        root.Subcommands.Add(DemoCommand.Create(context));
        root.Subcommands.Add(SimulateCommand.Create(context));
        root.Subcommands.Add(ReplayCommand.Create(context));
        root.Subcommands.Add(EvaluateCommand.Create(context));
        root.Subcommands.Add(ServeCommand.Create(context));
        root.Subcommands.Add(KeysCommand.Create(context));
        root.Subcommands.Add(LoopsCommand.Create(context));
        root.Subcommands.Add(TurnsCommand.Create(context));
        root.Subcommands.Add(ModelsCommand.Create(context));
        root.Subcommands.Add(ExportCommand.Create(context));
        root.Subcommands.Add(HealthCommand.Create(context));
        root.Subcommands.Add(AbilityCommands.Learner(context));
        root.Subcommands.Add(AbilityCommands.Item(context));
        root.Subcommands.Add(ProbeCommand.Create(context));
        return root;
    }

    /// <summary>The store's refusal, also when the host wrapped it on the way out of start-up.</summary>
    private static FlywheelStoreUnavailableException? StoreUnavailable(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is FlywheelStoreUnavailableException unavailable)
            {
                return unavailable;
            }
        }
        return null;
    }

    private static string CommandPath(ParseResult parse)
    {
        var command = parse.CommandResult.Command;
        return command is RootCommand ? Name : $"{Name} {command.Name}";
    }
}

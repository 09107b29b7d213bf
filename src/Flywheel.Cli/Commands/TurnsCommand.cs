using System.CommandLine;
using Flywheel.Core;

namespace Flywheel.Cli.Commands;

/// <summary><c>flywheel turns LOOP [--run] [--json]</c>: the turn ledger of a loop on a running server; <c>--run</c> runs a turn first.</summary>
internal static class TurnsCommand
{
    private const string CommandName = FlywheelCli.Name + " turns";

    public static Command Create(CliContext context)
    {
        var loop = new Argument<string>("LOOP") { Description = "The loop id." };
        var run = new Option<bool>("--run")
        {
            Description = "Run a turn now (train candidates, evaluate them off-policy, promote under the loop's policy) and print its entry.",
        };
        var json = new Option<bool>("--json") { Description = "Print JSON: { \"turns\": [...] }, or the entry of the turn just run." };
        var server = ServerCommand.ServerOption();
        var key = ServerCommand.KeyOption();

        var command = new Command("turns", "Print a loop's turn ledger: each turn, promotion and rollback with its verdict, reason and estimates.")
        {
            loop, run, json, server, key,
        };
        command.SetAction((parse, cancellationToken) => ServerCommand.RunAsync(context, CommandName, parse.GetValue(server), parse.GetValue(key), async client =>
        {
            var id = parse.GetRequiredValue(loop);
            if (parse.GetValue(run))
            {
                var turn = await client.RunTurnAsync(id, cancellationToken);
                if (parse.GetValue(json))
                {
                    context.Out.WriteLine(FlywheelJson.Serialize(turn));
                }
                else
                {
                    LedgerText.WriteTurn(context.Out, turn);
                }
                return;
            }
            var turns = await client.ListTurnsAsync(id, cancellationToken);
            if (parse.GetValue(json))
            {
                context.Out.WriteLine(FlywheelJson.Serialize(new TurnList(turns)));
            }
            else if (turns.Count == 0)
            {
                context.Out.WriteLine($"loop '{id}' has no turns yet; run one with --run");
            }
            else
            {
                LedgerText.WriteTurns(context.Out, turns);
            }
        }));
        return command;
    }
}

using System.CommandLine;
using Flywheel.Core;

namespace Flywheel.Cli.Commands;

/// <summary>
/// <c>flywheel models LOOP [--promote V | --rollback] [--reason TEXT] [--json]</c>: a loop's model registry on a
/// running server; promote a model by hand or roll the champion back.
/// </summary>
internal static class ModelsCommand
{
    private const string CommandName = FlywheelCli.Name + " models";

    public static Command Create(CliContext context)
    {
        var loop = new Argument<string>("LOOP") { Description = "The loop id." };
        var promote = new Option<string>("--promote")
        {
            Description = "Make this model version the champion now (3 or v3); it must have stored weights.",
            HelpName = "V",
        };
        var rollback = new Option<bool>("--rollback") { Description = "Put the champion's predecessor back." };
        var reason = new Option<string>("--reason")
        {
            Description = "Why, recorded in the ledger with --promote or --rollback.",
            HelpName = "TEXT",
        };
        var json = new Option<bool>("--json") { Description = "Print JSON: { \"models\": [...] }, or the ledger entry of a promotion or rollback." };
        var server = ServerCommand.ServerOption();

        var command = new Command("models", "List a loop's models with lineage, status and estimates; promote one or roll back.")
        {
            loop, promote, rollback, reason, json, server,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var promoted = parse.GetValue(promote);
            var rolledBack = parse.GetValue(rollback);
            var why = parse.GetValue(reason);
            string? problem = null;
            int version = 0;
            if (promoted is not null && rolledBack)
            {
                problem = "--promote and --rollback cannot be combined";
            }
            else if (why is not null && promoted is null && !rolledBack)
            {
                problem = "--reason goes with --promote or --rollback";
            }
            else if (promoted is not null)
            {
                try
                {
                    version = ServerCommand.ParseVersion(promoted, "--promote");
                }
                catch (UsageException ex)
                {
                    problem = ex.Message;
                }
            }
            if (problem is not null)
            {
                context.ErrorLine(CommandName, problem);
                return Task.FromResult(ExitCodes.Usage);
            }

            return ServerCommand.RunAsync(context, CommandName, parse.GetRequiredValue(server), async client =>
            {
                var id = parse.GetRequiredValue(loop);
                if (promoted is not null || rolledBack)
                {
                    var entry = promoted is not null
                        ? await client.PromoteAsync(id, version, why, cancellationToken)
                        : await client.RollbackAsync(id, why, cancellationToken);
                    if (parse.GetValue(json))
                    {
                        context.Out.WriteLine(FlywheelJson.ToString(w => FlywheelJson.WriteTurn(w, entry)));
                    }
                    else
                    {
                        LedgerText.WriteTurn(context.Out, entry);
                    }
                    return;
                }
                var models = await client.ListModelsAsync(id, cancellationToken);
                if (parse.GetValue(json))
                {
                    context.Out.WriteLine(FlywheelJson.ToString(w =>
                    {
                        w.WriteStartObject();
                        w.WriteStartArray("models");
                        foreach (var m in models)
                        {
                            FlywheelJson.WriteModel(w, m);
                        }
                        w.WriteEndArray();
                        w.WriteEndObject();
                    }));
                }
                else
                {
                    LedgerText.WriteModels(context.Out, models);
                }
            });
        });
        return command;
    }
}

using System.CommandLine;
using Flywheel.Core;

namespace Flywheel.Cli.Commands;

/// <summary>
/// <c>flywheel models LOOP [--promote V | --rollback | --shadow V | --retire V | --report V | --mismatches [V]]
/// [--reason TEXT] [--limit N] [--json]</c>: a loop's model registry on a running server; promote a model by hand or
/// roll the champion back; run a model in shadow mode, retire it, read its report and its mismatches.
/// </summary>
internal static class ModelsCommand
{
    private const string CommandName = FlywheelCli.Name + " models";

    /// <summary>Most mismatches one request may ask for (the server's limit).</summary>
    private const int MaxLimit = 100_000;

    public static Command Create(CliContext context)
    {
        var loop = new Argument<string>("LOOP") { Description = "The loop id." };
        var promote = new Option<string>("--promote")
        {
            Description = "Make this model version the champion now (3 or v3); it must have stored weights.",
            HelpName = "V",
        };
        var rollback = new Option<bool>("--rollback") { Description = "Put the champion's predecessor back." };
        var shadow = new Option<string>("--shadow")
        {
            Description = "Run this model version in shadow mode: it scores every decision without being served. It must have stored weights.",
            HelpName = "V",
        };
        var retire = new Option<string>("--retire")
        {
            Description = "Retire this shadow or candidate (a shadow stops scoring decisions).",
            HelpName = "V",
        };
        var report = new Option<string>("--report")
        {
            Description = "Print this shadow's report: rewarded decisions scored, agreement rate, IPS and SNIPS on live traffic with intervals, mismatches.",
            HelpName = "V",
        };
        var mismatches = new Option<string>("--mismatches")
        {
            Description = "List the latest mismatches of this shadow, or of every shadow without V: decisions where it disagreed and the reward shows one side was clearly wrong.",
            HelpName = "V",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var limit = new Option<int?>("--limit")
        {
            Description = "How many of the latest mismatches to list with --mismatches, 1 to 100,000 (default 100).",
            HelpName = "N",
        };
        var reason = new Option<string>("--reason")
        {
            Description = "Why, recorded in the ledger with --promote or --rollback, or with the model with --retire.",
            HelpName = "TEXT",
        };
        var json = new Option<bool>("--json")
        {
            Description = "Print JSON: { \"models\": [...] }, the ledger entry of a promotion or rollback, the model after --shadow or --retire, "
                + "the shadow report, or { \"mismatches\": [...] }.",
        };
        var server = ServerCommand.ServerOption();
        var key = ServerCommand.KeyOption();

        var command = new Command("models", "List a loop's models with lineage, status and estimates; promote one or roll back; run one in shadow mode, read its report and mismatches, retire it.")
        {
            loop, promote, rollback, shadow, retire, report, mismatches, limit, reason, json, server, key,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var promoted = parse.GetValue(promote);
            var rolledBack = parse.GetValue(rollback);
            var shadowed = parse.GetValue(shadow);
            var retired = parse.GetValue(retire);
            var reported = parse.GetValue(report);
            var listMismatches = parse.GetResult(mismatches) is not null;
            var mismatchesOf = parse.GetValue(mismatches);
            var count = parse.GetValue(limit);
            var why = parse.GetValue(reason);

            var chosen = new List<string>();
            if (promoted is not null)
            {
                chosen.Add("--promote");
            }
            if (rolledBack)
            {
                chosen.Add("--rollback");
            }
            if (shadowed is not null)
            {
                chosen.Add("--shadow");
            }
            if (retired is not null)
            {
                chosen.Add("--retire");
            }
            if (reported is not null)
            {
                chosen.Add("--report");
            }
            if (listMismatches)
            {
                chosen.Add("--mismatches");
            }

            string? problem = null;
            int version = 0;
            int? mismatchVersion = null;
            if (chosen.Count > 1)
            {
                problem = $"{chosen[0]} and {chosen[1]} cannot be combined";
            }
            else if (why is not null && promoted is null && !rolledBack && retired is null)
            {
                problem = "--reason goes with --promote, --rollback or --retire";
            }
            else if (count is not null && !listMismatches)
            {
                problem = "--limit goes with --mismatches";
            }
            else if (count is < 1 or > MaxLimit)
            {
                problem = $"--limit {count} is out of range; use a number from 1 to {MaxLimit}";
            }
            else
            {
                try
                {
                    if ((promoted ?? shadowed ?? retired ?? reported) is { } text)
                    {
                        version = ServerCommand.ParseVersion(text, chosen[0]);
                    }
                    else if (!string.IsNullOrEmpty(mismatchesOf))
                    {
                        mismatchVersion = ServerCommand.ParseVersion(mismatchesOf, "--mismatches");
                    }
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

            var asJson = parse.GetValue(json);
            return ServerCommand.RunAsync(context, CommandName, parse.GetValue(server), parse.GetValue(key), async client =>
            {
                var id = parse.GetRequiredValue(loop);
                if (promoted is not null || rolledBack)
                {
                    var entry = promoted is not null
                        ? await client.PromoteAsync(id, version, why, cancellationToken)
                        : await client.RollbackAsync(id, why, cancellationToken);
                    if (asJson)
                    {
                        context.Out.WriteLine(FlywheelJson.Serialize(entry));
                    }
                    else
                    {
                        LedgerText.WriteTurn(context.Out, entry);
                    }
                    return;
                }
                if (shadowed is not null || retired is not null)
                {
                    var model = shadowed is not null
                        ? await client.ShadowAsync(id, version, cancellationToken)
                        : await client.RetireAsync(id, version, why, cancellationToken);
                    if (asJson)
                    {
                        context.Out.WriteLine(FlywheelJson.Serialize(model));
                    }
                    else
                    {
                        LedgerText.WriteModels(context.Out, [model]);
                    }
                    return;
                }
                if (reported is not null)
                {
                    var shadowReport = await client.GetShadowReportAsync(id, version, cancellationToken);
                    if (asJson)
                    {
                        context.Out.WriteLine(FlywheelJson.Serialize(shadowReport));
                    }
                    else
                    {
                        LedgerText.WriteShadowReport(context.Out, shadowReport);
                    }
                    return;
                }
                if (listMismatches)
                {
                    var listed = await client.ListMismatchesAsync(id, mismatchVersion, count ?? 100, cancellationToken);
                    if (asJson)
                    {
                        context.Out.WriteLine(FlywheelJson.Serialize(new MismatchList(listed)));
                    }
                    else if (listed.Count == 0)
                    {
                        context.Out.WriteLine(mismatchVersion is { } v
                            ? $"shadow v{v} of loop '{id}' has no mismatches yet"
                            : $"loop '{id}' has no shadow mismatches yet");
                    }
                    else
                    {
                        LedgerText.WriteMismatches(context.Out, listed);
                    }
                    return;
                }
                var models = await client.ListModelsAsync(id, cancellationToken);
                if (asJson)
                {
                    context.Out.WriteLine(FlywheelJson.Serialize(new ModelList(models)));
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

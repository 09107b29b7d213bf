using System.CommandLine;
using Flywheel.Client;
using Flywheel.Core;

namespace Flywheel.Cli.Commands;

/// <summary><c>flywheel loops list|show LOOP|apply FILE</c> against a running server.</summary>
internal static class LoopsCommand
{
    public static Command Create(CliContext context)
    {
        var server = ServerCommand.ServerOption(recursive: true);
        var key = ServerCommand.KeyOption(recursive: true);
        var json = new Option<bool>("--json") { Description = "Print JSON.", Recursive = true };

        var list = new Command("list", "List the loops with their kind, mode and signal types.");
        list.SetAction((parse, ct) => RunAsync(context, "list", parse.GetValue(server), parse.GetValue(key), async client =>
        {
            var loops = await client.ListLoopsAsync(ct);
            if (parse.GetValue(json))
            {
                context.Out.WriteLine(FlywheelJson.ToString(w =>
                {
                    w.WriteStartArray();
                    foreach (var l in loops)
                    {
                        LoopConfigJson.Write(w, l);
                    }
                    w.WriteEndArray();
                }));
                return;
            }
            if (loops.Count == 0)
            {
                context.Out.WriteLine("no loops");
                return;
            }
            context.Out.WriteLine($"{"loop",-24} {"kind",-8} {"mode",-8} signals");
            foreach (var l in loops)
            {
                context.Out.WriteLine($"{l.Id,-24} {LoopConfigJson.Name(l.Kind),-8} {LoopConfigJson.Name(l.Mode),-8} {string.Join(", ", l.Signals.Keys)}");
            }
        }));

        var loopArgument = new Argument<string>("LOOP") { Description = "The loop id." };
        var show = new Command("show", "Print one loop's config as JSON.") { loopArgument };
        show.SetAction((parse, ct) => RunAsync(context, "show", parse.GetValue(server), parse.GetValue(key), async client =>
        {
            var id = parse.GetRequiredValue(loopArgument);
            var config = await client.GetLoopAsync(id, ct)
                ?? throw new FlywheelValidationException("LOOP", $"loop '{id}' does not exist") { Kind = ValidationKind.NotFound };
            context.Out.WriteLine(LoopConfigJson.Serialize(config, indented: true));
        }));

        var fileArgument = new Argument<string>("FILE") { Description = "A loop config (JSON, docs/loop-config.md) with its id." };
        var apply = new Command("apply", "Create or update the loop a config file describes.") { fileArgument };
        apply.SetAction((parse, ct) => RunAsync(context, "apply", parse.GetValue(server), parse.GetValue(key), async client =>
        {
            var file = parse.GetRequiredValue(fileArgument);
            if (!File.Exists(file))
            {
                throw new UsageException($"file '{file}' not found");
            }
            LoopConfig config;
            try
            {
                config = LoopConfigJson.Parse(await File.ReadAllTextAsync(file, ct));
            }
            catch (FlywheelValidationException ex)
            {
                // The file is the subject: "feed.json: reward.windowSeconds: must be …".
                throw new UsageException($"{file}: {ex.Message}");
            }
            var stored = await client.PutLoopAsync(config, ct);
            if (parse.GetValue(json))
            {
                context.Out.WriteLine(LoopConfigJson.Serialize(stored));
            }
            else
            {
                context.Out.WriteLine($"applied loop '{stored.Id}' to {client.BaseAddress}");
            }
        }));

        return new Command("loops", "List, show and apply loop configs on a running server.") { server, key, json, list, show, apply };
    }

    private static Task<int> RunAsync(CliContext context, string verb, string? server, string? key, Func<FlywheelClient, Task> action)
        => ServerCommand.RunAsync(context, $"{FlywheelCli.Name} loops {verb}", server, key, action);
}

using System.CommandLine;

namespace Flywheel.Cli.Commands;

/// <summary>
/// <c>flywheel probe [--ready]</c>: asks a running server's <c>/healthz</c> (or <c>/readyz</c>) and exits 0 when it answers
/// 200. Made for container health checks, where the runtime image has no curl.
/// </summary>
internal static class ProbeCommand
{
    private const string CommandName = FlywheelCli.Name + " probe";

    /// <summary>How long one probe waits for the answer; an orchestrator's own timeout usually stops it first.</summary>
    internal static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(10);

    public static Command Create(CliContext context)
    {
        var ready = new Option<bool>("--ready") { Description = "Ask /readyz (can the store write?) instead of /healthz (is the process answering?)." };
        var server = ServerCommand.ServerOption();
        var command = new Command("probe", "Exit 0 when a running server answers its liveness check (/healthz) or, with --ready, its readiness check (/readyz) with 200; "
            + "1 otherwise, with one line saying why. Needs no key.")
        {
            ready, server,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (ServerCommand.Address(context, CommandName, parse.GetValue(server)) is not { } address)
            {
                return ExitCodes.Usage;
            }
            var url = new Uri(address, parse.GetValue(ready) ? "/readyz" : "/healthz");
            using var http = new HttpClient { Timeout = AnswerTimeout };
            try
            {
                using var response = await http.GetAsync(url, cancellationToken);
                var body = (await response.Content.ReadAsStringAsync(cancellationToken)).Trim();
                var status = (int)response.StatusCode;
                if (status != 200)
                {
                    context.ErrorLine(CommandName, $"{url} answered {status}: {body}");
                    return ExitCodes.Failure;
                }
                context.Out.WriteLine($"{url} {status} {body}");
                return ExitCodes.Success;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                context.ErrorLine(CommandName, $"{url} did not answer: {(ex is TaskCanceledException ? $"no answer within {AnswerTimeout.TotalSeconds:0} s" : ex.Message)}");
                return ExitCodes.Failure;
            }
        });
        return command;
    }
}

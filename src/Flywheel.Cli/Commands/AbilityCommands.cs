using System.CommandLine;
using System.Globalization;
using Flywheel.Core;

namespace Flywheel.Cli.Commands;

/// <summary>
/// <c>flywheel learner LOOP USER [--reviews [--due T]] [--json]</c> and <c>flywheel item LOOP ACTION [--json]</c>: an
/// <c>ability</c> loop's estimates of one learner or item, from a running server.
/// </summary>
internal static class AbilityCommands
{
    public static Command Learner(CliContext context)
    {
        var loop = new Argument<string>("LOOP") { Description = "The loop id (kind ability)." };
        var user = new Argument<string>("USER") { Description = "The learner's user id." };
        var reviews = new Option<bool>("--reviews") { Description = "List the learner's items due for review instead, least remembered first." };
        var due = new Option<string>("--due") { Description = "With --reviews: the items due at or before this time, ISO 8601 (default: now).", HelpName = "T" };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON." };
        var server = ServerCommand.ServerOption();
        var key = ServerCommand.KeyOption();
        var command = new Command("learner", "Print a learner of an ability loop: ability with its 95% interval, answers, success rate, streak and reviews due.")
        {
            loop, user, reviews, due, json, server, key,
        };
        const string name = FlywheelCli.Name + " learner";
        command.SetAction((parse, cancellationToken) => ServerCommand.RunAsync(context, name, parse.GetValue(server), parse.GetValue(key), async client =>
        {
            var id = parse.GetRequiredValue(loop);
            var userId = parse.GetRequiredValue(user);
            if (parse.GetValue(due) is not null && !parse.GetValue(reviews))
            {
                throw new UsageException("--due lists reviews: give --reviews with it");
            }
            if (parse.GetValue(reviews))
            {
                var list = await client.GetReviewsAsync(id, userId, FlywheelJson.ParseTime(parse.GetValue(due), "--due"), cancellationToken);
                if (parse.GetValue(json))
                {
                    context.Out.WriteLine(FlywheelJson.Serialize(list));
                    return;
                }
                WriteReviews(context.Out, list);
                return;
            }
            var report = await client.GetLearnerAsync(id, userId, cancellationToken);
            if (parse.GetValue(json))
            {
                context.Out.WriteLine(FlywheelJson.Serialize(report));
                return;
            }
            Write(context.Out, report);
        }));
        return command;
    }

    public static Command Item(CliContext context)
    {
        var loop = new Argument<string>("LOOP") { Description = "The loop id (kind ability)." };
        var action = new Argument<string>("ACTION") { Description = "The item's action id." };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON." };
        var server = ServerCommand.ServerOption();
        var key = ServerCommand.KeyOption();
        var command = new Command("item", "Print an item of an ability loop: difficulty with its 95% interval and the answers behind it.")
        {
            loop, action, json, server, key,
        };
        const string name = FlywheelCli.Name + " item";
        command.SetAction((parse, cancellationToken) => ServerCommand.RunAsync(context, name, parse.GetValue(server), parse.GetValue(key), async client =>
        {
            var report = await client.GetItemAsync(parse.GetRequiredValue(loop), parse.GetRequiredValue(action), cancellationToken);
            if (parse.GetValue(json))
            {
                context.Out.WriteLine(FlywheelJson.Serialize(report));
                return;
            }
            context.Out.WriteLine($"{report.Loop} item {report.ActionId}");
            context.Out.WriteLine($"  difficulty  {Estimate(report.Difficulty)}{(double.IsFinite(report.FromFeatures) ? $"; its features alone say {F(report.FromFeatures)}" : "")}");
            context.Out.WriteLine($"  answers     {N(report.Answers)} first answers, {N(report.Correct)} correct ({P(report.SuccessRate)})");
        }));
        return command;
    }

    internal static void Write(TextWriter o, LearnerReport r)
    {
        var s = r.Streak;
        o.WriteLine($"{r.Loop} learner {r.UserId}");
        o.WriteLine($"  ability     {Estimate(r.Ability)}");
        o.WriteLine($"  answers     {N(r.Answers)}, {N(r.Correct)} correct ({P(r.SuccessRate)}; recently {P(r.RecentSuccess)}); last {(r.LastAnswerAt is { } at ? at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture) : "never")}");
        o.WriteLine($"  streak      {s.Current} day(s){(s.AtRisk ? ", at risk today" : "")}; best {s.Best}; {N(s.ActiveDays)} active day(s); time zone {s.TimeZone}");
        o.WriteLine($"  reviews     {r.ReviewsDue} due now of {N(r.ItemsSeen)} item(s) seen");
    }

    internal static void WriteReviews(TextWriter o, ReviewList list)
    {
        o.WriteLine($"{list.Loop} learner {list.UserId}: {list.Items.Count} review(s) due by {list.Due.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)}");
        foreach (var item in list.Items)
        {
            o.WriteLine($"  {item.ActionId,-24} recall {P(item.Recall),6}  due {item.DueAt.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}  stability {F(item.Stability)} d  reviews {item.Reviews}, lapses {item.Lapses}");
        }
    }

    private static string Estimate(AbilityEstimate e) => $"{F(e.Value)} (95% {F(e.Lower)} to {F(e.Upper)})";

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string F(double value) => double.IsFinite(value) ? value.ToString("0.###", CultureInfo.InvariantCulture) : "n/a";

    private static string P(double share) => double.IsFinite(share) ? share.ToString("0.0%", CultureInfo.InvariantCulture) : "n/a";
}

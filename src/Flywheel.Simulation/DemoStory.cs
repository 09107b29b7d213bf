using System.Globalization;
using System.Text;
using Flywheel.Core;

namespace Flywheel.Simulation;

/// <summary>The closing paragraphs of <c>flywheel demo</c>: what happened to products A, B and C, in numbers.</summary>
public static class DemoStory
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>
    /// Says, for the run's last month, how many users each product had and what it earned per decision, the difference
    /// between the loop and the straight line with its 95% interval, how much of the possible lift each reached, and
    /// what the loop's turns did. Paragraphs are separated by a blank line.
    /// </summary>
    public static string Summarize(SimulationResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var month = result.MonthCount;
        var name = SimulationCalendar.MonthName(month);
        var products = result.Products.ToDictionary(p => p.Spec.Key, StringComparer.Ordinal);
        var text = new StringBuilder();
        var a = products.GetValueOrDefault("a");
        var b = products.GetValueOrDefault("b");
        if (a is not null && b is not null)
        {
            var am = a.Months[^1];
            var bm = b.Months[^1];
            var first = a.Months[0];
            text.Append(string.Create(C, $"In {name}, A, built as a loop, had {am.ActiveUsers:N0} active users ({Ratio(am.ActiveUsers, first.ActiveUsers)} its first month's {first.ActiveUsers:N0}) and earned {Reward(am)} per decision. "));
            text.Append(string.Create(C, $"B, the straight line, had {bm.ActiveUsers:N0} active users{(bm.Rivals > 0 ? $" with {bm.Rivals} rival clone{(bm.Rivals == 1 ? "" : "s")} splitting its market" : "")} and earned {Reward(bm)}: it still serves its launch-day model, since nothing it saw could change it. "));
            if (result.RewardDifference("a", "b", month) is { } diff)
            {
                var verdict = diff.Lower > 0 || diff.Upper < 0 ? "the interval excludes zero" : "the interval includes zero: no difference shown";
                var direction = diff.Value >= 0 ? "higher" : "lower";
                text.Append(string.Create(C, $"A's reward per decision was {direction} by {Math.Abs(diff.Value):F3} (95% interval of A − B [{diff.Lower:F3}, {diff.Upper:F3}]; {verdict})."));
            }
            text.Append("\n\n");
            if (am.Truth is { } at && bm.Truth is { } bt)
            {
                text.Append(string.Create(C, $"Against the world's truth (what a perfect model would have picked from the same shortlists), A reached {Percent(at.LiftShare)} of the possible lift over a random pick in {name}, B {Percent(bt.LiftShare)}. "));
            }
            text.Append(Turns(a));
        }
        if (products.TryGetValue("c", out var c) && c.Months[^1].Launched && a is not null && b is not null)
        {
            var cm = c.Months[^1];
            var launch = SimulationCalendar.DateOf(c.Spec.LaunchDay).ToString("MMMM", C);
            text.Append("\n\n");
            text.Append(string.Create(C, $"C, the same loop launched in {launch}, had {cm.ActiveUsers:N0} active users in {name} and earned {Reward(cm)}: "));
            text.Append(Compare(cm, b.Months[^1], "B") + " and " + Compare(cm, a.Months[^1], "A") + ". ");
            text.Append("A loop learns from its own users; a rival who starts later starts with fewer of them, and so with less to learn from.");
        }
        return text.ToString();
    }

    private static string Turns(ProductResult product)
    {
        var judged = product.Turns.Count(t => t.Turn.Verdict is TurnVerdict.Promoted or TurnVerdict.Rejected);
        var promoted = product.Turns.Where(t => t.Turn.Verdict == TurnVerdict.Promoted).ToList();
        var rolledBack = product.Turns.Count(t => t.Turn.Verdict == TurnVerdict.RolledBack);
        var text = string.Create(C, $"A learned online from every reward and ran {judged} turn{(judged == 1 ? "" : "s")}, each judging candidates off-policy on the decisions since the last");
        if (promoted.Count == 0)
        {
            return text + ": none beat the learning champion with 95% confidence, so the champion kept serving and kept learning" + (rolledBack > 0 ? string.Create(C, $"; {rolledBack} rollback{(rolledBack == 1 ? "" : "s")}.") : ".");
        }
        var list = string.Join(", ", promoted.Select(t => string.Create(C, $"v{t.Turn.DeployedVersion} on {SimulationCalendar.DateOf(t.Day):d MMM} ({Candidate(t.Turn)})")));
        return text + string.Create(C, $"; {promoted.Count} promoted a better model: {list}") + (rolledBack > 0 ? string.Create(C, $"; the guardrail rolled back {rolledBack}.") : ".");
    }

    private static string Candidate(TurnRecord turn)
        => turn.Candidates.FirstOrDefault(c => c.Version == turn.DeployedVersion)?.Name ?? "candidate";

    private static string Compare(ProductMonth x, ProductMonth y, string name)
    {
        var users = x.ActiveUsers > y.ActiveUsers ? "more users" : x.ActiveUsers < y.ActiveUsers ? "fewer users" : "as many users";
        var reward = (x.MeanReward, y.MeanReward) switch
        {
            ({ } rx, { } ry) when rx.Value > ry.Value => "a higher reward",
            ({ } rx, { } ry) when rx.Value < ry.Value => "a lower reward",
            ({ }, { }) => "the same reward",
            _ => "no reward to compare",
        };
        return $"{users} and {reward} than {name}";
    }

    private static string Reward(ProductMonth m)
        => m.MeanReward is { } r ? string.Create(C, $"{r.Value:F3} [{r.Lower:F3}, {r.Upper:F3}]") : "nothing (no decisions)";

    private static string Percent(double share) => string.Create(C, $"{share * 100:F0}%");

    private static string Ratio(int now, int then)
        => then == 0 ? "from none in" : string.Create(C, $"{(double)now / then:F1}×");
}

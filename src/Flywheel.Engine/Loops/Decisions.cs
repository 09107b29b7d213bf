using Flywheel.Core;

namespace Flywheel.Engine;

/// <summary>Questions about a stored decision that serving, shadows, turns and evaluation all ask.</summary>
internal static class Decisions
{
    /// <summary>The index of action <paramref name="id"/>, or −1.</summary>
    public static int IndexOf(IReadOnlyList<ActionCandidate> actions, string id)
    {
        for (var i = 0; i < actions.Count; i++)
        {
            if (actions[i].Id == id)
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>True when some shadow disagreed with the served action and the reward shows one of them was clearly wrong.</summary>
    public static bool IsMismatch(DecisionRecord decision, double reward, RewardConfig config)
    {
        foreach (var choice in decision.Shadows)
        {
            if (choice.ActionId != decision.ChosenActionId)
            {
                return Mismatch.Judge(reward, config) is not null;
            }
        }
        return false;
    }

    /// <summary>
    /// A decision off-policy evaluation can use: its served action among its actions, with a probability in (0, 1].
    /// Export and evaluate skip the same decisions, so an export evaluates to the same figures.
    /// </summary>
    public static bool IsEvaluable(DecisionRecord decision)
    {
        if (IndexOf(decision.Actions, decision.ChosenActionId) < 0)
        {
            return false;
        }
        foreach (var ranked in decision.Ranking)
        {
            if (ranked.ActionId == decision.ChosenActionId)
            {
                return ranked.Probability is > 0 and <= 1;
            }
        }
        return false;
    }

    /// <summary>True when <paramref name="at"/> lies in [<paramref name="from"/>, <paramref name="to"/>).</summary>
    public static bool InRange(DateTimeOffset at, DateTimeOffset? from, DateTimeOffset? to)
        => (from is null || at >= from) && (to is null || at < to);
}

using Flywheel.Core;

namespace Flywheel.Engine;

/// <summary>
/// What makes a second call with a stored id a retry (answered as the first was) rather than a conflict (a 409): the
/// one definition of "the same request" for decisions and signals, used by the ingest writer.
/// </summary>
/// <remarks>
/// <para>A decide request is the same when its user id, baseline action id, context and actions are. Features are
/// compared as what the engine reads from them, not as JSON text: namespaces and features in any order, numbers by
/// value (<c>1</c>, <c>1.0</c> and <c>1e0</c> agree), an empty namespace the same as none, and the elements of a string
/// array as a multiset (each is one categorical feature). Actions are compared in order, ids and features, since their
/// order takes part in the seeded draw. The decision id names the record and the loop is the URL, so both match by
/// construction.</para>
/// <para>A signal is the same when its type, value (absent is 1), decision id, user id and action id are, and, when the retry
/// gives an <c>at</c>, that instant (an absent <c>at</c> is the arrival time, which no retry can repeat, so it agrees
/// with any stored time).</para>
/// </remarks>
internal static class Retries
{
    /// <summary>The first field in which <paramref name="incoming"/> differs from <paramref name="stored"/>, or null when it is a retry.</summary>
    public static string? DecisionDifference(DecisionRecord stored, DecisionRecord incoming)
    {
        if (!string.Equals(stored.UserId, incoming.UserId, StringComparison.Ordinal))
        {
            return "userId";
        }
        if (!SameFeatures(stored.Context, incoming.Context))
        {
            return "context";
        }
        if (stored.Actions.Count != incoming.Actions.Count)
        {
            return "actions";
        }
        for (var i = 0; i < stored.Actions.Count; i++)
        {
            if (!string.Equals(stored.Actions[i].Id, incoming.Actions[i].Id, StringComparison.Ordinal))
            {
                return $"actions[{i}].id";
            }
            if (!SameFeatures(stored.Actions[i].Features, incoming.Actions[i].Features))
            {
                return $"actions[{i}].features";
            }
        }
        if (!string.Equals(stored.BaselineActionId, incoming.BaselineActionId, StringComparison.Ordinal))
        {
            return "baselineActionId";
        }
        if (!string.Equals(stored.TimeZone, incoming.TimeZone, StringComparison.Ordinal))
        {
            return "timeZone";
        }
        return null;
    }

    /// <summary>The first field in which <paramref name="incoming"/> differs from <paramref name="stored"/>, or null when it is a retry.</summary>
    public static string? SignalDifference(SignalRecord stored, SignalInput incoming)
    {
        if (!string.Equals(stored.Type, incoming.Type, StringComparison.Ordinal))
        {
            return "type";
        }
        if (stored.Value != (incoming.Value ?? 1.0))
        {
            return "value";
        }
        if (!string.Equals(stored.DecisionId, incoming.DecisionId, StringComparison.Ordinal))
        {
            return "decisionId";
        }
        if (!string.Equals(stored.UserId, incoming.UserId, StringComparison.Ordinal))
        {
            return "userId";
        }
        if (!string.Equals(stored.ActionId, incoming.ActionId, StringComparison.Ordinal))
        {
            return "actionId";
        }
        if (incoming.At is { } at && at != stored.At)
        {
            return "at";
        }
        // A text the engine did not keep (a loop that stores none, an orphaned signal) cannot be compared.
        if (stored.Text is not null && !string.Equals(stored.Text, incoming.Text, StringComparison.Ordinal))
        {
            return "text";
        }
        return null;
    }

    /// <summary>The 409 for a decision id already used for another request.</summary>
    public static FlywheelValidationException DecisionConflict(string decisionId, string difference) => new("decisionId",
        $"'{decisionId}' was already used for a different decision (its {difference} differs); send a new decisionId, or repeat the first request exactly to get its answer")
    {
        Kind = ValidationKind.Conflict,
    };

    /// <summary>The 409 for a signal id already used for another signal; <paramref name="field"/> names the batch item.</summary>
    public static FlywheelValidationException SignalConflict(string field, string signalId, string difference) => new(field,
        $"'{signalId}' was already used for a different signal (its {difference} differs); nothing of this batch was stored")
    {
        Kind = ValidationKind.Conflict,
    };

    /// <summary>True when both feature sets give the engine the same features (see the remarks on <see cref="Retries"/>).</summary>
    public static bool SameFeatures(Features a, Features b)
    {
        if (ReferenceEquals(a, b))
        {
            return true;
        }
        var x = Canonical(a);
        var y = Canonical(b);
        if (x.Count != y.Count)
        {
            return false;
        }
        for (var i = 0; i < x.Count; i++)
        {
            var (p, q) = (x[i], y[i]);
            if (!string.Equals(p.Namespace, q.Namespace, StringComparison.Ordinal) || !string.Equals(p.Name, q.Name, StringComparison.Ordinal)
                || p.Value.Kind != q.Value.Kind || p.Value.Number != q.Value.Number || !p.Strings.AsSpan().SequenceEqual(q.Strings))
            {
                return false;
            }
        }
        return true;
    }

    private readonly record struct Feature(string Namespace, string Name, FeatureValue Value, string[] Strings);

    /// <summary>Every feature, ordered by namespace then name (both unique), with its strings sorted.</summary>
    private static List<Feature> Canonical(Features features)
    {
        var list = new List<Feature>();
        foreach (var (ns, values) in features)
        {
            foreach (var (name, value) in values)
            {
                string[] strings = value.Kind switch
                {
                    FeatureValueKind.String => [value.Text!],
                    FeatureValueKind.StringArray => [.. value.Strings.Order(StringComparer.Ordinal)],
                    _ => [],
                };
                list.Add(new Feature(ns, name, value, strings));
            }
        }
        list.Sort(static (p, q) =>
        {
            var c = string.CompareOrdinal(p.Namespace, q.Namespace);
            return c != 0 ? c : string.CompareOrdinal(p.Name, q.Name);
        });
        return list;
    }
}

using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Flywheel.LoadTest;

/// <summary>One signal a session sends after its decide.</summary>
internal readonly record struct PlannedSignal(string Type, double Value);

/// <summary>What one user session sends: a decide (one of the pooled bodies, under a client-chosen id), then one batch of its signals.</summary>
internal sealed record SessionPlan(string DecisionId, int Body, PlannedSignal[] Signals);

/// <summary>
/// The soak's mix. Each session is a decide, as the .NET client sends it (with a client-chosen <c>decisionId</c>), then
/// one batch of 1–3 signals naming that decision, as a product reports what the user did with the item: <c>click</c>
/// (40 %), <c>dwell</c> with the share watched (35 %), <c>thumbs_up</c> (10 %) or <c>skip</c> (15 %), which closes the
/// window and ends the batch. About a quarter of the windows close by a signal, the rest by time-out, so the joiner's
/// both paths and the learner run throughout.
/// </summary>
internal sealed class SoakWorkload
{
    private const string Placeholder = "soak-placeholder-id";
    private readonly byte[][] _before;
    private readonly byte[][] _after;

    public SoakWorkload(int distinctBodies, int seed)
    {
        // Pooled bodies with a placeholder id, split around it, so a request costs a copy, not a serialization.
        var withId = Workload.DecideBodiesWithId(distinctBodies, seed, Placeholder);
        _before = new byte[withId.Length][];
        _after = new byte[withId.Length][];
        var marker = Encoding.UTF8.GetBytes("\"" + Placeholder + "\"");
        for (var i = 0; i < withId.Length; i++)
        {
            var at = withId[i].AsSpan().IndexOf(marker);
            if (at < 0)
            {
                throw new InvalidOperationException("the decide body does not carry its decisionId as expected");
            }
            _before[i] = withId[i][..(at + 1)];
            _after[i] = withId[i][(at + marker.Length - 1)..];
        }
        BodyCount = withId.Length;
        AverageBodyBytes = withId.Average(b => b.Length);
    }

    public int BodyCount { get; }

    public double AverageBodyBytes { get; }

    /// <summary>Draws the next session from <paramref name="random"/> (the only source of randomness, so a seed replays the run).</summary>
    public SessionPlan Next(Random random, string decisionId)
    {
        var body = random.Next(BodyCount);
        var count = 1 + random.Next(3);
        var signals = new List<PlannedSignal>(count);
        for (var k = 0; k < count; k++)
        {
            var p = random.Next(100);
            if (p < 40)
            {
                signals.Add(new PlannedSignal("click", 1));
            }
            else if (p < 75)
            {
                signals.Add(new PlannedSignal("dwell", Math.Round(random.NextDouble(), 2)));
            }
            else if (p < 85)
            {
                signals.Add(new PlannedSignal("thumbs_up", 1));
            }
            else
            {
                signals.Add(new PlannedSignal("skip", 1));
                break; // The window is closed: nothing after a skip would join it.
            }
        }
        return new SessionPlan(decisionId, body, [.. signals]);
    }

    public byte[] DecideBody(SessionPlan plan)
    {
        var before = _before[plan.Body];
        var after = _after[plan.Body];
        var id = Encoding.UTF8.GetByteCount(plan.DecisionId);
        var body = new byte[before.Length + id + after.Length];
        before.CopyTo(body, 0);
        Encoding.UTF8.GetBytes(plan.DecisionId, body.AsSpan(before.Length));
        after.CopyTo(body, before.Length + id);
        return body;
    }

    /// <summary><c>{ "signals": [ … ] }</c>, signal ids derived from the decision id (unique, stable across retries).</summary>
    public static byte[] SignalBody(SessionPlan plan)
    {
        var buffer = new ArrayBufferWriter<byte>(64 + (plan.Signals.Length * 128));
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("signals");
            for (var k = 0; k < plan.Signals.Length; k++)
            {
                writer.WriteStartObject();
                writer.WriteString("signalId", plan.DecisionId + "-" + k.ToString(CultureInfo.InvariantCulture));
                writer.WriteString("decisionId", plan.DecisionId);
                writer.WriteString("type", plan.Signals[k].Type);
                writer.WriteNumber("value", plan.Signals[k].Value);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}

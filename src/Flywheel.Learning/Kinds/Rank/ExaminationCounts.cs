using Flywheel.Core;

namespace Flywheel.Learning;

/// <summary>
/// Measures each slot's examination probability from a <c>rank</c> loop's shuffled decisions (result randomisation,
/// docs/loop-config.md "Rankings"). A shuffle places the model's best K in a uniformly random order, so the results in
/// every slot are alike on average and a slot draws signals in proportion to how often it is looked at:
/// θ_k / θ_1 = (e_k / n_k) / (e_1 / n_1), with e_k the shuffled decisions whose slot k drew a signal out of the n_k that
/// served it. The interval is the log-ratio (Katz) interval of two proportions. Not thread-safe; owned by a learner.
/// </summary>
public sealed class ExaminationCounts
{
    /// <summary>Slot 1's engaged decisions needed before the estimate is used for learning.</summary>
    public const int MinimumEngaged = 50;

    /// <summary>The smallest examination probability a reward is divided by: caps an example's weight at 20.</summary>
    public const double MinimumExamination = 0.05;

    private const double Z95 = 1.959963984540054;

    private long[] _served = [];
    private long[] _engaged = [];

    /// <summary>Shuffled decisions counted.</summary>
    public long Interventions { get; private set; }

    /// <summary>Slots with any count.</summary>
    public int Slots => _served.Length;

    /// <summary>Counts one shuffled decision: which of its slots drew a signal.</summary>
    public void Add(IReadOnlyList<SlotReward> slots)
    {
        ArgumentNullException.ThrowIfNull(slots);
        if (slots.Count > _served.Length)
        {
            Array.Resize(ref _served, slots.Count);
            Array.Resize(ref _engaged, slots.Count);
        }
        Interventions++;
        for (var i = 0; i < slots.Count; i++)
        {
            _served[i]++;
            if (slots[i].Signals > 0)
            {
                _engaged[i]++;
            }
        }
    }

    /// <summary>The estimate for <paramref name="slot"/> (from 1) with its 95% interval; NaN while slot 1 has no engagement.</summary>
    public (double Value, double Lower, double Upper) Estimate(int slot)
    {
        var i = slot - 1;
        if (i >= _served.Length || _served[0] == 0 || _engaged[0] == 0 || _served[i] == 0)
        {
            return (double.NaN, double.NaN, double.NaN);
        }
        if (i == 0)
        {
            return (1, 1, 1);
        }
        double e1 = _engaged[0], n1 = _served[0], ek = _engaged[i], nk = _served[i];
        var value = ek / nk / (e1 / n1);
        // Half a count added where a slot has none, so a slot never engaged still gets an upper end.
        var ekc = ek == 0 ? 0.5 : ek;
        var spread = Z95 * Math.Sqrt(1 / ekc - 1 / nk + 1 / e1 - 1 / n1);
        var centre = Math.Log(ekc / nk / (e1 / n1));
        return (value, ek == 0 ? 0 : Math.Exp(centre - spread), Math.Exp(centre + spread));
    }

    /// <summary>
    /// The examination probability slot <paramref name="slot"/>'s rewards are divided by under <paramref name="bias"/>:
    /// 1 for <c>none</c>, the given value, or the estimate once slot 1 has <see cref="MinimumEngaged"/> engaged shuffled
    /// decisions (1 before), kept in [<see cref="MinimumExamination"/>, 1].
    /// </summary>
    public double Used(PositionBias bias, int slot)
    {
        ArgumentNullException.ThrowIfNull(bias);
        var theta = bias.Mode switch
        {
            PositionBiasMode.None => 1,
            PositionBiasMode.Given => bias.GivenAt(slot),
            _ => _engaged.Length > 0 && _engaged[0] >= MinimumEngaged && Estimate(slot).Value is var v && double.IsFinite(v) ? v : 1,
        };
        return Math.Clamp(theta, MinimumExamination, 1);
    }

    /// <summary>The report of every slot in <paramref name="slots"/>.</summary>
    public PositionBiasReport Report(string loop, PositionBias bias, int slots)
    {
        var rows = new SlotExamination[slots];
        for (var s = 1; s <= slots; s++)
        {
            var (value, lower, upper) = Estimate(s);
            var i = s - 1;
            rows[i] = new SlotExamination(s, value, lower, upper,
                i < _served.Length ? _served[i] : 0, i < _engaged.Length ? _engaged[i] : 0, Used(bias, s));
        }
        return new PositionBiasReport(loop, bias, Interventions, rows);
    }

    /// <summary>A copy, for a published policy to report while the learner moves on.</summary>
    public ExaminationCounts Clone() => new() { _served = [.. _served], _engaged = [.. _engaged], Interventions = Interventions };

    /// <summary>The counts as longs: interventions, slots, then each slot's served and engaged counts.</summary>
    internal long[] ToArray()
    {
        var data = new long[2 + 2 * _served.Length];
        data[0] = Interventions;
        data[1] = _served.Length;
        for (var i = 0; i < _served.Length; i++)
        {
            data[2 + 2 * i] = _served[i];
            data[3 + 2 * i] = _engaged[i];
        }
        return data;
    }

    /// <summary>Counts saved by <see cref="ToArray"/>.</summary>
    internal static ExaminationCounts FromArray(ReadOnlySpan<long> data)
    {
        var slots = (int)data[1];
        var counts = new ExaminationCounts { Interventions = data[0], _served = new long[slots], _engaged = new long[slots] };
        for (var i = 0; i < slots; i++)
        {
            counts._served[i] = data[2 + 2 * i];
            counts._engaged[i] = data[3 + 2 * i];
        }
        return counts;
    }
}

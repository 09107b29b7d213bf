using System.Globalization;
using Flywheel.Core;
using Flywheel.Evaluation;

namespace Flywheel.Engine;

/// <summary>The promotion policy: which candidate of a turn, if any, beats the champion, and why, in words for the ledger.</summary>
internal static class TurnJudge
{
    /// <summary>Fewest effective samples (Kish) behind a candidate's estimates before its intervals are trusted.</summary>
    public const double MinimumEffectiveSampleSize = 30;

    /// <summary>
    /// The promotion policy. A candidate must beat the champion on two estimators: IPS, unbiased whatever the reward
    /// model, and doubly robust, of lower variance; DR alone can be fooled where the candidate's own q̂ is optimistic
    /// about actions the log rarely tried. The champion's figures are what it earned online on the same decisions. A
    /// candidate with fewer than <see cref="MinimumEffectiveSampleSize"/> effective samples is not judged, nor one whose
    /// estimates rest on one decision (<see cref="OffPolicyEstimates.HasExtremeWeights"/>), whatever its ESS: its
    /// intervals would describe that decision, not the candidate.
    /// </summary>
    public static (ModelRecord? Winner, TurnVerdict Verdict, string Reason) Judge(TurnsConfig turns, int champion, OffPolicyEstimates served, IReadOnlyList<ModelRecord> candidates)
    {
        var level = Level(turns);
        var ips = served.Ips.Value;
        var dr = served.Dr.Value;
        static string Figures(ModelRecord m) => string.Create(CultureInfo.InvariantCulture,
            $"v{m.Version} ({m.Reason}): IPS {m.Estimates!.Ips.Value:F4} [{m.Estimates.Ips.Lower:F4}, {m.Estimates.Ips.Upper:F4}], DR {m.Estimates.Dr.Value:F4} [{m.Estimates.Dr.Lower:F4}, {m.Estimates.Dr.Upper:F4}], ESS {m.Estimates.EffectiveSampleSize:F0}");
        var championText = string.Create(CultureInfo.InvariantCulture,
            $"champion v{champion} earned {ips:F4} online on the same {served.Count} decisions (DR {dr:F4})");
        var judged = candidates.Where(m => m.Estimates!.EffectiveSampleSize >= MinimumEffectiveSampleSize && !m.Estimates.HasExtremeWeights).ToList();
        var refused = Refused(candidates.Where(m => NamesExtremeWeight(m.Estimates!)).Select(m => (m.Version, m.Estimates!)).ToList());
        if (judged.Count == 0)
        {
            return (null, TurnVerdict.Rejected, string.Create(CultureInfo.InvariantCulture,
                $"no candidate has {MinimumEffectiveSampleSize} effective samples on this window{(refused.Length > 0 ? " without an extreme weight" : "")}{refused}; {championText}"));
        }
        championText += refused;
        // Rank by the weaker of the two margins, so the winner is the one most clearly better on both.
        static double Margin(ModelRecord m, double ips, double dr, bool lower)
            => lower ? Math.Min(m.Estimates!.Ips.Lower - ips, m.Estimates.Dr.Lower - dr) : Math.Min(m.Estimates!.Ips.Value - ips, m.Estimates.Dr.Value - dr);
        switch (turns.PromoteWhen)
        {
            case PromotionPolicy.Manual:
                var first = judged.OrderByDescending(m => Margin(m, ips, dr, lower: true)).First();
                return (null, TurnVerdict.AwaitingManualPromotion, $"turns.promoteWhen is manual; best candidate {Figures(first)}; {championText}");
            case PromotionPolicy.EstimateBeatsChampion:
                var top = judged.OrderByDescending(m => Margin(m, ips, dr, lower: false)).First();
                return Margin(top, ips, dr, lower: false) > 0
                    ? (top, TurnVerdict.Promoted, $"its IPS and DR estimates beat the champion: {Figures(top)}; {championText}")
                    : (null, TurnVerdict.Rejected, $"no candidate's IPS and DR estimates both beat the champion: best {Figures(top)}; {championText}");
            default:
                var best = judged.OrderByDescending(m => Margin(m, ips, dr, lower: true)).First();
                return Margin(best, ips, dr, lower: true) > 0
                    ? (best, TurnVerdict.Promoted, $"the {level} lower bounds of IPS and DR beat the champion: {Figures(best)}; {championText}")
                    : (null, TurnVerdict.Rejected, $"no candidate's {level} lower bounds of IPS and DR both beat the champion: best {Figures(best)}; {championText}");
        }
    }

    /// <summary>
    /// Whether the ledger names an extreme weight as the reason a policy is not judged: when its ESS would pass, or when
    /// the weight is one more evidence would not dilute (a logging fault). A thin window's few large weights are the
    /// ESS gate's to report.
    /// </summary>
    public static bool NamesExtremeWeight(OffPolicyEstimates estimates)
        => estimates.HasExtremeWeights && (estimates.EffectiveSampleSize >= MinimumEffectiveSampleSize || EvidenceStart.HasUndilutableWeight(estimates));

    /// <summary>
    /// The candidates refused for extreme weights, in words for the ledger (empty when none): the first one's warning in
    /// full, then the versions of the others.
    /// </summary>
    public static string Refused(IReadOnlyList<(int Version, OffPolicyEstimates Estimates)> extreme)
    {
        if (extreme.Count == 0)
        {
            return "";
        }
        var (version, estimates) = extreme[0];
        var text = $"; v{version} not judged: {estimates.Warnings[0]}";
        return extreme.Count == 1 ? text : $"{text}; nor, for the same reason, {string.Join(", ", extreme.Skip(1).Select(e => $"v{e.Version}"))}";
    }

    /// <summary>The confidence level as text, such as <c>95%</c>.</summary>
    public static string Level(TurnsConfig turns) => (turns.Confidence * 100).ToString("0.##", CultureInfo.InvariantCulture) + "%";
}

using System.Globalization;
using System.Text;

namespace Flywheel.Core;

/// <summary>
/// Writes logged decisions as Vowpal Wabbit's contextual-bandit text for <c>--cb_adf</c> / <c>--cb_explore_adf</c>:
/// a <c>shared</c> line with the context, one line per action, the chosen one labelled <c>0:cost:probability</c> with
/// cost = −reward, and a blank line after each decision. Strings become <c>name=value</c>, numbers <c>name:value</c>,
/// true booleans <c>name</c>; characters VW reads as separators (whitespace, <c>|</c>, <c>:</c>) become <c>_</c>.
/// </summary>
public static class VwTextWriter
{
    /// <summary>Appends one decision.</summary>
    public static void Write(TextWriter writer, LoggedDecision decision)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(decision);
        var line = new StringBuilder("shared");
        AppendFeatures(line, decision.Context);
        writer.WriteLine(line.ToString());
        foreach (var action in decision.Actions)
        {
            line.Clear();
            if (action.Id == decision.ChosenActionId)
            {
                line.Append(CultureInfo.InvariantCulture, $"0:{Number(-decision.Reward)}:{Number(decision.Probability)} ");
            }
            line.Append("|@action ").Append(Escape(action.Id));
            AppendFeatures(line, action.Features);
            writer.WriteLine(line.ToString());
        }
        writer.WriteLine();
    }

    private static void AppendFeatures(StringBuilder line, Features? features)
    {
        if (features is null)
        {
            return;
        }
        foreach (var (ns, values) in features)
        {
            line.Append(" |").Append(Escape(ns));
            foreach (var (name, value) in values)
            {
                switch (value.Kind)
                {
                    case FeatureValueKind.Number:
                        line.Append(' ').Append(Escape(name)).Append(':').Append(Number(value.Number));
                        break;
                    case FeatureValueKind.String:
                        line.Append(' ').Append(Escape(name)).Append('=').Append(Escape(value.Text!));
                        break;
                    case FeatureValueKind.Boolean when value.Number != 0:
                        line.Append(' ').Append(Escape(name));
                        break;
                    case FeatureValueKind.StringArray:
                        foreach (var s in value.Strings)
                        {
                            line.Append(' ').Append(Escape(name)).Append('=').Append(Escape(s));
                        }
                        break;
                }
            }
        }
    }

    private static string Number(double x) => x.ToString("R", CultureInfo.InvariantCulture);

    private static string Escape(string text)
    {
        if (text.Length == 0)
        {
            return "_";
        }
        var needs = false;
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c) || c is '|' or ':')
            {
                needs = true;
                break;
            }
        }
        if (!needs)
        {
            return text;
        }
        var chars = text.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (char.IsWhiteSpace(chars[i]) || chars[i] is '|' or ':')
            {
                chars[i] = '_';
            }
        }
        return new string(chars);
    }
}

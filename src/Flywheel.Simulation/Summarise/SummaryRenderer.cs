using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Flywheel.Simulation.Summarise;

/// <summary>
/// Turns a document of the summarise world into a summary of a given style, the way <see cref="SummariserChatClient"/>
/// answers a prompt: it keeps the sentences reporting the largest changes (the number before <c>percent</c>; ties to the
/// earlier), in the document's order, and renders them as prose (whole sentences, reasons and connectives) or bullets (a
/// heading and the main clause of each, without its reason), in the document's formal wording or in casual wording.
/// Pure and deterministic: the same document and style give the same text.
/// </summary>
public static partial class SummaryRenderer
{
    private static readonly string[] FormalConnectives = ["Moreover", "In addition", "Furthermore", "Additionally", "Likewise", "Similarly"];
    private static readonly string[] CasualConnectives = ["Also", "Plus", "On top of that", "And", "Oh, and", "Same story:"];

    /// <summary>The formal words of the world's documents and their casual counterparts.</summary>
    public static IReadOnlyList<(string Formal, string Casual)> CasualWords { get; } =
    [
        ("approximately", "about"), ("increased", "pushed up"), ("decreased", "brought down"), ("reduced", "cut"),
        ("improved", "boosted"), ("stabilised", "steadied"), ("following", "after"), ("commenced", "started"),
        ("prior to", "before"), ("additional", "extra"), ("requires", "needs"), ("require", "need"), ("however", "but"),
        ("therefore", "so"), ("purchased", "bought"), ("subsequently", "then"), ("numerous", "lots of"), ("obtained", "got"),
        ("does not", "doesn't"), ("is not", "isn't"), ("demonstrated", "showed"), ("sufficient", "enough"),
        ("requested", "asked for"), ("assistance", "help"), ("in order to", "to"), ("management", "the bosses"),
    ];

    private static readonly Dictionary<string, string> Casual = CasualWords.ToDictionary(p => p.Formal, p => p.Casual, StringComparer.Ordinal);

    /// <summary>The document's sentences, in order.</summary>
    public static IReadOnlyList<string> Sentences(string document)
    {
        ArgumentNullException.ThrowIfNull(document);
        return [.. SentenceBreak().Split(document.Trim()).Where(s => s.Length > 0)];
    }

    /// <summary>The indices of the sentences a summary of <paramref name="points"/> points keeps, in the document's order.</summary>
    public static int[] Salient(IReadOnlyList<string> sentences, int points)
    {
        ArgumentNullException.ThrowIfNull(sentences);
        return [.. Enumerable.Range(0, sentences.Count)
            .OrderByDescending(i => Magnitude(sentences[i]))
            .ThenBy(i => i)
            .Take(points)
            .Order()];
    }

    /// <summary>The summary of <paramref name="document"/> in <paramref name="style"/>.</summary>
    public static string Render(string document, SummaryStyle style)
    {
        ArgumentNullException.ThrowIfNull(style);
        var sentences = Sentences(document);
        var kept = Salient(sentences, SummaryStyle.Points(style.Length));
        var text = new StringBuilder();
        if (style.Format == SummaryFormat.Bullets)
        {
            text.Append(style.Tone == SummaryTone.Formal ? "Key points:" : "Quick rundown:");
            foreach (var i in kept)
            {
                text.Append("\n- ").Append(Capitalise(StripArticle(MainClause(sentences[i]))));
            }
        }
        else
        {
            text.Append(style.Tone == SummaryTone.Formal ? "In summary, " : "Here's the gist: ");
            var connectives = style.Tone == SummaryTone.Formal ? FormalConnectives : CasualConnectives;
            for (var k = 0; k < kept.Length; k++)
            {
                var sentence = sentences[kept[k]];
                if (k > 0)
                {
                    text.Append(' ').Append(connectives[(k - 1) % connectives.Length]).Append(' ');
                }
                text.Append(Decapitalise(sentence));
            }
            if (style.Tone == SummaryTone.Casual)
            {
                text.Append(" That's about it.");
            }
        }
        var rendered = text.ToString();
        return style.Tone == SummaryTone.Casual ? MakeCasual(rendered) : rendered;
    }

    /// <summary>Replaces each formal word of <see cref="CasualWords"/> by its casual counterpart, keeping a capital first letter.</summary>
    public static string MakeCasual(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return FormalWord().Replace(text, m =>
        {
            var word = m.Value;
            var casual = Casual[char.ToLowerInvariant(word[0]) + word[1..]];
            return char.IsUpper(word[0]) ? Capitalise(casual) : casual;
        });
    }

    /// <summary>The size of the change a sentence reports: the number before <c>percent</c>, or 0.</summary>
    private static int Magnitude(string sentence)
    {
        var m = Percent().Match(sentence);
        return m.Success ? int.Parse(m.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture) : 0;
    }

    /// <summary>A sentence up to its first comma (its reason follows), without the full stop.</summary>
    private static string MainClause(string sentence)
    {
        var comma = sentence.IndexOf(',', StringComparison.Ordinal);
        return comma >= 0 ? sentence[..comma] : sentence.TrimEnd('.');
    }

    private static string StripArticle(string clause) => clause.StartsWith("The ", StringComparison.Ordinal) ? clause[4..] : clause;

    private static string Capitalise(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];

    private static string Decapitalise(string s) => s.StartsWith("The ", StringComparison.Ordinal) ? "t" + s[1..] : s;

    [GeneratedRegex(@"(?<=\.)\s+", RegexOptions.CultureInvariant)]
    private static partial Regex SentenceBreak();

    [GeneratedRegex(@"(\d+) percent", RegexOptions.CultureInvariant)]
    private static partial Regex Percent();

    [GeneratedRegex(@"\b(?:[Aa]pproximately|[Ii]ncreased|[Dd]ecreased|[Rr]educed|[Ii]mproved|[Ss]tabilised|[Ff]ollowing|[Cc]ommenced|[Pp]rior to|[Aa]dditional|[Rr]equires|[Rr]equire|[Hh]owever|[Tt]herefore|[Pp]urchased|[Ss]ubsequently|[Nn]umerous|[Oo]btained|[Dd]oes not|[Ii]s not|[Dd]emonstrated|[Ss]ufficient|[Rr]equested|[Aa]ssistance|[Ii]n order to|[Mm]anagement)\b", RegexOptions.CultureInvariant)]
    private static partial Regex FormalWord();
}

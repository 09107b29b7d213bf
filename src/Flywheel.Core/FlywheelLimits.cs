namespace Flywheel.Core;

/// <summary>Size limits applied to every decision and signal batch. Violations are <see cref="FlywheelValidationException"/>s.</summary>
public sealed class FlywheelLimits
{
    /// <summary>Most candidate actions in one decision. <value>Default 1,000.</value></summary>
    public int MaxActionsPerDecision { get; set; } = 1_000;

    /// <summary>Most namespaces in one feature object. <value>Default 64.</value></summary>
    public int MaxNamespaces { get; set; } = 64;

    /// <summary>Most features (array elements count one each) in one namespace. <value>Default 1,024.</value></summary>
    public int MaxFeaturesPerNamespace { get; set; } = 1_024;

    /// <summary>
    /// Longest string value, feature name or id, in UTF-16 characters (an id of 256 characters is at most 768 UTF-8
    /// bytes, and its URL-encoded form fits any request line). <value>Default 256.</value>
    /// </summary>
    public int MaxStringLength { get; set; } = 256;

    /// <summary>Most signals in one batch. <value>Default 10,000.</value></summary>
    public int MaxSignalsPerBatch { get; set; } = 10_000;

    /// <summary>
    /// Most features scoring one decision may compute: every action's own features plus the crosses its loop's
    /// <c>learner.interactions</c> make with the context, summed over the actions, for the served model and each shadow.
    /// The cost of a decision grows with this product, not with the size of the request (a 444 KiB request can ask for
    /// billions), so a decision over it is refused (413) before any work. <value>Default 250,000: about 2 MB of buffers
    /// and a few milliseconds of scoring.</value>
    /// </summary>
    public long MaxFeaturesPerDecision { get; set; } = 250_000;

    /// <summary>
    /// Largest absolute value of a numeric feature. The learner computes in single precision and squares values to
    /// normalize its updates, so a value near a float's range (about 3.4e38) would turn scores and weights infinite.
    /// <value>Default 1e15 (a timestamp in microseconds fits).</value>
    /// </summary>
    public double MaxFeatureValue { get; set; } = 1e15;

    /// <summary>
    /// Most memory one loop's model may take once dense (<see cref="LoopConfig.ModelBytes"/>): a loop config asking for
    /// more (large <c>learner.bits</c> with many <c>exploration.bags</c>) is refused. <value>Default 1 GiB.</value>
    /// </summary>
    public long MaxLoopModelBytes { get; set; } = 1L << 30;

    /// <summary>
    /// Most word operations the engine spends measuring the edits of one signal batch (<c>edited</c> signals whose
    /// distance it computes, <see cref="EditDistance.Work"/> each): the cost grows with the product of the texts'
    /// lengths, so a batch over it is refused (413) before any is measured, and edits that large must carry their
    /// distance as their value. <value>Default 2^28: four edits of two 65,536-character texts, about 1.5 s of one core at worst.</value>
    /// </summary>
    public long MaxEditWorkPerBatch { get; set; } = 1L << 28;

    /// <summary>The defaults.</summary>
    public static FlywheelLimits Default { get; } = new();

    /// <summary>No limits: for reading back what this engine already validated and stored.</summary>
    public static FlywheelLimits Unlimited { get; } = new()
    {
        MaxActionsPerDecision = int.MaxValue,
        MaxNamespaces = int.MaxValue,
        MaxFeaturesPerNamespace = int.MaxValue,
        MaxStringLength = int.MaxValue,
        MaxSignalsPerBatch = int.MaxValue,
        MaxFeaturesPerDecision = long.MaxValue,
        MaxFeatureValue = double.MaxValue,
        MaxLoopModelBytes = long.MaxValue,
        MaxEditWorkPerBatch = long.MaxValue,
    };

    /// <summary>True when <paramref name="value"/> is a non-empty string within <see cref="MaxStringLength"/>.</summary>
    public bool IsValidString(string? value) => value is { Length: > 0 } && value.Length <= MaxStringLength;

    /// <summary>
    /// True when <paramref name="value"/> is an id that can be stored and read back by it, over HTTP as in process:
    /// a string within <see cref="CheckString"/>'s length rules that is valid UTF-16 (no unpaired surrogate), holds no
    /// control character (U+0000–U+001F, U+007F–U+009F, NUL included) and neither <c>/</c> nor <c>\</c> (ids are URL path
    /// segments), does not start or end with whitespace, and is not <c>.</c> or <c>..</c> (which URLs resolve away).
    /// The one rule for decision, signal, user and action ids.
    /// </summary>
    public bool IsValidId(string? value) => IsValidString(value) && IdProblem(value!) is null;

    /// <summary>
    /// Throws, naming <paramref name="field"/>, when <paramref name="value"/> is missing (if required) or not an id that
    /// <see cref="IsValidId"/> accepts.
    /// </summary>
    public void CheckId(string field, string? value, bool required = true)
    {
        CheckString(field, value, required);
        if (value is not null && IdProblem(value) is { } problem)
        {
            throw new FlywheelValidationException(field, problem);
        }
    }

    /// <summary>What makes <paramref name="id"/> unusable as an id, or null when nothing does.</summary>
    private static string? IdProblem(string id)
    {
        if (char.IsWhiteSpace(id[0]) || char.IsWhiteSpace(id[^1]))
        {
            return "must not start or end with whitespace";
        }
        if (id is "." or "..")
        {
            return $"must not be '{id}': URLs resolve it away, so the id could not be read back";
        }
        for (var i = 0; i < id.Length; i++)
        {
            var c = id[i];
            if (char.IsControl(c))
            {
                return $"must not contain control characters (U+{(int)c:X4} at index {i})";
            }
            if (c is '/' or '\\')
            {
                return $"must not contain '{c}' (at index {i}): ids are URL path segments";
            }
            if (char.IsHighSurrogate(c) && i + 1 < id.Length && char.IsLowSurrogate(id[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                return $"holds an unpaired surrogate (U+{(int)c:X4} at index {i}); it must be valid UTF-16";
            }
        }
        return null;
    }

    /// <summary>Throws when <paramref name="value"/> is missing (if required), empty or longer than <see cref="MaxStringLength"/>.</summary>
    public void CheckString(string field, string? value, bool required = true)
    {
        if (value is null)
        {
            if (required)
            {
                throw new FlywheelValidationException(field, "is required");
            }
            return;
        }
        if (value.Length == 0)
        {
            throw new FlywheelValidationException(field, "must not be empty");
        }
        if (value.Length > MaxStringLength)
        {
            throw new FlywheelValidationException(field, $"is {value.Length} characters long; the limit is {MaxStringLength}") { Kind = ValidationKind.TooLarge };
        }
    }
}

using Flywheel.Evaluation.Answers;

namespace Flywheel.Evaluation.Tests.Answers;

/// <summary>Answers drawn from a known Rasch model, with a seed: the truth the fits must recover.</summary>
internal sealed class RaschWorld
{
    private RaschWorld(List<Answer> answers, double[] difficulties, double[] abilities)
    {
        Answers = answers;
        Difficulties = difficulties;
        Abilities = abilities;
    }

    public List<Answer> Answers { get; }

    /// <summary>The true difficulty of item "i{j}".</summary>
    public double[] Difficulties { get; }

    /// <summary>The true ability of learner "u{p}".</summary>
    public double[] Abilities { get; }

    /// <summary>
    /// <paramref name="people"/> learners with abilities N(0, spread²) answer each of <paramref name="items"/> items (difficulties
    /// uniform in ±2) with probability <paramref name="share"/>, right with g + (1 − g)σ(θ − b); learner by learner, each
    /// answer a minute after the previous one.
    /// </summary>
    public static RaschWorld Simulate(int people, int items, int seed, double spread = 1, double share = 1, double guess = 0)
    {
        var random = new Random(seed);
        var difficulties = Enumerable.Range(0, items).Select(_ => -2 + 4 * random.NextDouble()).ToArray();
        var abilities = Enumerable.Range(0, people).Select(_ => spread * Normal(random)).ToArray();
        var answers = new List<Answer>();
        var at = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
        for (var p = 0; p < people; p++)
        {
            for (var j = 0; j < items; j++)
            {
                if (random.NextDouble() >= share)
                {
                    continue;
                }
                var probability = guess + (1 - guess) / (1 + Math.Exp(-(abilities[p] - difficulties[j])));
                answers.Add(new Answer($"u{p}", $"i{j}", random.NextDouble() < probability, at));
                at = at.AddMinutes(1);
            }
        }
        return new RaschWorld(answers, difficulties, abilities);
    }

    /// <summary>The answers without their times.</summary>
    public List<Answer> Untimed() => [.. Answers.Select(a => a with { At = null })];

    public static double[] Centred(IReadOnlyList<double> values)
    {
        var mean = values.Average();
        return [.. values.Select(v => v - mean)];
    }

    public static double Rmse(IReadOnlyList<double> a, IReadOnlyList<double> b)
        => Math.Sqrt(a.Zip(b, (x, y) => (x - y) * (x - y)).Average());

    private static double Normal(Random random)
        => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}

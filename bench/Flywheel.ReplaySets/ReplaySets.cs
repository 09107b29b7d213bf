using System.Globalization;
using System.Text;

namespace Flywheel.ReplaySets;

/// <summary>A generated labelled data set: its name, K, and a writer of its rows (labels 1..K).</summary>
internal sealed record ReplaySet(string Name, int Classes, string Shape, Func<Random, IEnumerable<(int Label, double[] Values)>> Rows, int Seed)
{
    public string FileName => Name + ".csv";

    public int Write(string folder)
    {
        var random = new Random(Seed);
        using var writer = new StreamWriter(Path.Combine(folder, FileName), false, new UTF8Encoding(false));
        var count = 0;
        foreach (var (label, values) in Rows(random))
        {
            if (count == 0)
            {
                writer.Write("label");
                for (var j = 0; j < values.Length; j++)
                {
                    writer.Write(",f" + j.ToString(CultureInfo.InvariantCulture));
                }
                writer.Write('\n');
            }
            writer.Write(label.ToString(CultureInfo.InvariantCulture));
            foreach (var v in values)
            {
                writer.Write(',');
                writer.Write(v == 0 ? "0" : v.ToString("G4", CultureInfo.InvariantCulture));
            }
            writer.Write('\n');
            count++;
        }
        return count;
    }

    /// <summary>The ten sets: many classes, sparse counts, wild feature scales, label noise, imbalance and tiny sets.</summary>
    public static IReadOnlyList<ReplaySet> All { get; } =
    [
        new("k50", 50, "50 Gaussian clusters in 8 dimensions, 20,000 rows", r => Clusters(r, 50, 8, 1.0, 0.6, 20_000, abs: false, scale: 1), 11),
        new("sparse5", 5, "bag of words: 500-word vocabulary, 12 words a row, half from 40 class words, 15,000 rows", r => Words(r, 15_000), 12),
        new("scaled6", 6, "softmax-linear labels over 10 features scaled by 10^U(−3, 3), 20,000 rows", r => Scaled(r, 20_000), 13),
        new("noisy4", 4, "argmax-linear labels over 6 features, 30% replaced at random, 10,000 rows", r => Linear(r, 4, 6, 0.3, 10_000), 14),
        new("imb2", 2, "binary, 20 uniform features, about 1 in 5 positive, 30,000 rows", r => Imbalanced(r, 30_000), 15),
        new("small8", 8, "500 rows, 8 overlapping clusters of 30 non-negative features", r => Clusters(r, 8, 30, 1.0, 1.0, 500, abs: true, scale: 3), 16),
        new("blobs20", 20, "20 Gaussian clusters in 16 dimensions, 20,000 rows", r => Clusters(r, 20, 16, 1.0, 0.9, 20_000, abs: false, scale: 1), 17),
        new("binnoisy", 2, "binary linear labels over 12 features, 15% flipped, 10,000 rows", r => Linear(r, 2, 12, 0.3, 10_000), 18),
        new("small3", 3, "300 rows, 3 clusters in 5 dimensions", r => Clusters(r, 3, 5, 2.0, 1.0, 300, abs: false, scale: 1), 19),
        new("counts10", 10, "10 classes, 40 count features drawn from class profiles, 5,000 rows", r => Counts(r, 5_000), 20),
    ];

    private static double Gauss(Random r) => Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());

    private static IEnumerable<(int, double[])> Clusters(Random r, int k, int d, double spread, double noise, int rows, bool abs, double scale)
    {
        var centres = Enumerable.Range(0, k).Select(_ => Enumerable.Range(0, d).Select(_ => Gauss(r) * spread).ToArray()).ToArray();
        for (var i = 0; i < rows; i++)
        {
            var label = r.Next(k);
            var x = centres[label].Select(c => c + Gauss(r) * noise).Select(v => (abs ? Math.Abs(v) : v) * scale).ToArray();
            yield return (label + 1, x);
        }
    }

    private static IEnumerable<(int, double[])> Words(Random r, int rows)
    {
        const int vocabulary = 500, classes = 5;
        var preferred = Enumerable.Range(0, classes).Select(_ => Enumerable.Range(0, vocabulary).OrderBy(_ => r.Next()).Take(40).ToArray()).ToArray();
        for (var i = 0; i < rows; i++)
        {
            var label = r.Next(classes);
            var x = new double[vocabulary];
            for (var w = 0; w < 12; w++)
            {
                x[r.NextDouble() < 0.5 ? preferred[label][r.Next(40)] : r.Next(vocabulary)]++;
            }
            yield return (label + 1, x);
        }
    }

    private static IEnumerable<(int, double[])> Scaled(Random r, int rows)
    {
        const int k = 6, d = 10;
        var weights = Enumerable.Range(0, k).Select(_ => Enumerable.Range(0, d).Select(_ => Gauss(r)).ToArray()).ToArray();
        var scales = Enumerable.Range(0, d).Select(_ => Math.Pow(10, r.NextDouble() * 6 - 3)).ToArray();
        var p = new double[k];
        for (var i = 0; i < rows; i++)
        {
            var x = Enumerable.Range(0, d).Select(_ => Gauss(r)).ToArray();
            for (var a = 0; a < k; a++)
            {
                p[a] = Math.Exp(2 * weights[a].Zip(x, (w, v) => w * v).Sum());
            }
            var u = r.NextDouble() * p.Sum();
            var label = 0;
            while (label < k - 1 && u > p[label])
            {
                u -= p[label++];
            }
            yield return (label + 1, x.Select((v, j) => v * scales[j]).ToArray());
        }
    }

    private static IEnumerable<(int, double[])> Linear(Random r, int k, int d, double noise, int rows)
    {
        var weights = Enumerable.Range(0, k).Select(_ => Enumerable.Range(0, d).Select(_ => Gauss(r)).ToArray()).ToArray();
        for (var i = 0; i < rows; i++)
        {
            var x = Enumerable.Range(0, d).Select(_ => Gauss(r)).ToArray();
            var label = Enumerable.Range(0, k).MaxBy(a => weights[a].Zip(x, (w, v) => w * v).Sum());
            if (r.NextDouble() < noise)
            {
                label = r.Next(k);
            }
            yield return (label + 1, x);
        }
    }

    private static IEnumerable<(int, double[])> Imbalanced(Random r, int rows)
    {
        var weights = Enumerable.Range(0, 20).Select(_ => Gauss(r)).ToArray();
        for (var i = 0; i < rows; i++)
        {
            var x = Enumerable.Range(0, 20).Select(_ => r.NextDouble() * 5).ToArray();
            var score = weights.Zip(x, (w, v) => w * (v - 2.5)).Sum();
            yield return (score > 6 ? 2 : 1, x);
        }
    }

    private static IEnumerable<(int, double[])> Counts(Random r, int rows)
    {
        const int k = 10, d = 40;
        var profiles = Enumerable.Range(0, k).Select(_ => Enumerable.Range(0, d).Select(_ => Math.Pow(r.NextDouble(), 2)).ToArray()).ToArray();
        for (var i = 0; i < rows; i++)
        {
            var label = r.Next(k);
            var x = new double[d];
            var total = profiles[label].Sum();
            for (var n = 0; n < 30; n++)
            {
                var u = r.NextDouble() * total;
                var j = 0;
                while (j < d - 1 && u > profiles[label][j])
                {
                    u -= profiles[label][j++];
                }
                x[j]++;
            }
            yield return (label + 1, x);
        }
    }
}

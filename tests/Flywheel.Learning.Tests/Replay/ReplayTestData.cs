using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace Flywheel.Learning.Tests.Replay;

/// <summary>Small data sets written to temporary files, and the repository's sample data.</summary>
internal static class ReplayTestData
{
    /// <summary>A seeded three-class data set: class c has feature c large, the others small noise.</summary>
    public static (int Label, double[] Values)[] Separable(int rows, int seed = 7)
    {
        var random = new Random(seed);
        var data = new (int, double[])[rows];
        for (var i = 0; i < rows; i++)
        {
            var label = random.Next(1, 4);
            var values = new double[4];
            for (var j = 0; j < values.Length; j++)
            {
                values[j] = Math.Round(random.NextDouble() * 0.5, 3);
            }
            values[label - 1] += 3;
            values[3] = random.Next(0, 2) == 0 ? 0 : values[3]; // some zeros
            data[i] = (label, values);
        }
        return data;
    }

    public static string Csv((int Label, double[] Values)[] rows)
    {
        var sb = new StringBuilder("label");
        for (var j = 0; j < rows[0].Values.Length; j++)
        {
            sb.Append(",f").Append(j);
        }
        sb.Append('\n');
        foreach (var (label, values) in rows)
        {
            sb.Append(label);
            foreach (var v in values)
            {
                sb.Append(',').Append(v.ToString("R", CultureInfo.InvariantCulture));
            }
            sb.Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>The same rows as VW multiclass text, zeros left out, as in the shared reference files.</summary>
    public static string Vw((int Label, double[] Values)[] rows, string separator = " |x")
    {
        var sb = new StringBuilder();
        foreach (var (label, values) in rows)
        {
            sb.Append(label).Append(separator);
            for (var j = 0; j < values.Length; j++)
            {
                if (values[j] != 0)
                {
                    sb.Append(" f").Append(j).Append(':').Append(values[j].ToString("R", CultureInfo.InvariantCulture));
                }
            }
            sb.Append('\n');
        }
        return sb.ToString();
    }

    public static byte[] Gzip(string text)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            gzip.Write(Encoding.UTF8.GetBytes(text));
        }
        return output.ToArray();
    }
}

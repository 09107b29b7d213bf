using System.Text;
using Flywheel.Learning.Replay;

namespace Flywheel.Learning.Tests.Replay;

public class MulticlassReaderTests
{
    private static MulticlassReader FromText(string text, int classes = 3)
        => new(new MemoryStream(Encoding.UTF8.GetBytes(text)), classes);

    private static List<(int Label, ulong[] Hashes, float[] Values)> ReadAll(MulticlassReader reader)
    {
        var rows = new List<(int, ulong[], float[])>();
        while (reader.Read())
        {
            rows.Add((reader.Label, reader.Features.Hashes.ToArray(), reader.Features.Values.ToArray()));
        }
        return rows;
    }

    [Fact]
    public void Read_CsvAndVw_GiveTheSameFeatures()
    {
        var data = ReplayTestData.Separable(50);
        using var csv = FromText(ReplayTestData.Csv(data));
        using var vw = FromText(ReplayTestData.Vw(data));
        Assert.Equal(MulticlassFormat.Csv, csv.Format);
        Assert.Equal(MulticlassFormat.VowpalWabbit, vw.Format);
        var a = ReadAll(csv);
        var b = ReadAll(vw);
        Assert.Equal(50, a.Count);
        Assert.Equal(a.Count, b.Count);
        for (var i = 0; i < a.Count; i++)
        {
            Assert.Equal(a[i].Label, b[i].Label);
            Assert.Equal(a[i].Hashes, b[i].Hashes);
            Assert.Equal(a[i].Values, b[i].Values);
        }
    }

    [Fact]
    public void Read_FeatureHashes_UseNamespaceXAndTheFeatureName()
    {
        using var reader = FromText("label,f0,f1\n2,1.5,0\n");
        Assert.True(reader.Read());
        var ns = new HashedNamespace("x");
        Assert.Equal(2, reader.Label);
        Assert.Equal([FeatureHashing.Hash("f0", ns.Hash)], reader.Features.Hashes.ToArray());
        Assert.Equal([1.5f], reader.Features.Values.ToArray());
        Assert.False(reader.Read());
    }

    [Fact]
    public void Read_VwVariants_BareNamesNamespacesTagsAndScales()
    {
        var text = "\n3 'tag |ns a b:2\t c:0.5\r\n1 |a:2 d:3 |other e\n2| f\n";
        using var reader = FromText(text);
        var rows = ReadAll(reader);
        var seed = new HashedNamespace("x").Hash;
        Assert.Equal(3, rows.Count);
        Assert.Equal(3, rows[0].Label);
        Assert.Equal(new[] { "a", "b", "c" }.Select(n => FeatureHashing.Hash(n, seed)), rows[0].Hashes);
        Assert.Equal([1f, 2f, 0.5f], rows[0].Values);
        Assert.Equal(new[] { "d", "e" }.Select(n => FeatureHashing.Hash(n, seed)), rows[1].Hashes);
        Assert.Equal([6f, 1f], rows[1].Values);
        Assert.Equal(2, rows[2].Label);
        Assert.Equal([FeatureHashing.Hash("f", seed)], rows[2].Hashes);
    }

    [Fact]
    public void Open_Gzip_IsDetectedByContentNotName()
    {
        var data = ReplayTestData.Separable(20);
        using var temp = new TempDirectory();
        var gz = temp.Write("data.txt", ReplayTestData.Gzip(ReplayTestData.Vw(data)));
        var plain = temp.Write("data.gz", ReplayTestData.Csv(data));
        using var a = MulticlassReader.Open(gz, 3);
        using var b = MulticlassReader.Open(plain, 3);
        Assert.True(a.IsCompressed);
        Assert.False(b.IsCompressed);
        Assert.Equal(MulticlassFormat.VowpalWabbit, a.Format);
        Assert.Equal(MulticlassFormat.Csv, b.Format);
        Assert.Equal(ReadAll(b).Select(r => r.Values), ReadAll(a).Select(r => r.Values));
        Assert.True(a.BytesRead > 0 && a.BytesRead <= a.TotalBytes);
    }

    [Fact]
    public void Read_LongLinesAndManyRows_CrossBufferBoundaries()
    {
        var sb = new StringBuilder("label");
        for (var j = 0; j < 9000; j++)
        {
            sb.Append(",f").Append(j);
        }
        sb.Append('\n');
        for (var i = 0; i < 30; i++)
        {
            sb.Append(1 + (i % 3));
            for (var j = 0; j < 9000; j++)
            {
                sb.Append(',').Append((i + j) % 7);
            }
            sb.Append('\n');
        }
        using var reader = FromText(sb.ToString());
        var rows = ReadAll(reader);
        Assert.Equal(30, rows.Count);
        Assert.Equal(9000 - 9000 / 7 - 1, rows[0].Values.Length); // zeros are skipped
        Assert.Equal(31, reader.LineNumber);
    }

    [Theory]
    [InlineData("label,f0,f1\n1,2,3\n0,1,1\n", "line 3: label '0' is outside 1..3")]
    [InlineData("label,f0,f1\n1,2,3\n\n4,1,1\n", "line 4: label '4' is outside 1..3")]
    [InlineData("label,f0,f1\n1,2,3\n2,1,abc\n", "line 3: value 'abc' of 'f1' is not a number")]
    [InlineData("label,f0,f1\n1,2,3\n2,1\n", "line 3: expected 3 comma-separated fields as in the header, found 2")]
    [InlineData("label,f0,f1\n1,2,3,4\n", "line 2: expected 3 comma-separated fields as in the header, found 4")]
    [InlineData("label,f0,f1\n1.5,2,3\n", "line 2: label '1.5' is not an integer in 1..3")]
    [InlineData("label,f0,f1\n1,NaN,3\n", "line 2: value 'NaN' is not a finite single-precision number")]
    [InlineData("1,2,3\n2,1,1\n", "line 1: expected a CSV header 'label,<feature names…>'; the first column is '1'")]
    [InlineData("label,f0,f0\n", "line 1: the header names column 'f0' twice")]
    [InlineData("1 | a:1\n2 | b:x\n", "line 2: value 'x' of 'b' is not a number")]
    [InlineData("1 | a:1\n5 | b:1\n", "line 2: label '5' is outside 1..3")]
    [InlineData("1 | a:1\n2 b:1\n", "line 2: expected a Vowpal Wabbit line 'label | name:value …' (no '|' found)")]
    [InlineData("1 | a:1\n | b:1\n", "line 2: the line has no label before '|'")]
    [InlineData("1 | a:1\n1 0.5 | b:1\n", "line 2: unexpected '0.5' after the label (importance weights are not supported)")]
    [InlineData("label,f0\n", "line 1: the file holds no examples")]
    public void Read_MalformedInput_ThrowsNamingTheLine(string text, string message)
    {
        var ex = Assert.Throws<ReplayDataException>(() =>
        {
            using var reader = FromText(text);
            new CbifyReplay(new CbifyReplayOptions { Classes = 3 }).Run(reader);
        });
        Assert.Equal(message, ex.Message);
        Assert.IsAssignableFrom<FormatException>(ex);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n  \n")]
    public void Open_EmptyFile_Throws(string text)
    {
        var ex = Assert.Throws<ReplayDataException>(() => FromText(text));
        Assert.Contains("the file is empty", ex.Message, StringComparison.Ordinal);
    }
}

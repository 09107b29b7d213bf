using System.IO.Compression;
using System.Text;
using Flywheel.Core;
using Flywheel.Evaluation.Answers;

namespace Flywheel.Evaluation.Tests.Answers;

public sealed class AnswerDataTests : IDisposable
{
    private readonly TempDirectory _folder = new("flywheel-answers-");

    public void Dispose() => _folder.Dispose();

    private static AnswerData Parse(string text) => AnswerData.Read(new MemoryStream(Encoding.UTF8.GetBytes(text)));

    private static AnswerDataException Bad(string text) => Assert.Throws<AnswerDataException>(() => Parse(text));

    [Fact]
    public void Read_LongFormat_ReadsEveryAnswerInFileOrder()
    {
        var data = Parse("user,item,correct\nann,q1,1\nbob,q1,0\nann,q2,true\nbob,q2,FALSE\n");
        Assert.Equal(AnswerFileFormat.Long, data.Format);
        Assert.False(data.HasTimes);
        Assert.False(data.IsCompressed);
        Assert.Equal(
            [new Answer("ann", "q1", true), new Answer("bob", "q1", false), new Answer("ann", "q2", true), new Answer("bob", "q2", false)],
            data.Answers);
        Assert.Equal(2, data.UserCount);
        Assert.Equal(2, data.ItemCount);
        Assert.Empty(data.ItemFeatures);
    }

    [Fact]
    public void Read_LongFormat_ColumnsInAnyOrderAndCase_WithTimes()
    {
        var data = Parse("At,Correct,Item,User\n2025-03-01T09:30:00Z,1,q1,ann\n2025-03-01T10:30:00+02:00,0,q2,ann\n");
        Assert.True(data.HasTimes);
        Assert.Equal(new DateTimeOffset(2025, 3, 1, 9, 30, 0, TimeSpan.Zero), data.Answers[0].At);
        Assert.Equal(new DateTimeOffset(2025, 3, 1, 8, 30, 0, TimeSpan.Zero), data.Answers[1].At!.Value.ToUniversalTime());
        Assert.Equal("q2", data.Answers[1].ItemId);
    }

    [Fact]
    public void Read_LongFormat_ExtraColumnsDescribeTheItemFromItsFirstLine()
    {
        var data = Parse("user,item,correct,level,topic\nann,q1,1,2.5,fractions\nbob,q1,0,9,other\nbob,q2,1,,\n");
        Assert.Equal(3, data.Answers.Count);
        var q1 = data.ItemFeatures["q1"]["item"];
        Assert.Equal(FeatureValue.FromNumber(2.5), q1["level"]);
        Assert.Equal(FeatureValue.FromString("fractions"), q1["topic"]);
        Assert.Equal(0, data.ItemFeatures["q2"]["item"].Count);
    }

    [Fact]
    public void Read_LongFormat_QuotedFieldsAndIdsWithCommas()
    {
        var data = Parse("\"user\",\"item\",\"correct\"\n\"Smith, Ann\",\"say \"\"hi\"\"\",1\n");
        Assert.Equal(new Answer("Smith, Ann", "say \"hi\"", true), Assert.Single(data.Answers));
    }

    [Fact]
    public void Read_LongFormat_OneCopyOfEachId()
    {
        var data = Parse("user,item,correct\nann,q1,1\nann,q2,1\nbob,q1,0\n");
        Assert.Same(data.Answers[0].UserId, data.Answers[1].UserId);
        Assert.Same(data.Answers[0].ItemId, data.Answers[2].ItemId);
    }

    [Fact]
    public void Read_WideFormat_IdColumn_MissingCellsSkipped()
    {
        var data = Parse("id,a,b,c\np1,1,0,NA\np2,,1,0\np3,NA,NA,NA\n");
        Assert.Equal(AnswerFileFormat.Wide, data.Format);
        Assert.Equal(
            [new Answer("p1", "a", true), new Answer("p1", "b", false), new Answer("p2", "b", true), new Answer("p2", "c", false)],
            data.Answers);
        Assert.Equal(2, data.UserCount);
        Assert.Equal(3, data.ItemCount);
    }

    [Theory]
    [InlineData("\"\",\"a\",\"b\"\n\"7\",1,0\n", "7")]
    [InlineData("user,a,b\nx9,1,0\n", "x9")]
    [InlineData("a,b\n1,0\n", "1")]
    public void Read_WideFormat_TheLearnerIdFromAnIdColumnOrTheRowNumber(string text, string user)
    {
        var data = Parse(text);
        Assert.Equal(AnswerFileFormat.Wide, data.Format);
        Assert.Equal([new Answer(user, "a", true), new Answer(user, "b", false)], data.Answers);
    }

    [Fact]
    public void Read_WideFormat_RowNumbersCountDataRows_BlankLinesSkipped()
    {
        var data = Parse("a,b\r\n1,0\r\n\r\n0,1\r\n");
        Assert.Equal(["1", "1", "2", "2"], data.Answers.Select(a => a.UserId));
    }

    [Fact]
    public void Read_TabsAndSemicolons_WhenTheHeaderHasNoComma()
    {
        Assert.Equal(2, Parse("user\titem\tcorrect\nann\tq1\t1\nbob\tq1\t0\n").Answers.Count);
        Assert.Equal(2, Parse("id;a;b\np;1;0\n").Answers.Count);
    }

    [Fact]
    public void Read_Gzip_IsDetectedByContent()
    {
        var path = _folder.File("answers.csv"); // no .gz: the magic bytes tell
        using (var file = File.Create(path))
        using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
        {
            gzip.Write("id,a,b\np1,1,0\np2,0,NA\n"u8);
        }
        var data = AnswerData.Load(path);
        Assert.True(data.IsCompressed);
        Assert.Equal(3, data.Answers.Count);
    }

    [Fact]
    public void Read_ByteOrderMark_IsSkipped()
    {
        var bytes = new byte[] { 0xEF, 0xBB, 0xBF }.Concat("user,item,correct\nann,q1,1\n"u8.ToArray()).ToArray();
        var data = AnswerData.Read(new MemoryStream(bytes));
        Assert.Equal(AnswerFileFormat.Long, data.Format);
        Assert.Single(data.Answers);
    }

    [Fact]
    public void Reader_Streams_OneAnswerAtATime()
    {
        using var reader = new AnswerReader(new MemoryStream("id,a,b\np1,1,0\np2,0,1\n"u8.ToArray()));
        Assert.True(reader.TryRead(out var first));
        Assert.Equal(new Answer("p1", "a", true), first);
        Assert.Equal(2, reader.LineNumber); // the second row not read yet
        Assert.Equal(3, reader.ReadAll().Count());
        Assert.False(reader.TryRead(out _));
    }

    [Theory]
    [InlineData("user,item,correct\nann,q1,1\nann,q2,yes\n", 3, 3, "line 3, column 3: correct must be 0, 1, true or false; got 'yes'")]
    [InlineData("user,item,correct\nann,q1,1\n\nann,q2,NA\n", 4, 3, "correct must be 0, 1, true or false; got 'NA'")]
    [InlineData("user,item,correct\n,q1,1\n", 2, 1, "line 2, column 1: user is empty")]
    [InlineData("user,item,correct\nann,q1\n", 2, 3, "line 2, column 3: the line has 2 fields where the header has 3")]
    [InlineData("user,item,correct\nann,q1,1,9\n", 2, 4, "the line has 4 fields where the header has 3")]
    [InlineData("user,item,correct,at\nann,q1,1,yesterday\n", 2, 4, "at must be a time in ISO 8601")]
    [InlineData("user,item,correct\nann,\"q1,1\n", 2, 2, "line 2, column 2: a quoted field has no closing quote")]
    [InlineData("user,item,correct\nann,\"q1\"x,1\n", 2, 2, "text follows a quoted field's closing quote")]
    [InlineData("id,a,b\np1,1,0\np2,1,2\n", 3, 3, "line 3, column 3: the answer to 'b' must be 0, 1, true, false, NA or empty; got '2'")]
    [InlineData("user,question,right\nann,q1,1\n", 2, 2, "read as a wide file: the header names no user, item and correct columns")]
    [InlineData("id,a,a\np1,1,0\n", 1, 3, "line 1, column 3: the header names 'a' twice")]
    [InlineData("id,a,,b\np1,1,0,1\n", 1, 3, "the header leaves this item column unnamed")]
    [InlineData("id\np1\n", 1, 0, "line 1: the header names no items")]
    [InlineData("", 1, 0, "line 1: the file is empty")]
    [InlineData("\n\n", 2, 0, "the file is empty")]
    public void Read_BadLine_NamesTheLineAndColumn(string text, long line, int column, string message)
    {
        var ex = Bad(text);
        Assert.Equal(line, ex.LineNumber);
        Assert.Equal(column, ex.Column);
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<FormatException>(ex);
    }

    [Fact]
    public void Read_NumbersWrittenAsDecimals_AreAnswersToo()
    {
        var data = Parse("id,a,b\np,1.0,0.0\n");
        Assert.Equal([true, false], data.Answers.Select(a => a.Correct));
    }

    [Fact]
    public void FromAnswers_TimesCountOnlyWhenEveryAnswerHasOne()
    {
        var at = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
        Assert.True(AnswerData.FromAnswers([new("u", "i", true, at), new("v", "i", false, at)]).HasTimes);
        Assert.False(AnswerData.FromAnswers([new("u", "i", true, at), new("v", "i", false)]).HasTimes);
        Assert.Throws<ArgumentException>(() => AnswerData.FromAnswers([new("", "i", true)]));
    }
}

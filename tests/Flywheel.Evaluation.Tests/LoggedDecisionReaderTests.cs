using System.IO.Compression;
using System.Text;
using Flywheel.Core;

namespace Flywheel.Evaluation.Tests;

public class LoggedDecisionReaderTests
{
    internal const string Good = """{"decisionId":"d1","context":{"user":{"country":"fr"}},"actions":[{"id":"a","features":{"item":{"k":0}}},{"id":"b","features":{}}],"chosenActionId":"b","probability":0.25,"reward":1,"targetProbabilities":{"a":0.5,"b":0.5},"rewardEstimates":{"a":0.1,"b":0.7}}""";

    private static LoggedDecisionReader Reader(string text) => new(new MemoryStream(Encoding.UTF8.GetBytes(text)));

    private static List<LoggedDecision> ReadAll(string text)
    {
        using var reader = Reader(text);
        return [.. reader.ReadAll()];
    }

    /// <summary>Replaces the JSON fragment <paramref name="from"/> of the good row by <paramref name="to"/>.</summary>
    private static string Edit(string from, string to)
    {
        Assert.Contains(from, Good, StringComparison.Ordinal);
        return Good.Replace(from, to, StringComparison.Ordinal);
    }

    public static TheoryData<string, string, string, string> MalformedRows() => new()
    {
        // what, line, field, message fragment
        { "not json", "{\"decisionId\":", "", "is not valid JSON" },
        { "not an object", "[1,2]", "", "must be a JSON object" },
        { "missing decisionId", Edit("\"decisionId\":\"d1\",", ""), "decisionId", "is required" },
        { "decisionId a number", Edit("\"decisionId\":\"d1\"", "\"decisionId\":7"), "decisionId", "must be a string" },
        { "missing context", Edit("\"context\":{\"user\":{\"country\":\"fr\"}},", ""), "context", "is required" },
        { "context not an object", Edit("\"context\":{\"user\":{\"country\":\"fr\"}}", "\"context\":3"), "context", "must be an object" },
        { "feature not finite", Edit("\"k\":0", "\"k\":1e999"), "actions[0].features.item.k", "finite" },
        { "missing actions", Edit("\"actions\":[{\"id\":\"a\",\"features\":{\"item\":{\"k\":0}}},{\"id\":\"b\",\"features\":{}}],", ""), "actions", "is required" },
        { "no actions", Edit("\"actions\":[{\"id\":\"a\",\"features\":{\"item\":{\"k\":0}}},{\"id\":\"b\",\"features\":{}}]", "\"actions\":[]"), "actions", "at least one action" },
        { "action without id", Edit("{\"id\":\"b\",\"features\":{}}", "{\"features\":{}}"), "actions[1].id", "is required" },
        { "duplicate action ids", Edit("{\"id\":\"b\",\"features\":{}}", "{\"id\":\"a\",\"features\":{}}"), "actions[1].id", "appears twice" },
        { "missing chosenActionId", Edit("\"chosenActionId\":\"b\",", ""), "chosenActionId", "is required" },
        { "unknown chosenActionId", Edit("\"chosenActionId\":\"b\"", "\"chosenActionId\":\"z\""), "chosenActionId", "'z' is not among the actions" },
        { "missing probability", Edit("\"probability\":0.25,", ""), "probability", "is required" },
        { "probability 0", Edit("\"probability\":0.25", "\"probability\":0"), "probability", "must lie in (0, 1]" },
        { "probability above 1", Edit("\"probability\":0.25", "\"probability\":1.5"), "probability", "must lie in (0, 1]" },
        { "probability negative", Edit("\"probability\":0.25", "\"probability\":-0.1"), "probability", "must lie in (0, 1]" },
        { "probability a string", Edit("\"probability\":0.25", "\"probability\":\"0.25\""), "probability", "must be a number" },
        { "missing reward", Edit("\"reward\":1,", ""), "reward", "is required" },
        { "reward infinite", Edit("\"reward\":1", "\"reward\":-1e400"), "reward", "finite" },
        { "reward null", Edit("\"reward\":1", "\"reward\":null"), "reward", "is required" },
        { "target unknown action", Edit("{\"a\":0.5,\"b\":0.5}", "{\"a\":0.5,\"b\":0.25,\"c\":0.25}"), "targetProbabilities.c", "is not among the actions" },
        { "target sum", Edit("{\"a\":0.5,\"b\":0.5}", "{\"a\":0.5,\"b\":0.4}"), "targetProbabilities", "must sum to 1" },
        { "target sum just outside", Edit("{\"a\":0.5,\"b\":0.5}", "{\"a\":0.5,\"b\":0.500002}"), "targetProbabilities", "must sum to 1" },
        { "target negative", Edit("{\"a\":0.5,\"b\":0.5}", "{\"a\":1.5,\"b\":-0.5}"), "targetProbabilities.b", "≥ 0" },
        { "target not a number", Edit("{\"a\":0.5,\"b\":0.5}", "{\"a\":0.5,\"b\":\"half\"}"), "targetProbabilities.b", "must be a number" },
        { "target not an object", Edit("\"targetProbabilities\":{\"a\":0.5,\"b\":0.5}", "\"targetProbabilities\":[0.5,0.5]"), "targetProbabilities", "must be a JSON object" },
        { "target duplicate key", Edit("{\"a\":0.5,\"b\":0.5}", "{\"a\":0.5,\"a\":0.5}"), "targetProbabilities.a", "appears twice" },
        { "estimate not finite", Edit("{\"a\":0.1,\"b\":0.7}", "{\"a\":0.1,\"b\":1e999}"), "rewardEstimates.b", "finite" },
        { "estimate unknown action", Edit("{\"a\":0.1,\"b\":0.7}", "{\"a\":0.1,\"b\":0.7,\"c\":0}"), "rewardEstimates.c", "is not among the actions" },
        { "estimate missing action", Edit("{\"a\":0.1,\"b\":0.7}", "{\"a\":0.1}"), "rewardEstimates", "no estimate for action 'b'" },
        { "duplicate top-level field", Edit("\"reward\":1,", "\"reward\":1,\"reward\":0,"), "reward", "appears twice" },
    };

    [Theory]
    [MemberData(nameof(MalformedRows))]
    public void Read_MalformedRow_NamesLineAndField(string what, string row, string field, string fragment)
    {
        // A good line, a blank line, then the bad one: line 3.
        using var reader = Reader(Good + "\n\n" + row + "\n" + Good + "\n");
        Assert.NotNull(reader.Read());
        var ex = Assert.Throws<LoggedDataException>(() => reader.Read());
        Assert.True(ex.LineNumber == 3, what);
        Assert.Equal(field, ex.Field);
        Assert.Contains(fragment, ex.Problem, StringComparison.Ordinal);
        Assert.StartsWith(field.Length == 0 ? "line 3: " : $"line 3: {field} ", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Fact]
    public void Read_GoodRow_AllFields()
    {
        var d = Assert.Single(ReadAll(Good));
        Assert.Equal("d1", d.DecisionId);
        Assert.Equal("fr", d.Context["user"]["country"].Text);
        Assert.Equal(["a", "b"], d.Actions.Select(a => a.Id));
        Assert.Equal(0.0, d.Actions[0].Features["item"]["k"].Number);
        Assert.Equal("b", d.ChosenActionId);
        Assert.Equal(1, d.ChosenIndex);
        Assert.Equal(0.25, d.Probability);
        Assert.Equal(1.0, d.Reward);
        Assert.Equal(0.5, d.TargetProbabilities!["a"]);
        Assert.Equal(0.7, d.RewardEstimates!["b"]);
    }

    [Fact]
    public void Read_OptionalFieldsAndUnknownFields()
    {
        var row = """{"decisionId":"x","context":{},"actions":[{"id":"a"},{"id":"b"}],"chosenActionId":"a","probability":1,"reward":-3.5,"at":"2026-01-01T00:00:00Z","targetProbabilities":null}""";
        var d = Assert.Single(ReadAll(row));
        Assert.Null(d.TargetProbabilities);
        Assert.Null(d.RewardEstimates);
        Assert.Equal(0, d.Actions[1].Features.Count);
        Assert.Equal(-3.5, d.Reward);
    }

    [Fact]
    public void Read_TargetProbabilitiesWithinTolerance_AndOmittedActionsAreZero()
    {
        var rows = ReadAll(Edit("{\"a\":0.5,\"b\":0.5}", "{\"b\":1.0000009}") + "\n");
        Assert.Equal(1.0000009, Assert.Single(rows).TargetProbabilities!["b"]);
    }

    [Fact]
    public void Read_TargetProbabilityOfMinusOneMillionth_IsRoundingNoise_KeptAsGiven()
    {
        var d = Assert.Single(ReadAll(Edit("{\"a\":0.5,\"b\":0.5}", "{\"a\":1.000001,\"b\":-0.000001}")));
        Assert.Equal(-0.000001, d.TargetProbabilities!["b"]);
        var ex = Assert.Throws<LoggedDataException>(() => ReadAll(Edit("{\"a\":0.5,\"b\":0.5}", "{\"a\":1.000002,\"b\":-0.000002}")));
        Assert.Equal("targetProbabilities.b", ex.Field);
    }

    [Fact]
    public void Read_CrLf_Bom_BlankLines_NoFinalNewline()
    {
        var text = "\uFEFF" + Good + "\r\n   \r\n\r\n" + Good.Replace("\"d1\"", "\"d2\"", StringComparison.Ordinal);
        using var reader = Reader(text);
        Assert.Equal("d1", reader.Read()!.DecisionId);
        Assert.Equal(1, reader.LineNumber);
        Assert.Equal("d2", reader.Read()!.DecisionId);
        Assert.Equal(4, reader.LineNumber);
        Assert.Null(reader.Read());
        Assert.Equal(2, reader.Count);
        Assert.False(reader.IsCompressed);
    }

    [Fact]
    public void Read_Empty_ReturnsNothing()
    {
        Assert.Empty(ReadAll(""));
        Assert.Empty(ReadAll("\n\n  \n"));
    }

    [Fact]
    public void Read_Gzip_DetectedByMagicBytes()
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        {
            for (var i = 0; i < 3000; i++)
            {
                gzip.Write(Encoding.UTF8.GetBytes(Good.Replace("\"d1\"", $"\"d{i}\"", StringComparison.Ordinal) + "\n"));
            }
        }
        buffer.Position = 0;
        // A stream that cannot seek: the magic bytes are peeked, not re-read.
        using var reader = new LoggedDecisionReader(new NonSeekable(buffer));
        Assert.True(reader.IsCompressed);
        Assert.Equal(3000, reader.ReadAll().Count());
        Assert.Equal(buffer.Length, reader.BytesRead);
    }

    [Fact]
    public void Read_CorruptGzip_InvalidDataException()
    {
        // A gzip header, then a deflate block of the reserved type 11.
        using var reader = new LoggedDecisionReader(new MemoryStream([0x1F, 0x8B, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xFF, 0xFF, 0xFF, 0xFF]));
        Assert.True(reader.IsCompressed);
        Assert.Throws<InvalidDataException>(() => reader.Read());
    }

    [Fact]
    public void Read_LongLines_GrowTheBuffer()
    {
        // Over 150 KB, beyond the reader's first 64 KB buffer (few features: Features checks duplicates pairwise).
        var features = string.Join(",", Enumerable.Range(0, 1500).Select(i => $"\"{new string('f', 100)}{i}\":{i}"));
        var row = Edit("{\"user\":{\"country\":\"fr\"}}", "{\"user\":{" + features + "}}");
        var rows = ReadAll(row + "\n" + Good + "\n" + row);
        Assert.Equal(3, rows.Count);
        Assert.Equal(1500, rows[2].Context["user"].Count);
        Assert.True(row.Length > 150_000);
    }

    [Fact]
    public void Writer_RoundTrips()
    {
        var decisions = ReadAll(Good + "\n" + """{"decisionId":"x","context":{"u":{"tags":["a","b"],"on":true}},"actions":[{"id":"a"}],"chosenActionId":"a","probability":0.3333333333333333,"reward":0.1}""");
        using var buffer = new MemoryStream();
        using (var writer = new LoggedDecisionWriter(buffer, leaveOpen: true))
        {
            foreach (var d in decisions)
            {
                writer.Write(d);
            }
            Assert.Equal(2, writer.Count);
        }
        var text = Encoding.UTF8.GetString(buffer.ToArray());
        Assert.Equal(2, text.Count(c => c == '\n'));
        Assert.EndsWith("\n", text, StringComparison.Ordinal);
        var back = ReadAll(text);
        Assert.Equal(decisions.Select(LoggedDecisionJson.Serialize), back.Select(LoggedDecisionJson.Serialize));
        Assert.Equal(Good, LoggedDecisionJson.Serialize(decisions[0]));
        Assert.Equal(0.3333333333333333, back[1].Probability);
    }

    [Fact]
    public void Writer_InvalidDecision_ThrowsAndWritesNothing()
    {
        using var buffer = new MemoryStream();
        using var writer = new LoggedDecisionWriter(buffer, leaveOpen: true);
        var bad = new LoggedDecision
        {
            DecisionId = "d",
            Context = new Features(),
            Actions = [new ActionCandidate("a")],
            ChosenActionId = "a",
            Probability = 0,
            Reward = 1,
        };
        var ex = Assert.Throws<FlywheelValidationException>(() => writer.Write(bad));
        Assert.Equal("probability", ex.Field);
        Assert.Equal(0, buffer.Length);
    }

    private sealed class NonSeekable(Stream inner) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, Math.Min(count, 7));
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

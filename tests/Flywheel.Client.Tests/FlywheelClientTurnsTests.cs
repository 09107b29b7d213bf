using System.IO.Pipelines;
using System.Net;
using System.Text;
using Flywheel.Core;
using Microsoft.Extensions.Time.Testing;
using static Flywheel.Client.Tests.Setup;

namespace Flywheel.Client.Tests;

/// <summary>The registry, ledger, evaluation and export calls against a fake handler.</summary>
public class FlywheelClientTurnsTests
{
    private static readonly OffPolicyEstimates Estimates = new()
    {
        Count = 1200,
        EffectiveSampleSize = 1100.5,
        Ips = new Estimate(0.61, 0.58, 0.64),
        IpsClopperPearson = new Estimate(0.61, 0.57, 0.65),
        Snips = new Estimate(0.62, 0.59, 0.65),
        Dm = new Estimate(0.6, 0.59, 0.61),
        Dr = new Estimate(0.63, 0.6, 0.66),
        MinReward = 0,
        MaxReward = 1,
        MaxWeight = 3.5,
    };

    private static readonly TurnRecord Turn = new()
    {
        Loop = "home-feed",
        Number = 4,
        Trigger = TurnTrigger.Manual,
        StartedAt = Start,
        FinishedAt = Start.AddSeconds(3),
        Window = new DataWindow { AfterSequence = 1000, ThroughSequence = 2200, From = Start.AddHours(-1), To = Start, Decisions = 1200, Signals = 1500 },
        ChampionVersion = 2,
        Candidates =
        [
            new TurnCandidate { Name = "champion", Version = 2, Learner = new LearnerConfig(), Exploration = new ExplorationConfig(), Estimates = Estimates },
            new TurnCandidate { Name = "uniform", Estimates = Estimates with { Dr = new Estimate(0.3, 0.25, 0.35) } },
            new TurnCandidate { Name = "learningRate×2", Version = 5, Learner = new LearnerConfig { Bits = 20 }, Exploration = new ExplorationConfig(), Estimates = Estimates },
        ],
        Verdict = TurnVerdict.Promoted,
        Reason = "the 95% lower bound beats the champion",
        DeployedVersion = 5,
        DeployedAt = Start.AddSeconds(3),
    };

    private static readonly ModelRecord Model = new()
    {
        Loop = "home-feed",
        Version = 5,
        ParentVersion = 2,
        Status = ModelStatus.Champion,
        Learner = new LearnerConfig { Bits = 20 },
        Exploration = new ExplorationConfig(),
        Turn = 4,
        Window = Turn.Window,
        TrainedThrough = 2200,
        Estimates = Estimates,
        CreatedAt = Start,
        StatusChangedAt = Start.AddSeconds(3),
        Reason = "promoted by turn 4",
    };

    private const string Row1 = """{"decisionId":"d1","context":{"user":{"country":"fr"}},"actions":[{"id":"a","features":{}},{"id":"b","features":{}}],"chosenActionId":"b","probability":0.25,"reward":1,"targetProbabilities":{"a":0.5,"b":0.5},"rewardEstimates":{"a":0.1,"b":0.7}}""";
    private const string Row2 = """{"decisionId":"d2","context":{},"actions":[{"id":"a","features":{}}],"chosenActionId":"a","probability":1,"reward":0}""";

    private static string TurnJson(TurnRecord turn) => FlywheelJson.ToString(w => FlywheelJson.Write(w, turn));

    private static Task<HttpResponseMessage> Answer(int status, string json) => Task.FromResult(Answers.Json(status, json));

    /// <summary>A call that must not retry: a retry would wait for fake time that never comes, so fail after 10 s instead of hanging.</summary>
    private static Task<T> Bounded<T>(Task<T> call) => call.WaitAsync(HangGuard.Limit);

    [Fact]
    public async Task ListModelsAsync_GetsModels_ReadsLineageStatusAndEstimates()
    {
        var body = $$"""{ "models": [ {{FlywheelJson.ToString(w => FlywheelJson.Write(w, Model))}} ] }""";
        var (client, handler, _) = NewClient((_, _) => Answer(200, body));

        var models = await client.ListModelsAsync("home-feed");

        var request = Assert.Single(handler.Requests);
        Assert.Equal(HttpMethod.Get, request.Method);
        Assert.Equal("/v1/loops/home-feed/models", request.Uri.AbsolutePath);
        var model = Assert.Single(models);
        Assert.Equal((5, 2, ModelStatus.Champion, 20, 2200L), (model.Version, model.ParentVersion, model.Status, model.Learner.Bits, model.TrainedThrough));
        Assert.Equal(Estimates.Dr, model.Estimates!.Dr);
    }

    [Fact]
    public async Task ListTurnsAsync_ReadsTheLedger_UnknownLoopThrowsNotFound()
    {
        var (client, handler, _) = NewClient((r, _) => r.Uri.AbsolutePath.Contains("/nope/", StringComparison.Ordinal)
            ? Task.FromResult(Answers.Problem(404, "Not found", "loop: loop 'nope' does not exist", "loop"))
            : Answer(200, $$"""{ "turns": [ {{TurnJson(Turn)}} ] }"""));

        var turns = await client.ListTurnsAsync("home-feed");
        var ex = await Assert.ThrowsAsync<FlywheelApiValidationException>(() => client.ListTurnsAsync("nope"));

        var turn = Assert.Single(turns);
        Assert.Equal(TurnJson(Turn), TurnJson(turn));
        Assert.Equal("/v1/loops/home-feed/turns", handler.Requests[0].Uri.AbsolutePath);
        Assert.Equal((ValidationKind.NotFound, "loop", "loop 'nope' does not exist"), (ex.Kind, ex.Field, ex.Problem));
    }

    [Fact]
    public async Task PromoteAsync_PostsTheReason_ReadsTheLedgerEntry()
    {
        var (client, handler, _) = NewClient((_, _) => Answer(200, TurnJson(Turn with { Verdict = TurnVerdict.ManuallyPromoted })));

        var entry = await client.PromoteAsync("home-feed", 5, "better \"DR\"");

        var request = Assert.Single(handler.Requests);
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal("/v1/loops/home-feed/models/5/promote", request.Uri.AbsolutePath);
        Assert.Equal("application/json; charset=utf-8", request.ContentType);
        Assert.Equal("better \"DR\"", request.Json.GetProperty("reason").GetString());
        Assert.Equal(TurnVerdict.ManuallyPromoted, entry.Verdict);
        Assert.Equal(5, entry.DeployedVersion);
    }

    [Fact]
    public async Task RollbackAsync_WithoutReason_SendsAnEmptyJsonObject()
    {
        var (client, handler, _) = NewClient((_, _) => Answer(200, TurnJson(Turn with { Verdict = TurnVerdict.RolledBack, DeployedVersion = 2 })));

        var entry = await client.RollbackAsync("home-feed");

        var request = Assert.Single(handler.Requests);
        Assert.Equal("/v1/loops/home-feed/rollback", request.Uri.AbsolutePath);
        Assert.Equal(("{}", "application/json; charset=utf-8"), (request.Body, request.ContentType));
        Assert.Equal((TurnVerdict.RolledBack, 2), (entry.Verdict, entry.DeployedVersion));
    }

    [Theory]
    [InlineData(404, "Not found", ValidationKind.NotFound)]
    [InlineData(409, "Conflict", ValidationKind.Conflict)]
    [InlineData(422, "Invalid request", ValidationKind.Invalid)]
    public async Task PromoteAsync_Refused_MapsToValidationKindWithField_NotRetried(int status, string title, ValidationKind kind)
    {
        var (client, handler, _) = NewClient((_, _) => Task.FromResult(Answers.Problem(status, title, "version: model version 2 is already the champion", "version")));

        var ex = await Assert.ThrowsAsync<FlywheelApiValidationException>(() => Bounded(client.PromoteAsync("home-feed", 2)));

        Assert.Equal((kind, "version", status), (ex.Kind, ex.Field, ex.StatusCode));
        Assert.Equal("model version 2 is already the champion", ex.Problem);
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task RunTurnAsync_PostsAnEmptyJsonObject_ReadsTheEntry()
    {
        var (client, handler, _) = NewClient((_, _) => Answer(200, TurnJson(Turn)));

        var entry = await client.RunTurnAsync("home-feed");

        var request = Assert.Single(handler.Requests);
        Assert.Equal((HttpMethod.Post, "/v1/loops/home-feed/turns"), (request.Method, request.Uri.AbsolutePath));
        Assert.Equal(("{}", "application/json; charset=utf-8"), (request.Body, request.ContentType));
        Assert.Equal(3, entry.Candidates.Count);
        Assert.Equal("learningRate×2", entry.Candidates[2].Name);
    }

    [Fact]
    public async Task RunTurnAsync_TakesLongerThanTimeout_WaitsForLongOperationTimeout()
    {
        FakeTimeProvider? clock = null;
        var (client, handler, time) = NewClient(async (_, ct) =>
        {
            await Task.Delay(TimeSpan.FromMinutes(2), clock!, ct);
            return Answers.Json(200, TurnJson(Turn));
        });
        clock = time;

        var entry = await DriveAsync(client.RunTurnAsync("home-feed"), time, TimeSpan.FromSeconds(1));

        Assert.Equal(4, entry.Number);
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task RunTurnAsync_TimesOut_ThrowsWithoutSendingASecondTurn()
    {
        var retries = new List<FlywheelRetryInfo>();
        var (client, handler, time) = NewClient(
            async (_, ct) =>
            {
                await Task.Delay(Timeout.Infinite, ct);
                throw new InvalidOperationException("unreachable");
            },
            o => { o.LongOperationTimeout = TimeSpan.FromSeconds(20); o.OnRetry = retries.Add; });

        await Assert.ThrowsAsync<TimeoutException>(() => DriveAsync(client.RunTurnAsync("home-feed"), time, TimeSpan.FromSeconds(1)));

        Assert.Single(handler.Requests);
        Assert.Empty(retries);
    }

    [Theory]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(504)]
    [InlineData(408)]
    public async Task RunTurnAsync_AmbiguousFailure_IsNotRetried(int status)
    {
        var (client, handler, _) = NewClient((_, _) => Task.FromResult(Answers.Problem(status, "Failed", "turn failed")));

        var ex = await Assert.ThrowsAsync<FlywheelApiException>(() => Bounded(client.RunTurnAsync("home-feed")));

        Assert.Equal(status, ex.StatusCode);
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task RunTurnAsync_ConnectionDroppedAfterSending_IsNotRetried()
    {
        var (client, handler, _) = NewClient((_, _) => throw new HttpRequestException(HttpRequestError.ResponseEnded, "the response ended prematurely"));

        await Assert.ThrowsAsync<HttpRequestException>(() => Bounded(client.RunTurnAsync("home-feed")));

        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task RunTurnAsync_NoConnectionOr503_IsRetried()
    {
        var (client, handler, time) = NewClient((r, _) => r.Index switch
        {
            0 => throw new HttpRequestException(HttpRequestError.ConnectionError, "connection refused"),
            1 => Task.FromResult(Answers.Problem(503, "Overloaded", "busy", retryAfterSeconds: 2)),
            _ => Answer(200, TurnJson(Turn)),
        });

        var entry = await DriveAsync(client.RunTurnAsync("home-feed"), time, TimeSpan.FromMilliseconds(250));

        Assert.Equal(3, handler.Requests.Count);
        Assert.Equal(4, entry.Number);
        Assert.True(handler.Requests[2].Time - handler.Requests[1].Time >= TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task RollbackAsync_500_IsNotRetried_ButEvaluate500IsRetried()
    {
        var (client, handler, time) = NewClient((r, _) => r.Index is 0 or 1
            ? Task.FromResult(Answers.Problem(500, "Internal error", "boom"))
            : Answer(200, """{ "loop": "home-feed", "decisions": 0, "rewardEstimates": "model", "policies": [] }"""));

        await Assert.ThrowsAsync<FlywheelApiException>(() => Bounded(client.RollbackAsync("home-feed", "bad")));
        Assert.Single(handler.Requests);

        var report = await DriveAsync(client.EvaluateAsync("home-feed", new EvaluateRequest()), time, TimeSpan.FromMilliseconds(50));
        Assert.Equal(3, handler.Requests.Count);
        Assert.Equal(0, report.Decisions);
    }

    [Fact]
    public async Task EvaluateAsync_PostsRangeAndPolicies_ReadsTheReport()
    {
        var report = new EvaluationReport
        {
            Loop = "home-feed",
            From = Start.AddDays(-1),
            To = Start,
            Decisions = 1200,
            RewardEstimates = "model",
            Policies =
            [
                new PolicyEvaluation { Policy = "champion", Version = 5, Estimates = Estimates },
                new PolicyEvaluation { Policy = "baseline" },
            ],
        };
        var (client, handler, _) = NewClient((_, _) => Answer(200, FlywheelJson.ToString(w => FlywheelJson.Write(w, report))));

        var read = await client.EvaluateAsync("home-feed", new EvaluateRequest { From = Start.AddDays(-1), To = Start, Policies = ["champion", "baseline"] });

        var request = Assert.Single(handler.Requests);
        Assert.Equal((HttpMethod.Post, "/v1/loops/home-feed/evaluate"), (request.Method, request.Uri.AbsolutePath));
        var sent = FlywheelJson.Read<EvaluateRequest>(request.Json);
        Assert.Equal((Start.AddDays(-1), Start), (sent.From, sent.To));
        Assert.Equal(["champion", "baseline"], sent.Policies);
        Assert.Equal(1200, read.Decisions);
        Assert.Equal(Estimates.Dr, read.Policies[0].Estimates!.Dr);
        Assert.Equal(Estimates.IpsClopperPearson, read.Policies[0].Estimates!.IpsClopperPearson);
        Assert.Null(read.Policies[1].Estimates);
    }

    [Fact]
    public async Task EvaluateAsync_422_NamesThePolicy()
    {
        var (client, _, _) = NewClient((_, _) => Task.FromResult(Answers.Problem(422, "Invalid request", "policies[1]: 'best' is not a policy", "policies[1]")));

        var ex = await Assert.ThrowsAsync<FlywheelApiValidationException>(() => client.EvaluateAsync("home-feed", new EvaluateRequest { Policies = ["champion", "best"] }));

        Assert.Equal(("policies[1]", "'best' is not a policy"), (ex.Field, ex.Problem));
    }

    [Fact]
    public async Task ExportAsync_YieldsEachRowAsItsLineArrives()
    {
        var pipe = new Pipe();
        var (client, handler, _) = NewClient((_, _) => Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK)
        {
            Content = new StreamContent(pipe.Reader.AsStream()),
        }));
        var request = new ExportRequest { From = Start.AddDays(-1), To = Start, Policy = "champion" };

        await using var rows = client.ExportAsync("home-feed", request).GetAsyncEnumerator();
        await pipe.Writer.WriteAsync(Encoding.UTF8.GetBytes(Row1 + "\n" + Row2[..20]));
        Assert.True(await rows.MoveNextAsync().AsTask().WaitAsync(HangGuard.Limit));
        Assert.Equal("d1", rows.Current.DecisionId);
        Assert.Equal(0.5, rows.Current.TargetProbabilities!["a"]);

        var second = rows.MoveNextAsync().AsTask();
        Assert.False(second.IsCompleted); // the rest of line 2 has not arrived, so nothing can complete it
        await pipe.Writer.WriteAsync(Encoding.UTF8.GetBytes(Row2[20..] + "\r\n\n"));
        await pipe.Writer.CompleteAsync();
        Assert.True(await second.WaitAsync(HangGuard.Limit));
        Assert.Equal("d2", rows.Current.DecisionId);
        Assert.False(await rows.MoveNextAsync());

        var uri = Assert.Single(handler.Requests).Uri;
        Assert.Equal("/v1/loops/home-feed/export", uri.AbsolutePath);
        Assert.Equal("?format=jsonl&from=2026-11-23T12%3A00%3A00.0000000Z&to=2026-11-24T12%3A00%3A00.0000000Z&policy=champion", uri.Query);
    }

    [Fact]
    public async Task ExportAsync_LastLineWithoutNewLine_IsRead()
    {
        var (client, _, _) = NewClient((_, _) => Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(Row1 + "\n" + Row2) }));

        var ids = new List<string>();
        await foreach (var row in client.ExportAsync("home-feed", new ExportRequest()))
        {
            ids.Add(row.DecisionId);
        }

        Assert.Equal(["d1", "d2"], ids);
    }

    [Fact]
    public async Task ExportAsync_LineThatIsNotALoggedDecision_ThrowsNamingTheLine()
    {
        var (client, _, _) = NewClient((_, _) => Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(Row1 + "\n\n{\"decisionId\":\"x\"}\n") }));

        var ex = await Assert.ThrowsAsync<FlywheelApiException>(async () =>
        {
            await foreach (var _ in client.ExportAsync("home-feed", new ExportRequest()))
            {
            }
        });

        Assert.Contains("line 3", ex.Message, StringComparison.Ordinal);
        Assert.IsType<FlywheelValidationException>(ex.InnerException);
    }

    [Fact]
    public async Task ExportAsync_StreamBreaksOff_ThrowsApiException()
    {
        var (client, _, _) = NewClient((_, _) => Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(new BreakingStream(Encoding.UTF8.GetBytes(Row1 + "\n"))) }));

        var ids = new List<string>();
        var ex = await Assert.ThrowsAsync<FlywheelApiException>(async () =>
        {
            await foreach (var row in client.ExportAsync("home-feed", new ExportRequest()))
            {
                ids.Add(row.DecisionId);
            }
        });

        Assert.Equal(["d1"], ids);
        Assert.Contains("broke off", ex.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<IOException>(ex.InnerException);
    }

    [Fact]
    public async Task ExportAsync_Refused_ThrowsOnFirstMoveNext_AndRetriesTransientFailuresBeforeTheStream()
    {
        var (client, handler, time) = NewClient((r, _) => Task.FromResult(r.Index == 0
            ? Answers.Problem(503, "Overloaded", "busy", retryAfterSeconds: 1)
            : Answers.Problem(404, "Not found", "policy: loop 'home-feed' has no model version 9", "policy")));

        var rows = client.ExportAsync("home-feed", new ExportRequest { Policy = "v9" }).GetAsyncEnumerator();
        Assert.Empty(handler.Requests);
        var ex = await Assert.ThrowsAsync<FlywheelApiValidationException>(() => DriveAsync(rows.MoveNextAsync().AsTask(), time, TimeSpan.FromMilliseconds(250)));
        await rows.DisposeAsync();

        Assert.Equal((ValidationKind.NotFound, "policy"), (ex.Kind, ex.Field));
        Assert.Equal(2, handler.Requests.Count);
    }

    [Fact]
    public async Task ExportToAsync_CopiesTheBytesVerbatim()
    {
        var vw = "shared |user country=fr\n0:-1:0.25 |@action b\n|@action a\n\n"u8.ToArray();
        var (client, handler, _) = NewClient((_, _) => Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(vw) }));
        using var destination = new MemoryStream();

        var copied = await client.ExportToAsync("home-feed", FlywheelExportFormat.Vw, new ExportRequest { From = Start, MismatchesOnly = true }, destination);

        Assert.Equal(vw.Length, copied);
        Assert.Equal(vw, destination.ToArray());
        Assert.Equal("?format=vw&from=2026-11-24T12%3A00%3A00.0000000Z&mismatches=true", Assert.Single(handler.Requests).Uri.Query);
    }

    [Fact]
    public async Task ExportToAsync_422_ThrowsBeforeWritingAnything()
    {
        var (client, _, _) = NewClient((_, _) => Task.FromResult(Answers.Problem(422, "Invalid request", "to: must not be before from", "to")));
        using var destination = new MemoryStream();

        var ex = await Assert.ThrowsAsync<FlywheelApiValidationException>(
            () => client.ExportToAsync("home-feed", FlywheelExportFormat.Jsonl, new ExportRequest { From = Start, To = Start.AddDays(-1) }, destination));

        Assert.Equal("to", ex.Field);
        Assert.Equal(0, destination.Length);
    }

    [Fact]
    public void Options_LongOperationTimeoutOutOfRange_Throws()
    {
        var options = new FlywheelClientOptions { LongOperationTimeout = TimeSpan.Zero };

        var ex = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);
        Assert.Equal(nameof(FlywheelClientOptions.LongOperationTimeout), ex.ParamName);
    }

    /// <summary>Returns its bytes, then fails as a dropped connection does.</summary>
    private sealed class BreakingStream(byte[] content) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_position >= content.Length)
            {
                throw new IOException("connection reset by peer");
            }
            var n = Math.Min(count, content.Length - _position);
            Array.Copy(content, _position, buffer, offset, n);
            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

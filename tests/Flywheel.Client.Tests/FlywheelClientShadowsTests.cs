using Flywheel.Core;
using Microsoft.Extensions.Time.Testing;
using static Flywheel.Client.Tests.Setup;

namespace Flywheel.Client.Tests;

/// <summary>The shadow-mode calls against a fake handler.</summary>
public class FlywheelClientShadowsTests
{
    private static readonly ModelRecord Model = new()
    {
        Loop = "home-feed",
        Version = 5,
        ParentVersion = 2,
        Status = ModelStatus.Shadow,
        Learner = new LearnerConfig { Bits = 20 },
        Exploration = new ExplorationConfig(),
        Turn = 4,
        TrainedThrough = 2200,
        CreatedAt = Start,
        StatusChangedAt = Start.AddSeconds(3),
        Reason = "scores every decision in shadow mode",
    };

    private static readonly ShadowReport Report = new()
    {
        Loop = "home-feed",
        Version = 5,
        Decisions = 1200,
        Agreements = 900,
        AgreementRate = 0.75,
        Estimates = new OffPolicyEstimates
        {
            Count = 1200,
            EffectiveSampleSize = 1100.5,
            Ips = new Estimate(0.61, 0.58, 0.64),
            IpsClopperPearson = new Estimate(0.61, 0.57, 0.65),
            Snips = new Estimate(0.62, 0.59, 0.65),
            Dm = new Estimate(double.NaN, double.NegativeInfinity, double.PositiveInfinity),
            Dr = new Estimate(double.NaN, double.NegativeInfinity, double.PositiveInfinity),
            MinReward = 0,
            MaxReward = 1,
            MaxWeight = 3.5,
        },
        ServedMean = 0.58,
        Mismatches = 42,
    };

    private static readonly Mismatch[] Mismatches =
    [
        new() { DecisionId = "d-7", At = Start, Version = 5, ServedActionId = "v1", ShadowActionId = "v2", Reward = -0.5, Wrong = MismatchSide.Served },
        new() { DecisionId = "d-9", At = Start.AddSeconds(1), Version = 6, ServedActionId = "v2", ShadowActionId = "v1", Reward = 1, Wrong = MismatchSide.Shadow },
    ];

    private static string ModelJson(ModelRecord model) => FlywheelJson.ToString(w => FlywheelJson.Write(w, model));

    private static string ReportJson(ShadowReport report) => FlywheelJson.ToString(w => FlywheelJson.Write(w, report));

    private static string MismatchesJson(IEnumerable<Mismatch> mismatches) => FlywheelJson.ToString(w =>
    {
        w.WriteStartObject();
        w.WriteStartArray("mismatches");
        foreach (var m in mismatches)
        {
            FlywheelJson.Write(w, m);
        }
        w.WriteEndArray();
        w.WriteEndObject();
    });

    private static Task<HttpResponseMessage> Answer(int status, string json) => Task.FromResult(Answers.Json(status, json));

    /// <summary>A call that must not retry: a retry would wait for fake time that never comes, so fail after 10 s instead of hanging.</summary>
    private static Task<T> Bounded<T>(Task<T> call) => call.WaitAsync(HangGuard.Limit);

    [Fact]
    public async Task ShadowAsync_PostsAnEmptyJsonObject_ReadsTheModel()
    {
        var (client, handler, _) = NewClient((_, _) => Answer(200, ModelJson(Model)));

        var model = await client.ShadowAsync("home-feed", 5);

        var request = Assert.Single(handler.Requests);
        Assert.Equal((HttpMethod.Post, "/v1/loops/home-feed/models/5/shadow"), (request.Method, request.Uri.AbsolutePath));
        Assert.Equal(("{}", "application/json; charset=utf-8"), (request.Body, request.ContentType));
        Assert.Equal(ModelJson(Model), ModelJson(model));
    }

    [Fact]
    public async Task RetireAsync_PostsTheReason_ReadsTheModel()
    {
        var retired = Model with { Status = ModelStatus.Retired, Reason = "retired by hand: enough \"data\"" };
        var (client, handler, _) = NewClient((_, _) => Answer(200, ModelJson(retired)));

        var model = await client.RetireAsync("home-feed", 5, "enough \"data\"");
        await client.RetireAsync("home-feed", 5);

        Assert.Equal(2, handler.Requests.Count);
        Assert.Equal((HttpMethod.Post, "/v1/loops/home-feed/models/5/retire"), (handler.Requests[0].Method, handler.Requests[0].Uri.AbsolutePath));
        Assert.Equal("application/json; charset=utf-8", handler.Requests[0].ContentType);
        Assert.Equal("enough \"data\"", handler.Requests[0].Json.GetProperty("reason").GetString());
        Assert.Equal("{}", handler.Requests[1].Body);
        Assert.Equal((ModelStatus.Retired, "retired by hand: enough \"data\""), (model.Status, model.Reason));
    }

    [Fact]
    public async Task GetShadowReportAsync_GetsTheReport_ReadsAgreementAndEstimates()
    {
        var (client, handler, _) = NewClient((_, _) => Answer(200, ReportJson(Report)));

        var report = await client.GetShadowReportAsync("home-feed", 5);

        var request = Assert.Single(handler.Requests);
        Assert.Equal((HttpMethod.Get, "/v1/loops/home-feed/models/5/shadow"), (request.Method, request.Uri.AbsolutePath));
        Assert.Equal((1200L, 900L, 0.75, 0.58, 42L), (report.Decisions, report.Agreements, report.AgreementRate, report.ServedMean, report.Mismatches));
        Assert.Equal(Report.Estimates!.Ips, report.Estimates!.Ips);
        Assert.Equal(Report.Estimates.IpsClopperPearson, report.Estimates.IpsClopperPearson);
        Assert.Equal(Report.Estimates.Snips, report.Estimates.Snips);
        Assert.Equal(ReportJson(Report), ReportJson(report));
    }

    [Fact]
    public async Task GetShadowReportAsync_NothingScoredYet_HasNoEstimatesAndNaNRates()
    {
        var (client, _, _) = NewClient((_, _) => Answer(200, """{"loop":"home-feed","version":5,"decisions":0,"agreements":0,"agreementRate":null,"servedMean":null,"mismatches":0}"""));

        var report = await client.GetShadowReportAsync("home-feed", 5);

        Assert.Null(report.Estimates);
        Assert.True(double.IsNaN(report.AgreementRate));
        Assert.True(double.IsNaN(report.ServedMean));
    }

    [Fact]
    public async Task ListMismatchesAsync_OfOneShadowOrOfAll_SendsTheLimit_ReadsTheItems()
    {
        var (client, handler, _) = NewClient((_, _) => Answer(200, MismatchesJson(Mismatches)));

        var ofOne = await client.ListMismatchesAsync("home-feed", 5);
        var ofAll = await client.ListMismatchesAsync("home-feed", limit: 2);

        Assert.Equal(2, handler.Requests.Count);
        Assert.Equal("/v1/loops/home-feed/models/5/mismatches?limit=100", handler.Requests[0].Uri.PathAndQuery);
        Assert.Equal("/v1/loops/home-feed/mismatches?limit=2", handler.Requests[1].Uri.PathAndQuery);
        Assert.All(handler.Requests, r => Assert.Equal(HttpMethod.Get, r.Method));
        Assert.Equal(Mismatches, ofOne);
        Assert.Equal(Mismatches, ofAll);
    }

    [Fact]
    public async Task ListMismatchesAsync_Empty_IsAnEmptyList()
    {
        var (client, _, _) = NewClient((_, _) => Answer(200, """{"mismatches":[]}"""));

        Assert.Empty(await client.ListMismatchesAsync("home-feed"));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public async Task ListMismatchesAsync_LimitBelowOne_ThrowsWithoutSending(int limit)
    {
        var (client, handler, _) = NewClient((_, _) => Answer(200, MismatchesJson([])));

        var ex = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.ListMismatchesAsync("home-feed", 5, limit));

        Assert.Equal("limit", ex.ParamName);
        Assert.Empty(handler.Requests);
    }

    [Fact]
    public async Task ListMismatchesAsync_LimitOverTheServersMaximum_ThrowsInvalidNamingLimit()
    {
        var (client, handler, _) = NewClient((_, _) => Task.FromResult(Answers.Problem(422, "Invalid request", "limit: '100001' is not a whole number from 1 to 100000", "limit")));

        var ex = await Assert.ThrowsAsync<FlywheelApiValidationException>(() => Bounded(client.ListMismatchesAsync("home-feed", limit: 100_001)));

        Assert.Equal((ValidationKind.Invalid, "limit", 422), (ex.Kind, ex.Field, ex.StatusCode));
        Assert.Equal("'100001' is not a whole number from 1 to 100000", ex.Problem);
        Assert.Single(handler.Requests);
    }

    public static TheoryData<string, int, string, ValidationKind> Refusals => new()
    {
        { "shadow", 404, "Not found", ValidationKind.NotFound },
        { "shadow", 409, "Conflict", ValidationKind.Conflict },
        { "shadow", 422, "Invalid request", ValidationKind.Invalid },
        { "retire", 404, "Not found", ValidationKind.NotFound },
        { "retire", 409, "Conflict", ValidationKind.Conflict },
        { "report", 404, "Not found", ValidationKind.NotFound },
        { "mismatches", 404, "Not found", ValidationKind.NotFound },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task Calls_Refused_MapToValidationKindWithField_NotRetried(string call, int status, string title, ValidationKind kind)
    {
        var (client, handler, _) = NewClient((_, _) => Task.FromResult(Answers.Problem(status, title, "version: model version 1 is the champion; it already serves", "version")));

        var ex = await Assert.ThrowsAsync<FlywheelApiValidationException>(() => Bounded(Call(client, call)));

        Assert.Equal((kind, "version", status), (ex.Kind, ex.Field, ex.StatusCode));
        Assert.Equal("model version 1 is the champion; it already serves", ex.Problem);
        Assert.Single(handler.Requests);
    }

    // Shadow and retire set a status, so a repeat after an attempt that did act changes nothing: unlike promote and
    // rollback, they retry every transient failure, including a 500 or a dropped answer.
    [Theory]
    [InlineData("shadow")]
    [InlineData("retire")]
    [InlineData("report")]
    [InlineData("mismatches")]
    public async Task Calls_AmbiguousFailures_AreRetried(string call)
    {
        var (client, handler, time) = NewClient((r, _) => r.Index switch
        {
            0 => Task.FromResult(Answers.Problem(500, "Internal error", "boom")),
            1 => throw new HttpRequestException(HttpRequestError.ResponseEnded, "the response ended prematurely"),
            _ => Answer(200, call switch
            {
                "report" => ReportJson(Report),
                "mismatches" => MismatchesJson(Mismatches),
                _ => ModelJson(Model),
            }),
        });

        await DriveAsync(Call(client, call), time, TimeSpan.FromMilliseconds(50));

        Assert.Equal(3, handler.Requests.Count);
        Assert.All(handler.Requests, r => Assert.Equal(handler.Requests[0].Uri, r.Uri));
        Assert.All(handler.Requests, r => Assert.Equal(handler.Requests[0].Body, r.Body));
    }

    [Fact]
    public async Task ShadowAsync_WaitsBehindATurnLongerThanTimeout()
    {
        FakeTimeProvider? clock = null;
        var (client, handler, time) = NewClient(async (_, ct) =>
        {
            await Task.Delay(TimeSpan.FromMinutes(2), clock!, ct);
            return Answers.Json(200, ModelJson(Model));
        });
        clock = time;

        var model = await DriveAsync(client.ShadowAsync("home-feed", 5), time, TimeSpan.FromSeconds(1));

        Assert.Equal(ModelStatus.Shadow, model.Status);
        Assert.Single(handler.Requests);
    }

    private static Task<object> Call(FlywheelClient client, string call) => call switch
    {
        "shadow" => Box(client.ShadowAsync("home-feed", 1)),
        "retire" => Box(client.RetireAsync("home-feed", 1, "done")),
        "report" => Box(client.GetShadowReportAsync("home-feed", 1)),
        "mismatches" => Box(client.ListMismatchesAsync("home-feed", 1)),
        _ => throw new ArgumentOutOfRangeException(nameof(call), call, null),
    };

    private static async Task<object> Box<T>(Task<T> task) where T : notnull => await task;
}

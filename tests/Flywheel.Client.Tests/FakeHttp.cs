using System.Net;
using System.Text;
using System.Text.Json;
using Flywheel.Core;
using Microsoft.Extensions.Time.Testing;

namespace Flywheel.Client.Tests;

/// <summary>One request as the fake handler saw it, with the fake time it arrived at.</summary>
internal sealed record RecordedRequest(int Index, HttpMethod Method, Uri Uri, string? Body, string? ContentType, DateTimeOffset Time)
{
    /// <summary>The Authorization header as sent, or null.</summary>
    public string? Authorization { get; init; }

    public JsonElement Json => JsonDocument.Parse(Body!).RootElement;

    public string[] SignalIds => Json.GetProperty("signals").EnumerateArray().Select(s => s.GetProperty("signalId").GetString()!).ToArray();
}

/// <summary>An HttpMessageHandler that records requests and answers with a test's function.</summary>
internal sealed class FakeHandler(Func<RecordedRequest, CancellationToken, Task<HttpResponseMessage>> respond, TimeProvider time) : HttpMessageHandler
{
    private readonly Lock _gate = new();
    private readonly List<RecordedRequest> _requests = [];
    private readonly List<(int Count, TaskCompletionSource Done)> _waiters = [];

    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (_gate)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>Completes once <paramref name="count"/> requests have arrived; fails after 10 s of real time.</summary>
    public Task WaitForRequestsAsync(int count)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (_requests.Count >= count)
            {
                return Task.CompletedTask;
            }
            _waiters.Add((count, done));
        }
        return done.Task.WaitAsync(HangGuard.Limit);
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
        RecordedRequest recorded;
        lock (_gate)
        {
            recorded = new RecordedRequest(_requests.Count, request.Method, request.RequestUri!, body, request.Content?.Headers.ContentType?.ToString(), time.GetUtcNow())
            {
                Authorization = request.Headers.Authorization?.ToString(),
            };
            _requests.Add(recorded);
            foreach (var w in _waiters.Where(w => _requests.Count >= w.Count).ToList())
            {
                w.Done.TrySetResult();
                _waiters.Remove(w);
            }
        }
        return await respond(recorded, cancellationToken);
    }
}

internal static class Answers
{
    public static HttpResponseMessage Json(int status, string json)
        => new((HttpStatusCode)status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    public static HttpResponseMessage Problem(int status, string title, string detail, string? field = null, int? retryAfterSeconds = null)
    {
        var json = FlywheelJson.ToString(w =>
        {
            w.WriteStartObject();
            w.WriteString("type", $"https://flywheel.dev/problems/{status}");
            w.WriteString("title", title);
            w.WriteNumber("status", status);
            w.WriteString("detail", detail);
            if (field is not null)
            {
                w.WriteString("field", field);
            }
            w.WriteEndObject();
        });
        var response = new HttpResponseMessage((HttpStatusCode)status) { Content = new StringContent(json, Encoding.UTF8, "application/problem+json") };
        if (retryAfterSeconds is { } s)
        {
            response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(s));
        }
        return response;
    }

    public static HttpResponseMessage Decision(string decisionId, string chosen = "v2") => Json(200, FlywheelJson.ToString(w => FlywheelJson.Write(w, new Decision
    {
        DecisionId = decisionId,
        Loop = "home-feed",
        ModelVersion = 3,
        ChosenActionId = chosen,
        Explored = false,
        Ranking = [new RankedAction(chosen, 0.975), new RankedAction(chosen == "v2" ? "v1" : "v2", 0.025)],
    })));

    /// <summary>A 202 acknowledging every signal of the request.</summary>
    public static HttpResponseMessage Accepted(RecordedRequest request)
        => Json(202, FlywheelJson.ToString(w => FlywheelJson.Write(w, new SignalBatchResult(request.SignalIds.Length, 0, 0, 0))));

    /// <summary>Answers decide requests with a decision echoing the request's id, and signal batches with a 202.</summary>
    public static Task<HttpResponseMessage> Ok(RecordedRequest request, CancellationToken cancellationToken)
        => Task.FromResult(request.Uri.AbsolutePath.EndsWith("/signals", StringComparison.Ordinal)
            ? Accepted(request)
            : Decision(request.Json.GetProperty("decisionId").GetString()!));
}

internal static class Setup
{
    public static readonly DateTimeOffset Start = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    public static (FlywheelClient Client, FakeHandler Handler, FakeTimeProvider Time) NewClient(
        Func<RecordedRequest, CancellationToken, Task<HttpResponseMessage>> respond, Action<FlywheelClientOptions>? configure = null)
    {
        var time = new FakeTimeProvider(Start);
        var handler = new FakeHandler(respond, time);
        var options = new FlywheelClientOptions
        {
            BaseAddress = new Uri("http://flywheel.test:5005"),
            TimeProvider = time,
            Randomizer = () => 0.5,
        };
        configure?.Invoke(options);
        return (new FlywheelClient(new HttpClient(handler), options), handler, time);
    }

    /// <summary>Advances fake time in steps until <paramref name="task"/> completes (bounded, so a bug fails rather than hangs).</summary>
    public static async Task<T> DriveAsync<T>(Task<T> task, FakeTimeProvider time, TimeSpan step)
    {
        await DriveAsync((Task)task, time, step);
        return await task;
    }

    public static async Task DriveAsync(Task task, FakeTimeProvider time, TimeSpan step)
    {
        for (var i = 0; i < 2_000 && !task.IsCompleted; i++)
        {
            time.Advance(step);
            await Task.WhenAny(task, Task.Delay(1));
        }
        await task.WaitAsync(HangGuard.Limit);
    }

    public static DecideRequest Request(string? decisionId = null) => new()
    {
        DecisionId = decisionId,
        UserId = "u-42",
        Context = new Features { ["user"] = { ["country"] = "fr" } },
        Actions = [new ActionCandidate("v1", new Features { ["item"] = { ["topic"] = "cooking" } }), new ActionCandidate("v2")],
    };

    public static SignalInput Signal(string type = "watch_complete", string? signalId = null) => new() { DecisionId = "d-1", Type = type, SignalId = signalId };
}

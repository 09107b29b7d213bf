using System.Net;
using System.Text;
using System.Text.Json;
using Flywheel.Core;
using Flywheel.Storage.Sqlite;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Flywheel.Server.Tests;

/// <summary>
/// Faults are loud (issue 15, point 6), met while the server runs on a real file system of its own: a disk that fills
/// up (a small tmpfs) and one the kernel turns read-only under the open store (an ext4 image after an error). Writes
/// answer 503 with <c>Retry-After</c> and the fault's problem type, never 500; reads go on; <c>/readyz</c> says why;
/// nothing acknowledged is lost; writes resume once the disk is fixed. Needs root to mount, as CI has.
/// </summary>
public sealed class FaultTests
{
    private const string Loop = "feed";
    private const string StoreFull = "https://flywheel.dev/problems/store-full";
    private const string StoreReadOnly = "https://flywheel.dev/problems/store-read-only";

    [Fact]
    public async Task DiskFull_WritesAnswer503StoreFull_AcknowledgedCallsSurvive_WritesResumeOnceSpaceIsFreed()
    {
        using var disk = TestMount.Tmpfs("8m");
        var data = Path.Combine(disk.Path, "data");
        var acknowledged = new List<string>();
        var refused = new List<string>();
        await using (var server = await ServerFixture.StartAsync(dataDirectory: data))
        {
            (await server.SendAsync(HttpMethod.Put, $"/v1/loops/{Loop}", ServerFixture.FeedLoop)).EnsureSuccessStatusCode();
            await AssertReadyAsync(server);
            // A filler file takes all but a little of the disk, so a few decisions fill the rest.
            var filler = disk.Fill(leaveFree: 192 * 1024);

            // One decision after another until the disk refuses one: each answer is an acknowledgement or the
            // store-full problem, never anything else.
            for (var i = 0; refused.Count == 0; i++)
            {
                Assert.True(i < 5_000, $"the disk never filled ({disk.AvailableBytes} bytes free)");
                var id = $"d-{i:D4}";
                (await DecideAsync(server, id, StoreFull) ? acknowledged : refused).Add(id);
            }
            Assert.NotEmpty(acknowledged);

            // Not ready while full, and says why (the probe's one page may fit, but not with so little room left);
            // alive all the same, and reads still work.
            using (var ready = await server.Http.GetAsync("/readyz"))
            {
                await AssertStoreProblemAsync(ready, StoreFull, "Store full");
                Assert.Equal(TimeSpan.FromSeconds(10), ready.Headers.RetryAfter?.Delta);
            }
            using (var live = await server.Http.GetAsync("/healthz"))
            {
                Assert.Equal(HttpStatusCode.OK, live.StatusCode);
            }
            using (var read = await server.Http.GetAsync($"/v1/loops/{Loop}/decisions/{acknowledged[0]}"))
            {
                Assert.Equal(HttpStatusCode.OK, read.StatusCode);
            }

            // Calls that arrive together share a group commit; a refused group answers each of its calls.
            var burst = await Task.WhenAll(Enumerable.Range(0, 16).Select(async j => ($"b-{j:D2}", await DecideAsync(server, $"b-{j:D2}", StoreFull))));
            foreach (var (id, stored) in burst)
            {
                (stored ? acknowledged : refused).Add(id);
            }
            using (var signal = await SignalAsync(server, acknowledged[0]))
            {
                await AssertAcceptedOrProblemAsync(signal, HttpStatusCode.Accepted, StoreFull);
            }

            // Space freed: ready again at once, and writes succeed without a restart.
            File.Delete(filler);
            await AssertReadyAsync(server);
            Assert.True(await DecideAsync(server, "after", StoreFull), "a decision after freeing space was refused");
            acknowledged.Add("after");
            using (var signal = await SignalAsync(server, "after"))
            {
                Assert.Equal(HttpStatusCode.Accepted, signal.StatusCode);
            }
        }

        // Restarted: every acknowledged decision is there, no refused one is.
        await using (var server = await ServerFixture.StartAsync(dataDirectory: data))
        {
            foreach (var id in acknowledged)
            {
                using var read = await server.Http.GetAsync($"/v1/loops/{Loop}/decisions/{id}");
                Assert.True(read.StatusCode == HttpStatusCode.OK, $"acknowledged decision {id} is missing after the restart ({(int)read.StatusCode})");
            }
            foreach (var id in refused)
            {
                using var read = await server.Http.GetAsync($"/v1/loops/{Loop}/decisions/{id}");
                Assert.True(read.StatusCode == HttpStatusCode.NotFound, $"refused decision {id} was stored ({(int)read.StatusCode})");
            }
        }
    }

    [Fact]
    public async Task DiskTurnsReadOnlyWhileRunning_WritesAnswer503ReadOnly_ReadsStillWork_AcknowledgedSurvive()
    {
        using var disk = TestMount.Ext4(megabytes: 32);
        var data = Path.Combine(disk.Path, "data");
        // A file system that fails drops what the OS had not yet written, as a power loss does: only power durability
        // (an fsync per group commit) promises that acknowledged events survive it.
        void Power(FlywheelServerOptions o) => o.Store = b => b.UseSqlite(data, SqliteDurability.Power);
        await using (var server = await ServerFixture.StartAsync(Power, data))
        {
            (await server.SendAsync(HttpMethod.Put, $"/v1/loops/{Loop}", ServerFixture.FeedLoop)).EnsureSuccessStatusCode();
            Assert.True(await DecideAsync(server, "d-1", StoreReadOnly));
            using (var signal = await SignalAsync(server, "d-1"))
            {
                Assert.Equal(HttpStatusCode.Accepted, signal.StatusCode);
            }

            // What the kernel does after a disk error (errors=remount-ro): the open files stay open, writes get EROFS.
            disk.FailExt4();

            Assert.False(await DecideAsync(server, "d-2", StoreReadOnly));
            using (var signal = await SignalAsync(server, "d-1", "s-2"))
            {
                await AssertStoreProblemAsync(signal, StoreReadOnly, "Store read-only");
                Assert.Equal(TimeSpan.FromSeconds(30), signal.Headers.RetryAfter?.Delta);
            }
            // Writes that are not ingest say the same.
            using (var put = await server.SendAsync(HttpMethod.Put, $"/v1/loops/{Loop}", ServerFixture.FeedLoop.Replace("\"thumbs_up\"", "\"thumbs_up_2\"", StringComparison.Ordinal)))
            {
                await AssertStoreProblemAsync(put, StoreReadOnly, "Store read-only");
            }
            using (var ready = await server.Http.GetAsync("/readyz"))
            {
                await AssertStoreProblemAsync(ready, StoreReadOnly, "Store read-only");
            }
            using (var live = await server.Http.GetAsync("/healthz"))
            {
                Assert.Equal(HttpStatusCode.OK, live.StatusCode);
            }
            using (var read = await server.Http.GetAsync($"/v1/loops/{Loop}/decisions/d-1"))
            {
                var audit = await read.Content.ReadAsStringAsync();
                Assert.True(read.StatusCode == HttpStatusCode.OK, audit);
                Assert.Contains("\"s-1\"", audit, StringComparison.Ordinal);
            }
            using (var loops = await server.Http.GetAsync("/v1/loops"))
            {
                Assert.Equal(HttpStatusCode.OK, loops.StatusCode);
            }
        }

        // The disk repaired (mounted again): the acknowledged decision and signal are there, the refused ones are not.
        disk.Unmount();
        disk.MountImage();
        await using (var server = await ServerFixture.StartAsync(Power, data))
        {
            await AssertReadyAsync(server);
            using (var read = await server.Http.GetAsync($"/v1/loops/{Loop}/decisions/d-1"))
            {
                var audit = await read.Content.ReadAsStringAsync();
                Assert.True(read.StatusCode == HttpStatusCode.OK, audit);
                Assert.Contains("\"s-1\"", audit, StringComparison.Ordinal);
                Assert.DoesNotContain("\"s-2\"", audit, StringComparison.Ordinal);
            }
            using (var read = await server.Http.GetAsync($"/v1/loops/{Loop}/decisions/d-2"))
            {
                Assert.Equal(HttpStatusCode.NotFound, read.StatusCode);
            }
        }
    }

    [Theory]
    [InlineData(StoreWriteFailure.DiskFull, StoreFull, "Store full", 10)]
    [InlineData(StoreWriteFailure.ReadOnly, StoreReadOnly, "Store read-only", 30)]
    [InlineData(StoreWriteFailure.IoError, "https://flywheel.dev/problems/store-io-error", "Store I/O error", 5)]
    public async Task StoreFault_EachReason_503WithItsTypeTitleAndRetryAfter(StoreWriteFailure reason, string type, string title, int retryAfter)
    {
        var context = new DefaultHttpContext();
        context.Request.Path = "/v1/loops/feed/decide";
        context.Response.Body = new MemoryStream();

        await ProblemDetailsWriter.WriteStoreFaultAsync(context, new FlywheelStoreWriteException(reason, "cannot write to the data directory '/srv/flywheel': …"));
        await context.Response.BodyWriter.FlushAsync();

        Assert.Equal(503, context.Response.StatusCode);
        Assert.Equal(retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture), context.Response.Headers.RetryAfter.ToString());
        Assert.Equal("application/problem+json", context.Response.ContentType);
        using var problem = JsonDocument.Parse(((MemoryStream)context.Response.Body).ToArray());
        Assert.Equal(type, problem.RootElement.GetProperty("type").GetString());
        Assert.Equal(title, problem.RootElement.GetProperty("title").GetString());
        Assert.Contains("nothing of this request was stored", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        // The operator's message (with the path) stays in the server's log.
        Assert.DoesNotContain("/srv/flywheel", problem.RootElement.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Readyz_WritableStore_ReadyWithoutAKey()
    {
        await using var server = await ServerFixture.StartAsync();

        await AssertReadyAsync(server);
    }

    private static async Task AssertReadyAsync(ServerFixture server)
    {
        using var ready = await server.Http.GetAsync("/readyz");
        var body = await ready.Content.ReadAsStringAsync();
        Assert.True(ready.StatusCode == HttpStatusCode.OK, body);
        Assert.Equal("""{"status":"ready"}""", body);
    }

    /// <summary>Decides <paramref name="id"/>: true when acknowledged (200), false when refused with the store's problem.</summary>
    private static async Task<bool> DecideAsync(ServerFixture server, string id, string problemType)
    {
        // Distinct context strings of a couple of kilobytes, so each decision takes its share of the disk.
        var features = string.Join(",", Enumerable.Range(0, 8).Select(f => $"\"f{f}\":\"{id}-{new string((char)('a' + f), 240)}\""));
        var body = $$"""
            { "decisionId": "{{id}}", "userId": "u-{{id}}", "context": { "blob": { {{features}} } },
              "actions": [ { "id": "a0" }, { "id": "a1" } ] }
            """;
        using var response = await server.SendAsync(HttpMethod.Post, $"/v1/loops/{Loop}/decide", body);
        return await AssertAcceptedOrProblemAsync(response, HttpStatusCode.OK, problemType);
    }

    private static Task<HttpResponseMessage> SignalAsync(ServerFixture server, string decisionId, string signalId = "s-1")
        => server.SendAsync(HttpMethod.Post, $"/v1/loops/{Loop}/signals",
            $$"""{ "signals": [ { "signalId": "{{signalId}}", "decisionId": "{{decisionId}}", "type": "watch_complete" } ] }""");

    private static async Task<bool> AssertAcceptedOrProblemAsync(HttpResponseMessage response, HttpStatusCode success, string problemType)
    {
        if (response.StatusCode == success)
        {
            return true;
        }
        await AssertStoreProblemAsync(response, problemType, null);
        return false;
    }

    private static async Task AssertStoreProblemAsync(HttpResponseMessage response, string type, string? title)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"expected 503 {type}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero, $"no Retry-After on {body}");
        using var problem = JsonDocument.Parse(Encoding.UTF8.GetBytes(body));
        Assert.Equal(type, problem.RootElement.GetProperty("type").GetString());
        Assert.Equal(503, problem.RootElement.GetProperty("status").GetInt32());
        if (title is not null)
        {
            Assert.Equal(title, problem.RootElement.GetProperty("title").GetString());
        }
        // Clients learn why, not where: the server's paths stay in its log.
        Assert.DoesNotContain("/tmp", body, StringComparison.Ordinal);
    }
}

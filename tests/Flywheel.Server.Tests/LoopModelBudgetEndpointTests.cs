using System.Net;
using System.Text.Json;

namespace Flywheel.Server.Tests;

public sealed class LoopModelBudgetEndpointTests
{
    [Fact]
    public async Task PutLoop_BitsAndBagsPastTheModelBudget_Is422NamingTheFieldsAndTheLimit()
    {
        await using var server = await ServerFixture.StartAsync();

        using var response = await server.SendAsync(HttpMethod.Put, "/v1/loops/home-feed", """
            { "signals": { "click": { "weight": 1 } },
              "exploration": { "algorithm": "bag", "bags": 64 },
              "learner": { "bits": 24 } }
            """);

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.UnprocessableEntity, text);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(text);
        Assert.Equal("learner.bits", problem.RootElement.GetProperty("field").GetString());
        var detail = problem.RootElement.GetProperty("detail").GetString()!;
        Assert.Contains("exploration.bags 64", detail, StringComparison.Ordinal);
        Assert.Contains("16 GiB", detail, StringComparison.Ordinal);
        Assert.Contains("at most 1 GiB per loop", detail, StringComparison.Ordinal);
        Assert.Contains("FlywheelLimits.MaxLoopModelBytes", detail, StringComparison.Ordinal);
        // Nothing was created.
        using var read = await server.SendAsync(HttpMethod.Get, "/v1/loops/home-feed", null);
        Assert.Equal(HttpStatusCode.NotFound, read.StatusCode);
    }
}

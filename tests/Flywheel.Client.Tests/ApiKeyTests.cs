using Flywheel.Core;
using Microsoft.Extensions.DependencyInjection;
using static Flywheel.Client.Tests.Setup;

namespace Flywheel.Client.Tests;

/// <summary>The API key option: sent as a bearer header on every call, and checked when the client is made.</summary>
public sealed class ApiKeyTests
{
    private static Task<HttpResponseMessage> Answer(int status, string json) => Task.FromResult(Answers.Json(status, json));

    private const string Key = "fwk_0123456789ab_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ";

    [Fact]
    public async Task ApiKey_IsSentAsABearerHeader_OnReadsAndWrites()
    {
        var (client, handler, _) = NewClient(
            (r, _) => r.Method == HttpMethod.Get ? Answer(200, """{"loops":[]}""") : Task.FromResult(Answers.Problem(409, "Conflict", "loop: busy", "loop")),
            o => o.ApiKey = Key);

        await client.ListLoopsAsync();
        await Assert.ThrowsAsync<FlywheelApiValidationException>(() => client.RunTurnAsync("home-feed"));

        Assert.Equal(2, handler.Requests.Count);
        Assert.All(handler.Requests, r => Assert.Equal("Bearer " + Key, r.Authorization));
    }

    [Fact]
    public async Task WithoutApiKey_NoAuthorizationHeaderIsSent()
    {
        var (client, handler, _) = NewClient((_, _) => Answer(200, """{"loops":[]}"""));

        await client.ListLoopsAsync();

        Assert.Null(Assert.Single(handler.Requests).Authorization);
    }

    [Theory]
    [InlineData("")]
    [InlineData("fwk_abc def")]
    [InlineData("fwk_abc\r\nX-Evil: 1")]
    public void ApiKey_WithSpacesOrLineBreaks_IsRefusedNamingTheOption(string key)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new FlywheelClientOptions { ApiKey = key }.Validate());

        Assert.Equal(nameof(FlywheelClientOptions.ApiKey), ex.ParamName);
    }

    [Fact]
    public void AddFlywheelClient_TakesTheApiKeyFromTheOptions()
    {
        var services = new ServiceCollection();
        services.AddFlywheelClient(o =>
        {
            o.BaseAddress = new Uri("http://flywheel.test:5005");
            o.ApiKey = Key;
        });
        using var provider = services.BuildServiceProvider();

        Assert.Equal(Key, provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<FlywheelClientOptions>>().Value.ApiKey);
        Assert.NotNull(provider.GetRequiredService<FlywheelClient>());
    }
}

using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Flywheel.Cli.Tests;

/// <summary>What the server says at start-up about API keys and Host names: one true line for each.</summary>
public sealed class ServeStartupLogTests : IDisposable
{
    private const string KeysOn = "API keys are on";
    private const string Open = "No API keys in the store: the API is open";
    private const string EveryInterface = "Listening on every interface";

    private readonly TempDirectory _dir = new("flywheel-startup-");

    public void Dispose() => _dir.Dispose();

    private async Task CreateKeyAsync() => Assert.Equal(0, (await Cli.RunAsync("keys", "create", "--data-dir", _dir.Path, "--scope", "admin")).Code);

    /// <summary>Starts a server over the folder and returns what it logged by the time it listens.</summary>
    private async Task<string> StartAsync(string urls, bool insecure = false)
    {
        var logs = new Capture();
        await using var server = await ServerFixture.StartAsync(o => { o.Urls = urls; o.Insecure = insecure; }, _dir.Path, b => b.Logging.AddProvider(logs));
        return string.Join('\n', logs.Lines);
    }

    [Fact]
    public async Task Loopback_WithAKey_SaysKeysAreOn_AndNotThatTheApiIsOpen()
    {
        await CreateKeyAsync();
        var log = await StartAsync("http://127.0.0.1:0");
        Assert.Contains(KeysOn, log, StringComparison.Ordinal);
        Assert.DoesNotContain(Open, log, StringComparison.Ordinal);
        Assert.DoesNotContain(EveryInterface, log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Loopback_WithoutKeys_SaysTheApiIsOpen()
    {
        var log = await StartAsync("http://127.0.0.1:0");
        Assert.Contains(Open, log, StringComparison.Ordinal);
        Assert.DoesNotContain(KeysOn, log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryInterface_WithAKey_NamesTheAllowedHosts_AndNotThatTheApiIsOpen()
    {
        await CreateKeyAsync();
        var log = await StartAsync("http://0.0.0.0:0");
        Assert.Contains(KeysOn, log, StringComparison.Ordinal);
        Assert.Contains(EveryInterface, log, StringComparison.Ordinal);
        Assert.DoesNotContain(Open, log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryInterface_Insecure_SaysBoth()
    {
        var log = await StartAsync("http://0.0.0.0:0", insecure: true);
        Assert.Contains(EveryInterface, log, StringComparison.Ordinal);
        Assert.Contains(Open, log, StringComparison.Ordinal);
    }

    private sealed class Capture : ILoggerProvider, ILogger
    {
        public ConcurrentQueue<string> Lines { get; } = new();

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => Lines.Enqueue($"{logLevel}: {formatter(state, exception)}");

        public void Dispose()
        {
        }
    }
}

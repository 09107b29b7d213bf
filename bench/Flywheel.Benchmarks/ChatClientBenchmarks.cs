using BenchmarkDotNet.Attributes;
using Flywheel.AI;
using Flywheel.Client;
using Flywheel.Core;
using Flywheel.Engine;
using Flywheel.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace Flywheel.Benchmarks;

/// <summary>
/// The chat-client middleware's cost per call: a fake model that answers at once, bare and wrapped by
/// <c>UseFlywheel</c>, against the in-process engine (SQLite, WAL) and against a server on loopback HTTP. The wrapped
/// calls include the decision and queuing the output; the output's own write happens in the background, and its cost
/// shows in the figures only as load.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 10)]
public class ChatClientBenchmarks
{
    private const string Loop = "summarize";

    private static readonly List<ChatMessage> Messages =
    [
        new(ChatRole.User, "The council met on Tuesday to discuss the new tram line. Costs rose by a fifth since spring. A vote is due in March."),
    ];

    private readonly InstantModel _model = new();
    private string? _engineDirectory;
    private string? _serverDirectory;
    private FlywheelEngine? _engine;
    private WebApplication? _server;
    private HttpClient? _http;
    private IChatClient _inProcess = null!;
    private IChatClient _overHttp = null!;

    [GlobalSetup(Target = nameof(UseFlywheel_InProcess))]
    public async Task SetupInProcess()
    {
        _engineDirectory = Workload.TempDirectory("chat");
        _engine = await FlywheelEngine.OpenAsync(new FlywheelOptions().UseSqlite(_engineDirectory), TimeProvider.System);
        await _engine.PutLoopAsync(Config());
        _inProcess = new ChatClientBuilder(_model).UseFlywheel(Loop, o =>
        {
            Variants(o);
            o.Engine = _engine;
        }).Build();
    }

    [GlobalCleanup(Target = nameof(UseFlywheel_InProcess))]
    public async Task CleanupInProcess()
    {
        await ((FlywheelChatClient)_inProcess).FlushAsync();
        _inProcess.Dispose();
        await _engine!.DisposeAsync();
        Workload.DeleteDirectory(_engineDirectory);
    }

    [GlobalSetup(Target = nameof(UseFlywheel_Http))]
    public async Task SetupHttp()
    {
        _serverDirectory = Workload.TempDirectory("chat-http");
        _server = FlywheelServerApp.Build(new FlywheelServerOptions { DataDirectory = _serverDirectory, Urls = "http://127.0.0.1:0" });
        await _server.StartAsync();
        _http = new HttpClient();
        var client = new FlywheelClient(_http, new FlywheelClientOptions { BaseAddress = new Uri(FlywheelServerApp.Addresses(_server)[0]) });
        await client.PutLoopAsync(Config());
        _overHttp = new ChatClientBuilder(_model).UseFlywheel(Loop, o =>
        {
            Variants(o);
            o.Client = client;
        }).Build();
    }

    [GlobalCleanup(Target = nameof(UseFlywheel_Http))]
    public async Task CleanupHttp()
    {
        await ((FlywheelChatClient)_overHttp).FlushAsync();
        _overHttp.Dispose();
        _http!.Dispose();
        await _server!.StopAsync();
        await _server.DisposeAsync();
        Workload.DeleteDirectory(_serverDirectory);
    }

    /// <summary>The fake model alone.</summary>
    [Benchmark(Baseline = true)]
    public Task<ChatResponse> Bare() => _model.GetResponseAsync(Messages);

    /// <summary>Wrapped: decide in the in-process engine, apply the variant, tag the response, queue the output.</summary>
    [Benchmark]
    public Task<ChatResponse> UseFlywheel_InProcess() => _inProcess.GetResponseAsync(Messages);

    /// <summary>Wrapped: decide over loopback HTTP, apply, tag, queue the output in the client's batcher.</summary>
    [Benchmark]
    public Task<ChatResponse> UseFlywheel_Http() => _overHttp.GetResponseAsync(Messages);

    private static LoopConfig Config() => LoopConfigJson.Parse("""
        { "id": "summarize", "kind": "choose", "generation": { "storeText": true },
          "signals": { "kept": {"kind":"implicit","weight":1,"closesWindow":true},
                       "edited": {"kind":"explicit","weight":-1,"closesWindow":true} } }
        """);

    private static void Variants(FlywheelChatOptions options)
    {
        options.Variants.Add(new ChatVariant { Id = "one-line", SystemPrompt = "Summarise in one sentence.", ModelId = "m-a", Temperature = 0.2f });
        options.Variants.Add(new ChatVariant { Id = "bullets", SystemPrompt = "Summarise as three bullets.", ModelId = "m-b", Temperature = 0.7f });
        options.Variants.Add(new ChatVariant { Id = "plain", ModelId = "m-a", MaxOutputTokens = 120 });
    }

    /// <summary>A model that answers at once with a fixed summary: what is left is the middleware's cost.</summary>
    private sealed class InstantModel : IChatClient
    {
        private static readonly ChatMessage Answer = new(ChatRole.Assistant, "The council discussed the tram line; costs rose; a vote is due in March.");

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
            => Task.FromResult(new ChatResponse(Answer));

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
            => throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}

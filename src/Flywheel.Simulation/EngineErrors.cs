using Microsoft.Extensions.Logging;

namespace Flywheel.Simulation;

/// <summary>
/// Keeps the first error the engine logs (a failed turn, commit or snapshot), so that a run whose engine failed stops
/// with that error instead of quietly reporting, say, no turns.
/// </summary>
internal sealed class EngineErrors : ILoggerFactory
{
    private string? _first;

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    /// <summary>Throws <see cref="InvalidOperationException"/> with the first logged error, if any.</summary>
    public void ThrowIfAny(string product)
    {
        if (Volatile.Read(ref _first) is { } error)
        {
            throw new InvalidOperationException($"product {product}: the engine logged an error: {error}");
        }
    }

    private sealed class Logger(EngineErrors owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                var text = formatter(state, exception) + (exception is null ? "" : $" ({exception.GetType().Name}: {exception.Message})");
                Interlocked.CompareExchange(ref owner._first, text, null);
            }
        }
    }
}

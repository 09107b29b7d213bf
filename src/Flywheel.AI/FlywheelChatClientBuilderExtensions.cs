using Flywheel.AI;
using Flywheel.Client;
using Flywheel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.AI;

/// <summary>Adds a <see cref="FlywheelChatClient"/> to a chat pipeline.</summary>
public static class FlywheelChatClientBuilderExtensions
{
    /// <summary>
    /// Makes every call through the pipeline a decision of <paramref name="loop"/> (a generation loop): see
    /// <see cref="FlywheelChatClient"/>. The engine is <see cref="FlywheelChatOptions.Engine"/>, else the services'
    /// <see cref="IFlywheelEngine"/>; failing both, the client is <see cref="FlywheelChatOptions.Client"/>, else the
    /// services' <see cref="FlywheelClient"/>.
    /// </summary>
    /// <param name="builder">The pipeline.</param>
    /// <param name="loop">The loop's id.</param>
    /// <param name="configure">Declares the variants and settings.</param>
    /// <returns><paramref name="builder"/>.</returns>
    /// <exception cref="InvalidOperationException">When the pipeline is built: neither an engine nor a client is to be had.</exception>
    public static ChatClientBuilder UseFlywheel(this ChatClientBuilder builder, string loop, Action<FlywheelChatOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(loop);
        return builder.Use((inner, services) =>
        {
            var options = new FlywheelChatOptions();
            configure?.Invoke(options);
            var logger = services.GetService<ILoggerFactory>()?.CreateLogger<FlywheelChatClient>();
            var engine = options.Engine ?? (options.Client is null ? services.GetService<IFlywheelEngine>() : null);
            if (engine is not null)
            {
                return new FlywheelChatClient(inner, loop, engine, options, logger);
            }
            var client = options.Client ?? services.GetService<FlywheelClient>()
                ?? throw new InvalidOperationException("UseFlywheel needs an IFlywheelEngine or a FlywheelClient: set FlywheelChatOptions.Engine or .Client, or register one (AddFlywheelClient).");
            options.Batcher ??= services.GetKeyedService<FlywheelSignalBatcher>(loop);
            return new FlywheelChatClient(inner, loop, client, options, logger);
        });
    }
}

using Microsoft.Extensions.Logging;

namespace Flywheel.Engine;

/// <summary>What turns, promotions and rollbacks log.</summary>
internal static partial class TurnLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Loop {Loop}: turn {Turn} promoted v{Version}: {Reason}")]
    public static partial void LogPromoted(this ILogger logger, string loop, long turn, int version, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Loop {Loop}: v{From} rolled back to v{To}: {Reason}")]
    public static partial void LogRolledBack(this ILogger logger, string loop, int from, int to, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Loop {Loop}: the scheduled turn failed; the next check retries.")]
    public static partial void LogTurnFailed(this ILogger logger, Exception exception, string loop);
}

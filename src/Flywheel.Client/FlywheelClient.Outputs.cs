using Flywheel.Core;

namespace Flywheel.Client;

public sealed partial class FlywheelClient
{
    /// <summary>
    /// Stores what a decision of a generation loop produced (<c>PUT /v1/loops/{loop}/decisions/{decisionId}/output</c>):
    /// the text shown to the user and the prompt as the model received it. Send it before any edit of that output, so
    /// the server can measure the edit against it.
    /// </summary>
    /// <param name="loop">The loop's id (a loop with a <c>generation</c> section).</param>
    /// <param name="decisionId">The decision that chose the variant.</param>
    /// <param name="output">The text, the prompt, and the decision it replaced when the user regenerated.</param>
    /// <param name="cancellationToken">Cancels the call, retries included.</param>
    /// <returns>The decision id, and whether the server already had this output (a retry).</returns>
    /// <exception cref="FlywheelValidationException">
    /// The server refused it: an unknown decision (<see cref="ValidationKind.NotFound"/>), another output already stored
    /// for it (<see cref="ValidationKind.Conflict"/>), a text over the loop's limit (<see cref="ValidationKind.TooLarge"/>),
    /// a loop that stores no text or is no generation loop (<see cref="ValidationKind.NotSupported"/>).
    /// </exception>
    public async Task<OutputResult> RecordOutputAsync(string loop, string decisionId, OutputInput output, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(loop);
        ArgumentException.ThrowIfNullOrEmpty(decisionId);
        ArgumentNullException.ThrowIfNull(output);
        var body = FlywheelJson.ToUtf8(output);
        var response = await SendAsync(HttpMethod.Put, $"{LoopPath(loop)}/decisions/{Uri.EscapeDataString(decisionId)}/output", body, allowNotFound: false, cancellationToken).ConfigureAwait(false);
        return Read<OutputResult>(response);
    }
}

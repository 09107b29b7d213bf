using System.Text.Encodings.Web;
using System.Text.Json;

namespace Flywheel.Server;

internal static class JsonOptions
{
    /// <summary>Answers are JSON, never embedded in HTML, so quotes and apostrophes in messages stay readable.</summary>
    public static readonly JsonWriterOptions Writer = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}

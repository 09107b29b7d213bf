using Xunit;

namespace Flywheel.TestUtils;

/// <summary>
/// A fact that needs a Chromium executable: <c>FLYWHEEL_CHROMIUM</c> if set, else <c>/usr/bin/chromium</c>. Without one
/// the test is skipped with a message saying how to provide it — except when <c>CI=true</c>, where it runs and fails.
/// </summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    /// <summary>Where Debian's <c>chromium</c> package puts the browser.</summary>
    public const string DefaultPath = "/usr/bin/chromium";

    /// <summary>The environment variable that names another Chromium executable.</summary>
    public const string Variable = "FLYWHEEL_CHROMIUM";

    public ChromiumFactAttribute()
    {
        if (!File.Exists(ExecutablePath) && !IsCi)
        {
            Skip = $"Chromium not found at {ExecutablePath}: install it (apt-get install chromium) or set {Variable}=/path/to/chromium.";
        }
    }

    /// <summary>The Chromium executable the tests launch (it may not exist).</summary>
    public static string ExecutablePath
        => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } path ? path : DefaultPath;

    /// <summary>True on CI (<c>CI=true</c>), where a missing Chromium is a failure rather than a skip.</summary>
    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
}

using System.Diagnostics;
using System.Text;
using Xunit;

namespace Flywheel.TestUtils;

/// <summary>
/// A fact that needs Node.js and npm on the PATH. Without them it is skipped with a message saying how to install
/// them, except when <c>CI=true</c>, where it runs and fails.
/// </summary>
public sealed class NodeFactAttribute : FactAttribute
{
    public NodeFactAttribute()
    {
        if (NodePackage.Missing() is { } missing && !IsCi)
        {
            Skip = $"{missing} not found on the PATH: install Node.js 20.19 or later with npm (apt-get install nodejs npm).";
        }
    }

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// A folder of the repository with npm packages pinned in its package-lock.json (tools written elsewhere that the
/// tests run): installed with <c>npm ci</c> once per test run, its programs run there with a bound on a hung process.
/// </summary>
/// <param name="folder">The folder, holding package.json and package-lock.json.</param>
/// <param name="minimumNode">The oldest Node.js its packages run on.</param>
public sealed class NodePackage(string folder, Version minimumNode)
{
    // npm and node are slow to start on a loaded machine; these bound a hung process, they time nothing.
    private static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(15);
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(10);

    private readonly SemaphoreSlim _installLock = new(1, 1);
    private bool _installed;

    /// <summary>The package's folder.</summary>
    public string Folder { get; } = folder;

    /// <summary>"node" or "npm" when that executable is not on the PATH, else null.</summary>
    public static string? Missing()
        => new[] { "node", "npm" }.FirstOrDefault(name => !(Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, name))));

    /// <summary>An installed tool's executable in node_modules/.bin.</summary>
    public string Bin(string tool) => Path.Combine(Folder, "node_modules", ".bin", tool);

    /// <summary>Runs <c>npm ci</c> unless node_modules already matches package-lock.json.</summary>
    public async Task EnsureInstalledAsync()
    {
        if (Missing() is { } missing)
        {
            Assert.Fail($"{missing} not found on the PATH, and CI=true: install Node.js {minimumNode} or later with npm (apt-get install nodejs npm); .ci/run does.");
        }
        await _installLock.WaitAsync();
        try
        {
            if (_installed)
            {
                return;
            }
            var version = await RunAsync("node", ["--version"]);
            Assert.True(Version.TryParse(version.Output.Trim().TrimStart('v'), out var node) && node >= minimumNode,
                $"node {version.Output.Trim()} is too old: {Path.GetFileName(Folder)} needs Node.js {minimumNode} or later.");
            // npm writes this copy of the lock file after an install; older than the lock file means stale.
            var installedLock = new FileInfo(Path.Combine(Folder, "node_modules", ".package-lock.json"));
            var lockFile = new FileInfo(Path.Combine(Folder, "package-lock.json"));
            if (!installedLock.Exists || installedLock.LastWriteTimeUtc < lockFile.LastWriteTimeUtc)
            {
                var install = await RunAsync("npm", ["ci", "--no-audit", "--no-fund"], InstallTimeout);
                Assert.True(install.ExitCode == 0, $"npm ci in {Path.GetFileName(Folder)} failed (exit {install.ExitCode}):\n{install.Output}");
            }
            _installed = true;
        }
        finally
        {
            _installLock.Release();
        }
    }

    /// <summary>Runs a program in the package's folder; returns its exit code and its stdout and stderr interleaved.</summary>
    public async Task<(int ExitCode, string Output)> RunAsync(string program, IReadOnlyList<string> args, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(program, args)
        {
            WorkingDirectory = Folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["NO_COLOR"] = "1";
        start.Environment["FORCE_COLOR"] = "0";
        start.Environment["REDOCLY_TELEMETRY"] = "off";
        start.Environment["REDOCLY_SUPPRESS_UPDATE_NOTICE"] = "true";
        start.Environment["npm_config_update_notifier"] = "false";
        var text = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(text, e.Data);
        process.ErrorDataReceived += (_, e) => Append(text, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cancel = new CancellationTokenSource(timeout ?? RunTimeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{Path.GetFileName(program)} {string.Join(' ', args)} did not finish within {(timeout ?? RunTimeout).TotalMinutes} minutes:\n{Snapshot(text)}");
        }
        // The parameterless wait also drains the redirected streams.
        process.WaitForExit();
        return (process.ExitCode, Snapshot(text));
    }

    private static void Append(StringBuilder text, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (text)
        {
            text.AppendLine(line);
        }
    }

    private static string Snapshot(StringBuilder text)
    {
        lock (text)
        {
            return text.ToString();
        }
    }
}

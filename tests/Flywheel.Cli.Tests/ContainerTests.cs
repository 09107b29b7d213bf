using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Flywheel.Cli.Commands;
using Xunit.Abstractions;

namespace Flywheel.Cli.Tests;

/// <summary>
/// The Dockerfile and compose.yaml against the code, and the image's publish step and command lines run outside a
/// container: this machine has no container engine that can pull the base images (docs/install.md#what-was-checked).
/// </summary>
[Collection(ReleaseBuildCollection.Name)]
public sealed class ContainerTests(ReleaseBuild build, ITestOutputHelper output)
{
    /// <summary>The Dockerfile's publish step, which <see cref="PublishedAsTheImage_RefusesWithoutAKey_ThenServesAndPassesItsHealthCheck"/> runs.</summary>
    private const string Publish = "dotnet publish src/Flywheel.Cli -c Release ${TARGETARCH:+-a $TARGETARCH} --no-self-contained --disable-build-servers -o /app";

    private const string HealthCheck = """["dotnet", "/app/flywheel.dll", "probe"]""";

    private static int Port => new Uri(ServerCommand.DefaultServer).Port;

    /// <summary>The Dockerfile's instructions, continuation lines joined, comments and blank lines left out.</summary>
    private static List<string> Instructions()
    {
        var text = File.ReadAllText(Repository.Path("Dockerfile")).Replace("\\\n", " ", StringComparison.Ordinal);
        return [.. text.Split('\n').Select(l => Regex.Replace(l.Trim(), @"\s+", " ")).Where(l => l.Length > 0 && !l.StartsWith('#'))];
    }

    [Fact]
    public void Dockerfile_BuildsWithTheSdkAndRunsOnTheRuntime_OfTheTargetFramework()
    {
        var framework = Regex.Match(File.ReadAllText(Repository.Path("Directory.Build.props")), @"<TargetFramework>net(\d+\.\d+)</TargetFramework>").Groups[1].Value;
        var froms = Instructions().Where(l => l.StartsWith("FROM ", StringComparison.Ordinal)).ToList();
        Assert.Equal([$"FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:{framework} AS build", $"FROM mcr.microsoft.com/dotnet/aspnet:{framework}"], froms);
        Assert.Contains(Publish, Instructions().Single(l => l.Contains("dotnet publish", StringComparison.Ordinal)), StringComparison.Ordinal);
        // The project it publishes is the command line, whose assembly the entry point runs.
        Assert.Contains("<AssemblyName>flywheel</AssemblyName>", File.ReadAllText(Repository.Path("src", "Flywheel.Cli", "Flywheel.Cli.csproj")), StringComparison.Ordinal);
    }

    [Fact]
    public void Dockerfile_RunsServeAsANonRootUser_OnTheDefaultPort_WithItsDataOnAVolume()
    {
        var lines = Instructions();
        var final = lines.SkipWhile(l => !l.StartsWith("FROM mcr.microsoft.com/dotnet/aspnet", StringComparison.Ordinal)).ToList();
        Assert.Equal(["USER $APP_UID"], final.Where(l => l.StartsWith("USER ", StringComparison.Ordinal)));
        Assert.Contains("RUN mkdir /data && chown \"$APP_UID\" /data", final);
        Assert.Contains("VOLUME /data", final);
        var env = final.Where(l => l.StartsWith("ENV ", StringComparison.Ordinal))
            .SelectMany(l => l[4..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(pair => pair.Split('=', 2))
            .ToDictionary(p => p[0], p => p[1]);
        Assert.Equal("/data", env["FLYWHEEL_DATA_DIR"]);
        Assert.Equal($"http://0.0.0.0:{Port}", env["FLYWHEEL_URLS"]);
        Assert.Equal("", env["ASPNETCORE_HTTP_PORTS"]); // the base image's 8080 would only add a warning
        Assert.Contains($"EXPOSE {Port}", final);
        Assert.Equal(["ENTRYPOINT [\"dotnet\", \"/app/flywheel.dll\"]"], final.Where(l => l.StartsWith("ENTRYPOINT ", StringComparison.Ordinal)));
        Assert.Equal(["CMD [\"serve\"]"], final.Where(l => l.StartsWith("CMD ", StringComparison.Ordinal)));
    }

    [Fact]
    public void Dockerfile_HealthCheck_IsTheProbeVerb_OnHealthz()
    {
        var check = Assert.Single(Instructions(), l => l.StartsWith("HEALTHCHECK ", StringComparison.Ordinal));
        Assert.EndsWith($"CMD {HealthCheck}", check, StringComparison.Ordinal);
        // `probe` with no option asks the default server's /healthz: the port the image listens on.
        var root = FlywheelCli.BuildRootCommand(new CliContext(TextWriter.Null, TextWriter.Null, false, TimeProvider.System));
        Assert.Empty(root.Parse(["probe"]).Errors);
        Assert.True(new Uri(ServerCommand.DefaultServer).IsLoopback, ServerCommand.DefaultServer);
    }

    [Fact]
    public void DockerIgnore_LetsInEverythingTheBuildReads()
    {
        var allowed = File.ReadAllLines(Repository.Path(".dockerignore")).Where(l => l.StartsWith('!')).Select(l => l[1..].TrimEnd('/')).ToHashSet(StringComparer.Ordinal);
        Assert.Equal("*", File.ReadAllLines(Repository.Path(".dockerignore")).First(l => l.Length > 0 && !l.StartsWith('#')));
        Assert.Superset(new HashSet<string>(["Directory.Build.props", "Directory.Packages.props", "global.json", ".editorconfig", "eng", "src"], StringComparer.Ordinal), allowed);
        // The props name files under eng/ only; the shipped projects reference only each other.
        foreach (Match m in Regex.Matches(File.ReadAllText(Repository.Path("Directory.Build.props")), @"\$\(MSBuildThisFileDirectory\)([^""<;]+)"))
        {
            Assert.StartsWith("eng/", m.Groups[1].Value, StringComparison.Ordinal);
        }
        var cli = File.ReadAllText(Repository.Path("src", "Flywheel.Cli", "Flywheel.Cli.csproj"));
        foreach (var project in Directory.GetFiles(Repository.Path("src"), "*.csproj", SearchOption.AllDirectories))
        {
            foreach (Match m in Regex.Matches(File.ReadAllText(project), @"ProjectReference Include=""([^""]+)"""))
            {
                Assert.Matches(@"^\.\./Flywheel\.[A-Za-z.]+/Flywheel\.[A-Za-z.]+\.csproj$", m.Groups[1].Value);
            }
        }
        Assert.Contains("<None Include=\"README.md\"", cli, StringComparison.Ordinal);
    }

    [Fact]
    public void Compose_RunsTheImageAsTheDockerfileDescribesIt()
    {
        var compose = File.ReadAllText(Repository.Path("compose.yaml"));
        Assert.Contains("    build: .\n", compose, StringComparison.Ordinal);
        Assert.Contains($"      - \"127.0.0.1:{Port}:{Port}\"\n", compose, StringComparison.Ordinal);
        Assert.Contains("      - flywheel-data:/data\n", compose, StringComparison.Ordinal);
        Assert.Contains($"      test: [\"CMD\", {HealthCheck[1..]}\n", compose, StringComparison.Ordinal);
        Assert.Contains("\nvolumes:\n  flywheel-data:\n", compose, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PublishedAsTheImage_RefusesWithoutAKey_ThenServesAndPassesItsHealthCheck()
    {
        // The Dockerfile's publish step with the architecture BuildKit passes as TARGETARCH, into a folder for /app.
        var arch = RuntimeInformation.OSArchitecture switch { Architecture.X64 => "amd64", var other => other.ToString().ToLowerInvariant() };
        var app = build.NewFolder("app");
        var published = await build.DotnetAsync("publish", Repository.Path("src", "Flywheel.Cli"), "-c", "Release", "-a", arch, "--no-self-contained", "--disable-build-servers", "-o", app);
        Assert.True(published.ExitCode == 0, published.Out + published.Error);
        Assert.Single(Directory.GetFiles(app, "*", SearchOption.AllDirectories), f => ToolPackageTests.SqliteLibrary().IsMatch(Path.GetFileName(f))); // this architecture's only
        Assert.False(Directory.Exists(Path.Combine(app, "runtimes")));

        // The image's environment, with the data folder and a free port for /data and 5005, and none of this machine's settings.
        var port = ServerProcess.FreePort();
        var data = build.NewFolder("data");
        var environment = new Dictionary<string, string?>
        {
            ["FLYWHEEL_DATA_DIR"] = data,
            ["FLYWHEEL_URLS"] = $"http://0.0.0.0:{port}",
            ["ASPNETCORE_HTTP_PORTS"] = "",
            ["ASPNETCORE_URLS"] = null,
            ["FLYWHEEL_INSECURE"] = null,
            ["FLYWHEEL_API_KEY"] = null,
            ["FLYWHEEL_ALLOWED_HOSTS"] = null,
            ["FLYWHEEL_SETTINGS"] = null,
            ["FLYWHEEL_SERVER"] = null,
        };
        var flywheel = Path.Combine(app, "flywheel.dll");
        Task<(int ExitCode, string Out, string Error)> Run(params string[] args) => ChildProcess.RunAsync("dotnet", [flywheel, .. args], environment, ChildProcess.HangGuard);

        // CMD ["serve"] on an empty volume: refused, since every interface of the container is not loopback.
        var refused = await Run("serve");
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains($"refusing to listen on http://0.0.0.0:{port} without API keys", refused.Error, StringComparison.Ordinal);

        // docs/install.md: a key first, then serve.
        var created = await Run("keys", "create", "--scope", "admin");
        Assert.True(created.ExitCode == 0, created.Error);
        var key = Cli.Lines(created.Out)[^1].Split(' ')[^1];

        var start = new ProcessStartInfo("dotnet", [flywheel, "serve"]);
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        string log;
        using (var server = await ServerProcess.StartAsync(start, new Uri($"http://127.0.0.1:{port}")))
        {
            using var http = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(30) };

            // The HEALTHCHECK's command line; in the image it asks 127.0.0.1:5005, the default server, here that port.
            environment["FLYWHEEL_SERVER"] = $"http://127.0.0.1:{port}";
            var probe = await Run("probe");
            Assert.True(probe.ExitCode == 0, probe.Error);
            Assert.Equal($"http://127.0.0.1:{port}/healthz 200 {{\"status\":\"ok\"}}", probe.Out.Trim());

            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/v1/loops")).StatusCode);
            using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/loops") { Headers = { { "Authorization", $"Bearer {key}" } } };
            Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(request)).StatusCode);
            log = server.Log;
        }
        output.WriteLine(log);
        Assert.DoesNotContain("Overriding HTTP_PORTS", log, StringComparison.Ordinal);
    }
}

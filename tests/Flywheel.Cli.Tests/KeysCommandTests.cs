namespace Flywheel.Cli.Tests;

/// <summary><c>flywheel keys create|list|revoke</c>, <c>--key</c> on the verbs that call a server, and serve's refusal to listen openly.</summary>
public sealed class KeysCommandTests : IAsyncLifetime
{
    private readonly TempDirectory _folder = new("flywheel-cli-keys-");
    private ServerFixture _server = null!;

    public async Task InitializeAsync()
    {
        _server = await ServerFixture.StartAsync();
        (await _server.SendAsync(HttpMethod.Put, "/v1/loops/shop", ServerFixture.FeedLoop)).EnsureSuccessStatusCode();
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _folder.Dispose();
    }

    private static Task<(int Code, string Out, string Error)> RunAsync(params string[] args) => Cli.RunAsync(args);

    private async Task<string> CreateKeyAsync(string scope, string? loop = null)
    {
        string[] args = loop is null
            ? ["keys", "create", "--data-dir", _server.DataDirectory, "--scope", scope]
            : ["keys", "create", "--data-dir", _server.DataDirectory, "--scope", scope, "--loop", loop];
        var (code, stdout, stderr) = await RunAsync(args);
        Assert.True(code == 0, stderr);
        return Cli.Lines(stdout)[^1].Split(' ')[^1].Trim();
    }

    [Fact]
    public async Task Create_PrintsTheKeyLast_ListNeverShowsIt_RevokeMarksIt()
    {
        var (code, stdout, stderr) = await RunAsync("keys", "create", "--data-dir", _server.DataDirectory, "--scope", "decide,ingest", "--loop", "shop");
        Assert.True(code == 0, stderr);
        var key = Cli.Lines(stdout)[^1].Split(' ')[^1].Trim();
        Assert.StartsWith("fwk_", key, StringComparison.Ordinal);
        Assert.Equal(60, key.Length);
        var id = key[4..16];
        Assert.Contains(id, stdout, StringComparison.Ordinal);

        var list = await RunAsync("keys", "list", "--data-dir", _server.DataDirectory);
        Assert.Equal(0, list.Code);
        var row = Assert.Single(Cli.Lines(list.Out), l => l.StartsWith(id, StringComparison.Ordinal));
        Assert.Contains("decide,ingest", row, StringComparison.Ordinal);
        Assert.Contains("shop", row, StringComparison.Ordinal);
        Assert.Contains("…" + key[^4..], row, StringComparison.Ordinal);
        Assert.DoesNotContain(key[16..], list.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("revoked 2", row, StringComparison.Ordinal);

        var revoke = await RunAsync("keys", "revoke", "--data-dir", _server.DataDirectory, id);
        Assert.True(revoke.Code == 0, revoke.Error);
        var after = await RunAsync("keys", "list", "--data-dir", _server.DataDirectory);
        Assert.Contains("revoked 2", Assert.Single(Cli.Lines(after.Out), l => l.StartsWith(id, StringComparison.Ordinal)), StringComparison.Ordinal);

        var again = await RunAsync("keys", "revoke", "--data-dir", _server.DataDirectory, id);
        Assert.Equal(2, again.Code);
        Assert.Contains("already revoked", again.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeyFlag_OpensTheServer_RevokeStopsIt_AndAMissingKeyIsOneLine()
    {
        var key = await CreateKeyAsync("read");

        var withKey = await RunAsync("loops", "list", "--server", _server.Url, "--key", key);
        Assert.True(withKey.Code == 0, withKey.Error);
        Assert.Contains("shop", withKey.Out, StringComparison.Ordinal);

        var without = await RunAsync("loops", "list", "--server", _server.Url);
        Assert.Equal(2, without.Code);
        Assert.Single(Cli.Lines(without.Error));
        Assert.Contains("refused the key", without.Error, StringComparison.Ordinal);

        var id = key[4..16];
        Assert.Equal(0, (await RunAsync("keys", "revoke", "--data-dir", _server.DataDirectory, id)).Code);
        var revoked = await RunAsync("loops", "list", "--server", _server.Url, "--key", key);
        Assert.Equal(2, revoked.Code);
        Assert.Contains("not valid", revoked.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnderScopedKey_IsRefusedNamingTheScope_AdminRunsATurn()
    {
        var read = await CreateKeyAsync("read");
        var admin = await CreateKeyAsync("admin", loop: "shop");

        var refused = await RunAsync("turns", "shop", "--run", "--server", _server.Url, "--key", read);
        Assert.Equal(2, refused.Code);
        Assert.Contains("scope admin", refused.Error, StringComparison.Ordinal);

        var run = await RunAsync("turns", "shop", "--run", "--server", _server.Url, "--key", admin);
        Assert.True(run.Code == 0, run.Error);
    }

    [Theory]
    [InlineData("create", "--scope", "root")]
    [InlineData("create")]
    [InlineData("revoke", "ffffffffffff")]
    public async Task BadArguments_OneLineExitTwo(params string[] args)
    {
        var (code, _, stderr) = await RunAsync(["keys", .. args, "--data-dir", _server.DataDirectory]);

        Assert.Equal(2, code);
        Assert.Single(Cli.Lines(stderr));
    }

    [Fact]
    public async Task ListOfAMissingStore_OneLineExitTwo()
    {
        var (code, _, stderr) = await RunAsync("keys", "list", "--data-dir", Path.Combine(_folder.Path, "nothing-here"));

        Assert.Equal(2, code);
        Assert.Contains("holds no Flywheel store", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://0.0.0.0:0")]
    [InlineData("http://*:0")]
    [InlineData("http://127.0.0.1:0;http://[::]:0")]
    public async Task Serve_OnANonLoopbackAddressWithoutKeys_IsRefusedInOneLine(string urls)
    {
        var (code, _, stderr) = await RunAsync("serve", "--data-dir", Path.Combine(_folder.Path, "open"), "--urls", urls);

        Assert.Equal(2, code);
        Assert.Single(Cli.Lines(stderr));
        Assert.Contains("--insecure", stderr, StringComparison.Ordinal);
    }
}

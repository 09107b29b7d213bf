using Flywheel.Core;

namespace Flywheel.Engine.Tests.Ingest;

/// <summary>Every id a decision or signal carries follows one rule at ingest, so whatever is stored can be read back.</summary>
public sealed class IdValidationTests
{
    private const string Loop = "home-feed";
    private static readonly CancellationToken None = CancellationToken.None;

    /// <summary>One id of each class the rule refuses, with the kind of refusal.</summary>
    public static TheoryData<string, string, ValidationKind> InvalidIds => new()
    {
        { "empty", "", ValidationKind.Invalid },
        { "over the length limit", new string('x', 257), ValidationKind.TooLarge },
        { "NUL", "a\0b", ValidationKind.Invalid },
        { "newline", "a\nb", ValidationKind.Invalid },
        { "tab", "a\tb", ValidationKind.Invalid },
        { "DEL", "a\u007Fb", ValidationKind.Invalid },
        { "C1 control", "a\u0085b", ValidationKind.Invalid },
        { "slash", "a/b", ValidationKind.Invalid },
        { "backslash", "a\\b", ValidationKind.Invalid },
        { "leading space", " ab", ValidationKind.Invalid },
        { "trailing space", "ab ", ValidationKind.Invalid },
        { "trailing no-break space", "ab\u00A0", ValidationKind.Invalid },
        { "only a space", " ", ValidationKind.Invalid },
        { "dot", ".", ValidationKind.Invalid },
        { "dot dot", "..", ValidationKind.Invalid },
        { "lone high surrogate", "a\uD800b", ValidationKind.Invalid },
        { "lone low surrogate", "a\uDC00", ValidationKind.Invalid },
        { "surrogates reversed", "\uDC00\uD800", ValidationKind.Invalid },
    };

    /// <summary>Ids that look odd but are legal: stored and read back as they are.</summary>
    public static TheoryData<string> LegalIds => new()
    {
        "a b c", "ünïcødé-日本語", "emoji-😀", "a:b", "user@example.com", "100%", "a+b", "what?", "#1", "a.b", "...", "%2F", "x".PadRight(256, 'y'),
    };

    private static DecideRequest Request(string? decisionId = "d1", string? userId = "u-1", string actionId = "v2") => new()
    {
        DecisionId = decisionId,
        UserId = userId,
        Actions = [new ActionCandidate("v1"), new ActionCandidate(actionId)],
    };

    [Theory]
    [MemberData(nameof(InvalidIds), DisableDiscoveryEnumeration = true)] // xunit would turn lone surrogates into U+FFFD
    public async Task DecideAsync_InvalidId_IsRefusedNamingTheFieldAndStoresNothing(string name, string id, ValidationKind kind)
    {
        await using var rig = await ComponentRig.OpenAsync();
        var loop = await rig.PutLoopAsync(TestEngine.FeedLoop());
        var cases = new (string Field, DecideRequest Request)[]
        {
            ("decisionId", Request(decisionId: id)),
            ("userId", Request(userId: id)),
            ("actions[1].id", Request(actionId: id)),
        };
        foreach (var (field, request) in cases)
        {
            var ex = await Assert.ThrowsAsync<FlywheelValidationException>(() => rig.Parts.Decider.DecideAsync(loop, request, None).AsTask());
            Assert.True(field == ex.Field && kind == ex.Kind, $"{name} as {field}: got {ex.Field} ({ex.Kind}): {ex.Message}");
        }
        await rig.Parts.Ingest.FlushAsync(None);
        Assert.Equal(0, (await rig.Store.CountAsync(Loop)).Decisions);
    }

    [Theory]
    [MemberData(nameof(InvalidIds), DisableDiscoveryEnumeration = true)] // xunit would turn lone surrogates into U+FFFD
    public async Task RecordSignalsAsync_InvalidId_IsRefusedNamingTheItemAndStoresNothing(string name, string id, ValidationKind kind)
    {
        await using var rig = await ComponentRig.OpenAsync();
        var loop = await rig.PutLoopAsync(TestEngine.FeedLoop());
        var good = new SignalInput { SignalId = "ok", DecisionId = "d1", Type = "watch_complete" };
        var cases = new (string Field, SignalInput Signal)[]
        {
            ("signals[1].signalId", good with { SignalId = id }),
            ("signals[1].decisionId", good with { SignalId = null, DecisionId = id }),
            ("signals[1].userId", good with { SignalId = null, DecisionId = null, UserId = id, Type = "return_visit" }),
        };
        foreach (var (field, signal) in cases)
        {
            var ex = await Assert.ThrowsAsync<FlywheelValidationException>(() => rig.Parts.Ingest.RecordSignalsAsync(loop, [good, signal], None).AsTask());
            Assert.True(field == ex.Field && kind == ex.Kind, $"{name} as {field}: got {ex.Field} ({ex.Kind}): {ex.Message}");
        }
        await rig.Parts.Ingest.FlushAsync(None);
        Assert.Equal(0, (await rig.Store.CountAsync(Loop)).Signals);
    }

    [Theory]
    [MemberData(nameof(LegalIds))]
    public async Task DecideAndSignal_LegalTrickyId_IsStoredAndReadBackByIt(string id)
    {
        await using var rig = await ComponentRig.OpenAsync();
        var loop = await rig.PutLoopAsync(TestEngine.FeedLoop());

        var decision = await rig.Parts.Decider.DecideAsync(loop, Request(decisionId: id, userId: id, actionId: id), None);
        var result = await rig.Parts.Ingest.RecordSignalsAsync(loop, [new SignalInput { SignalId = id, DecisionId = id, UserId = id, Type = "thumbs_up" }], None);

        Assert.Equal(id, decision.DecisionId);
        Assert.Equal(new SignalBatchResult(1, 0, 0, 0), result);
        var audit = await rig.Parts.Loops.GetDecisionAsync(loop, id, None);
        Assert.NotNull(audit);
        Assert.Equal(id, audit.Decision.UserId);
        Assert.Equal(["v1", id], audit.Decision.Actions.Select(a => a.Id));
        Assert.Equal(id, Assert.Single(audit.Signals).SignalId);
    }
}

using System.Globalization;
using Flywheel.Core;
using Flywheel.Engine;
using Flywheel.Simulation.Summarise;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Flywheel.Simulation.Tests;

/// <summary>
/// The summarise world (docs/summarise-simulation.md): the fake chat client, the users' edits and reactions, the loop the
/// scenario declares, a small run's determinism and what the engine stored of it.
/// </summary>
public sealed class SummariseWorldTests(ITestOutputHelper output)
{
    private static readonly string Document = new SummariseWorld(new SummariseWorldSettings(), 1, 1, 5).Document(0);

    [Fact]
    public async Task SummariserChatClient_SameMessagesTwice_SameTextAndEveryVariantGivesItsOwn()
    {
        using IChatClient client = new SummariserChatClient();
        var texts = new List<string>();
        foreach (var variant in SummariseWorld.Variants)
        {
            ChatMessage[] prompt = [new(ChatRole.System, variant.SystemPrompt), new(ChatRole.User, Document)];
            var first = await client.GetResponseAsync(prompt, new ChatOptions { Temperature = 1.2f });
            var again = await client.GetResponseAsync(prompt);
            Assert.Equal(first.Text, again.Text);
            Assert.Equal(SummaryRenderer.Render(Document, variant), first.Text);
            Assert.Equal(variant, SummariserChatClient.StyleOf(prompt));
            // Streaming gives the same text.
            var streamed = new System.Text.StringBuilder();
            await foreach (var update in client.GetStreamingResponseAsync(prompt))
            {
                streamed.Append(update.Text);
            }
            Assert.Equal(first.Text, streamed.ToString());
            texts.Add(first.Text);
        }
        Assert.Equal(SummariseWorld.Variants.Count, texts.Distinct().Count());
        Assert.Equal(SummariserChatClient.ModelId, client.GetService<ChatClientMetadata>()!.DefaultModelId);
        // Without instructions: medium, formal prose; without a document: refused.
        Assert.Equal(SummaryRenderer.Render(Document, new SummaryStyle(SummaryLength.Medium, SummaryTone.Formal, SummaryFormat.Prose)), (await client.GetResponseAsync([new ChatMessage(ChatRole.User, Document)])).Text);
        await Assert.ThrowsAsync<ArgumentException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.System, "Tone: casual")]));
    }

    [Fact]
    public void Render_EachStyle_FollowsItsLengthToneAndFormat()
    {
        var sentences = SummaryRenderer.Sentences(Document);
        Assert.InRange(sentences.Count, 9, 14);
        foreach (var variant in SummariseWorld.Variants)
        {
            var text = SummaryRenderer.Render(Document, variant);
            var points = SummaryStyle.Points(variant.Length);
            if (variant.Format == SummaryFormat.Bullets)
            {
                var lines = text.Split('\n');
                Assert.Equal(points + 1, lines.Length);
                Assert.All(lines.Skip(1), l => Assert.StartsWith("- ", l, StringComparison.Ordinal));
                Assert.DoesNotContain(",", text, StringComparison.Ordinal); // reasons are dropped
            }
            else
            {
                Assert.DoesNotContain("\n", text, StringComparison.Ordinal);
                Assert.Equal(points, text.Split(" percent, ").Length - 1);
            }
            var formal = SummaryRenderer.CasualWords.Count(p => text.Contains(p.Formal, StringComparison.OrdinalIgnoreCase));
            Assert.True(variant.Tone == SummaryTone.Casual ? formal == 0 : formal > 0, $"{variant}: {formal} formal words");
        }
        // The points kept are the largest changes, in the document's order.
        var kept = SummaryRenderer.Salient(sentences, 2);
        Assert.Equal(kept.Order(), kept);
        var percent = sentences.Select(s => int.Parse(s.Split(" percent")[0].Split(' ')[^1], CultureInfo.InvariantCulture)).ToArray();
        Assert.True(kept.All(k => percent.Count(p => p > percent[k]) < 2));
    }

    [Fact]
    public void Ideal_MatchedVariant_LeavesASmallerDistanceThanEveryMismatchedOne()
    {
        var world = new SummariseWorld(new SummariseWorldSettings(), 60, 5, 3);
        var matched = new List<double>();
        var mismatched = new List<double>();
        foreach (var request in world.Requests)
        {
            var preferred = world.Preferred(request);
            var document = world.Document(request.Index);
            var ideal = world.Ideal(request, document);
            var distances = SummariseWorld.Variants.Select(v => EditDistance.Normalized(SummaryRenderer.Render(document, v), ideal)).ToArray();
            var own = SummariseWorld.Variants.ToList().IndexOf(preferred);
            if (own < 0)
            {
                continue; // short prose and long bullets are not on offer
            }
            matched.Add(distances[own]);
            for (var v = 0; v < distances.Length; v++)
            {
                if (v != own)
                {
                    mismatched.Add(distances[v]);
                    Assert.True(distances[v] > distances[own], $"request {request.Index}: {SummariseWorld.Variants[v]} {distances[v]:F3} vs own {preferred} {distances[own]:F3}");
                }
            }
        }
        output.WriteLine($"{matched.Count} requests with their style on offer: matched mean {matched.Average():F3} (max {matched.Max():F3}), mismatched mean {mismatched.Average():F3} (min {mismatched.Min():F3})");
        Assert.True(matched.Count > 100);
        Assert.True(matched.Average() < 0.1 && mismatched.Average() > 0.4);
    }

    [Fact]
    public void React_ByDistance_KeepsEditsOrRegenerates()
    {
        var settings = new SummariseWorldSettings();
        var world = new SummariseWorld(settings, 40, 2, 4);
        // A user without personal touches, and the variant opposite to their style in length, tone and format.
        var (request, far) = world.Requests
            .Where(r => world.Users[r.User].Touches == SummaryTouches.None)
            .Select(r => (Request: r, Far: SummaryRenderer.Render(world.Document(r.Index), Opposite(world.Preferred(r)))))
            .First(p => EditDistance.Normalized(p.Far, world.Ideal(p.Request, world.Document(p.Request.Index))) >= world.Users[p.Request.User].RegenerateAt);
        var document = world.Document(request.Index);
        var ideal = world.Ideal(request, document);

        // Their own text exactly: kept or copied, never edited.
        var outcomes = Enumerable.Range(0, 200).Select(i => world.React(request, ideal, ideal, 0, new SimRandom((ulong)i))).ToArray();
        Assert.All(outcomes, o => Assert.True(o.KeptAsIs && o.Distance == 0 && o.Counted == 0 && o.FinalText is null));
        Assert.InRange(outcomes.Count(o => o.Outcome == SummaryOutcome.Copied), 40, 100); // CopyShare 0.35 of 200

        // The opposite style: far beyond the regenerate distance, so regenerated (counted 1) about 70% of the time while
        // regenerations are left, and otherwise rewritten into their own text.
        var first = Enumerable.Range(0, 200).Select(i => world.React(request, ideal, far, 0, new SimRandom((ulong)i))).ToArray();
        Assert.InRange(first.Count(o => o.Outcome == SummaryOutcome.Regenerated), 120, 160);
        Assert.All(first.Where(o => o.Outcome == SummaryOutcome.Regenerated), o => Assert.Equal(1, o.Counted));
        Assert.All(first.Where(o => o.Outcome == SummaryOutcome.Edited), o =>
        {
            Assert.Equal(ideal, o.FinalText);
            Assert.Equal(o.Distance, o.Counted);
        });
        var last = Enumerable.Range(0, 50).Select(i => world.React(request, ideal, far, settings.MaxRegenerations, new SimRandom((ulong)i))).ToArray();
        Assert.All(last, o => Assert.Equal(SummaryOutcome.Edited, o.Outcome));
    }

    private static SummaryStyle Opposite(SummaryStyle style)
        => SummariseWorld.Variants.First(v => v.Tone != style.Tone && v.Format != style.Format && v.Length != style.Length);

    [Fact]
    public void SummariseOptions_Validate_NamesTheBadSetting()
    {
        Assert.Equal("Users", Assert.Throws<ArgumentOutOfRangeException>(() => new SummariseOptions { DataDirectory = "x", Users = 0 }.Validate()).ParamName);
        Assert.Equal("Days", Assert.Throws<ArgumentOutOfRangeException>(() => new SummariseOptions { DataDirectory = "x", Days = 366 }.Validate()).ParamName);
        Assert.Equal("SentencesMin", Assert.Throws<ArgumentOutOfRangeException>(() => new SummariseOptions { DataDirectory = "x", World = new() { SentencesMin = 5 } }.Validate()).ParamName);
        Assert.Equal("ToleranceMax", Assert.Throws<ArgumentOutOfRangeException>(() => new SummariseOptions { DataDirectory = "x", World = new() { ToleranceMax = 0.5 } }.Validate()).ParamName);
        new SummariseOptions { DataDirectory = "x" }.Validate();
        // The loops the scenario declares are loops the engine accepts.
        SummariseSimulation.Loop(SummarisePolicy.Loop).Validate();
        SummariseSimulation.Loop(SummarisePolicy.Baseline).Validate();
    }

    [Fact]
    public void Docs_LoopConfig_IsTheLoopTheSimulatorDeclares()
    {
        var doc = File.ReadAllText(Repository.Path("docs", "summarise-simulation.md"));
        var block = doc.Split("```json\n")[1];
        var loop = LoopConfigJson.Parse(block[..block.IndexOf("```", StringComparison.Ordinal)]);
        Assert.Equal(LoopConfigJson.Serialize(SummariseSimulation.Loop(SummarisePolicy.Loop)), LoopConfigJson.Serialize(loop));
    }

    /// <summary>
    /// A small run twice gives the same figures, another seed others; what the engine stored is what the world did: each
    /// edit's reward is minus the distance the world measured, each regeneration's output names the one it replaced, and
    /// the training exports find every kept, edited and regenerated output.
    /// </summary>
    [Fact]
    public async Task RunAsync_SameSeedTwice_SameFiguresAndTheEngineMeasuredTheEdits()
    {
        using var root = new TempDirectory("flywheel-summarise-");
        var options = new SummariseOptions { Users = 20, Days = 3, Seed = 9, DataDirectory = Path.Combine(root.Path, "a") };
        var first = await SummariseSimulation.RunAsync(options);
        var second = await SummariseSimulation.RunAsync(options with { DataDirectory = Path.Combine(root.Path, "b") });
        Assert.Equal(Json(first), Json(second));
        Assert.NotEqual(Json(first), Json(await SummariseSimulation.RunAsync(options with { Seed = 10, DataDirectory = Path.Combine(root.Path, "c") })));

        // Both arms answered every request at least once, in order.
        foreach (var arm in first.Arms)
        {
            Assert.Equal(first.World.Requests.Select(r => r.Index), arm.Generations.Where(g => g.Attempt == 0).Select(g => g.Request));
        }
        var loop = first[SummarisePolicy.Loop];
        Assert.Contains(loop.Generations, g => g.Outcome == SummaryOutcome.Edited);
        Assert.Contains(loop.Generations, g => g.Outcome == SummaryOutcome.Regenerated);
        Assert.Contains(loop.Generations, g => g.KeptAsIs);

        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(SimulationCalendar.DateOf(10));
        await using var engine = await FlywheelEngine.OpenAsync(new FlywheelOptions { ScheduleTurns = false }.UseSqlite(loop.DataDirectory), time);
        foreach (var g in loop.Generations.Take(60))
        {
            var id = $"g{g.Request}-{g.Attempt}";
            var audit = (await engine.GetDecisionAsync(SummariseSimulation.LoopId, id))!;
            Assert.Equal(SummariseWorld.Variants[g.Variant].Key, audit.Decision.ChosenActionId);
            var expected = g.Outcome switch
            {
                SummaryOutcome.Edited => -g.Distance,
                SummaryOutcome.Regenerated => -1,
                _ => 1,
            };
            Assert.Equal(expected, audit.Reward!.Reward, 12);
            Assert.Equal(SummariseWorld.Variants[g.Variant].SystemPrompt, audit.Output!.Messages[0].Content);
            Assert.Equal(g.Attempt == 0 ? null : $"g{g.Request}-{g.Attempt - 1}", audit.Output.Replaces);
            if (g.Outcome == SummaryOutcome.Edited)
            {
                var edit = Assert.Single(audit.Signals);
                Assert.Equal((GenerationConfig.EditedSignal, g.Distance), (edit.Type, edit.Value));
                Assert.False(string.IsNullOrEmpty(edit.Text));
            }
        }

        // The training exports read what the run stored: one supervised example per output kept or edited, one preference
        // pair per edit and one per regeneration that ended kept or edited.
        var sft = await CountAsync(engine.ExportTrainingAsync(SummariseSimulation.LoopId, new TrainingExportRequest { Format = TrainingFormat.Sft }));
        var dpo = await CountAsync(engine.ExportTrainingAsync(SummariseSimulation.LoopId, new TrainingExportRequest { Format = TrainingFormat.Dpo }));
        var edited = loop.Generations.Count(g => g.Outcome == SummaryOutcome.Edited);
        Assert.Equal(loop.Generations.Count(g => g.KeptAsIs) + edited, sft);
        Assert.Equal(edited + loop.Generations.Count(g => g.Attempt > 0 && g.Outcome != SummaryOutcome.Regenerated), dpo);
    }

    private static async Task<int> CountAsync<T>(IAsyncEnumerable<T> items)
    {
        var n = 0;
        await foreach (var _ in items)
        {
            n++;
        }
        return n;
    }

    private static string Json(SummariseResult result)
    {
        using var buffer = new MemoryStream();
        SummariseReport.WriteJson(buffer, result);
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}

/// <summary>
/// The summarise world's criteria on the real engine and store on a fake clock: three seeds of 100 users over 20 days
/// (about 2,100 requests), each with the learning loop and its frozen twin over the same users, requests and dice.
/// </summary>
public sealed class SummariseDoneWhenTests(SummariseDoneWhenTests.Runs runs, ITestOutputHelper output) : IClassFixture<SummariseDoneWhenTests.Runs>
{
    /// <summary>The seeds the criteria are checked on: the first three, not chosen.</summary>
    private static readonly ulong[] Seeds = [1, 2, 3];

    /// <summary>Each seed's run, shared by the tests; about 30 s for the three on 2 cores (Debug).</summary>
    public sealed class Runs : IAsyncLifetime
    {
        private readonly TempDirectory _root = new("flywheel-summarise-");

        public IReadOnlyList<SummariseResult> Results { get; private set; } = [];

        public async Task InitializeAsync()
        {
            var results = new List<SummariseResult>();
            foreach (var seed in Seeds)
            {
                results.Add(await SummariseSimulation.RunAsync(new SummariseOptions { Users = 100, Days = 20, Seed = seed, DataDirectory = Path.Combine(_root.Path, seed.ToString(CultureInfo.InvariantCulture)) }));
            }
            Results = results;
        }

        public Task DisposeAsync()
        {
            _root.Dispose();
            return Task.CompletedTask;
        }
    }

    [Fact]
    public void RunAsync_Last1000Generations_LoopEditsLessThanTheBaselineOnEverySeed()
    {
        foreach (var result in runs.Results)
        {
            var c = result.Compare();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"seed {result.Options.Seed}: distance loop {c.Loop.Distance.Value:F4} baseline {c.Baseline.Distance.Value:F4}, loop - baseline {c.Distance.Value:+0.0000;-0.0000} [{c.Distance.Lower:+0.0000;-0.0000}, {c.Distance.Upper:+0.0000;-0.0000}]"));
            Assert.Equal((1_000, 1_000), (c.Loop.Generations, c.Baseline.Generations));
            Assert.True(c.Distance.Upper < 0, $"seed {result.Options.Seed}: loop - baseline distance {c.Distance.Value:F4}, interval up to {c.Distance.Upper:F4}");
        }
    }

    [Fact]
    public void RunAsync_Last1000Generations_LoopKeepsMoreWithoutEditsOnEverySeed()
    {
        foreach (var result in runs.Results)
        {
            var c = result.Compare();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"seed {result.Options.Seed}: kept loop {c.Loop.KeptShare.Value:F4} baseline {c.Baseline.KeptShare.Value:F4}, loop - baseline {c.KeptShare.Value:+0.0000;-0.0000} [{c.KeptShare.Lower:+0.0000;-0.0000}, {c.KeptShare.Upper:+0.0000;-0.0000}]"));
            Assert.True(c.KeptShare.Lower > 0, $"seed {result.Options.Seed}: loop - baseline kept share {c.KeptShare.Value:F4}, interval from {c.KeptShare.Lower:F4}");
        }
    }

    /// <summary>
    /// The baseline is what it claims to be (a uniform draw among the variants, whose first outputs leave the distance a
    /// random variant leaves), and the loop's gain is learning: the distance its first outputs leave falls over the run, to
    /// most of the way from a random variant's to the best variant's and well below what the best single variant for
    /// everyone would leave.
    /// </summary>
    [Fact]
    public void RunAsync_BaselineServesUniformlyAndTheLoopLearns()
    {
        foreach (var result in runs.Results)
        {
            var baseline = result[SummarisePolicy.Baseline];
            var shares = baseline.VariantShares();
            Assert.All(shares, s => Assert.InRange(s, 0.125 - 0.03, 0.125 + 0.03));
            var blocks = result.Blocks();
            var (head, tail) = (blocks[0], blocks[^1]);
            var reached = (tail.Uniform - tail.Served[0]) / (tail.Uniform - tail.Oracle);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"seed {result.Options.Seed}: first outputs' distance, loop {head.Served[0]:F3} (days {head.FirstDay}-{head.LastDay}) to {tail.Served[0]:F3} (days {tail.FirstDay}-{tail.LastDay}); baseline {tail.Served[1]:F3}; random variant {tail.Uniform:F3}, best {tail.Oracle:F3}; best single {tail.BestSingle:F3}; share of the possible reached {reached:F3}; baseline shares {string.Join(" ", shares.Select(s => s.ToString("F3", CultureInfo.InvariantCulture)))}"));
            Assert.InRange(tail.Served[1], tail.Uniform - 0.04, tail.Uniform + 0.04);
            Assert.True(reached >= 0.6, $"seed {result.Options.Seed}: the loop reached {reached:F3} of the possible");
            Assert.True(head.Served[0] > tail.Served[0] + 0.05, $"seed {result.Options.Seed}: {head.Served[0]:F3} then {tail.Served[0]:F3}");
            // Learning who wants what beats the one prompt best for everyone.
            Assert.True(tail.Served[0] < tail.BestSingle - 0.1, $"seed {result.Options.Seed}: loop {tail.Served[0]:F3}, best single variant {tail.BestSingle:F3}");
        }
    }
}

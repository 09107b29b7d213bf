using System.Text.Json;
using Flywheel.Core;
using Flywheel.TestUtils;

namespace Flywheel.Cli.Tests;

/// <summary>The reference docs against the code they describe.</summary>
public sealed class DocsTests
{
    [Fact]
    public void LoopConfigDoc_NamesEveryFieldAConfigCarries()
    {
        var doc = File.ReadAllText(Repository.Path("docs", "loop-config.md"));
        // Every field, defaults written out, with one signal type that sets every signal field.
        var config = LoopConfigJson.Parse("""{ "id": "x", "signals": { "s": { "kind": "explicit", "weight": 2, "closesWindow": true } } }""");
        using var json = JsonDocument.Parse(LoopConfigJson.Serialize(config));

        var missing = new List<string>();
        void Walk(JsonElement element, string path)
        {
            foreach (var property in element.EnumerateObject())
            {
                var name = path == "signals" ? "" : property.Name;
                if (name.Length > 0 && !doc.Contains($"`{name}`", StringComparison.Ordinal))
                {
                    missing.Add(path.Length == 0 ? name : $"{path}.{name}");
                }
                if (property.Value.ValueKind == JsonValueKind.Object)
                {
                    Walk(property.Value, path.Length == 0 ? property.Name : $"{path}.{property.Name}");
                }
            }
        }
        Walk(json.RootElement, "");

        Assert.Empty(missing);
    }

    [Fact]
    public void LoopConfigDoc_NamesEveryValueOfEveryChoice()
    {
        var doc = File.ReadAllText(Repository.Path("docs", "loop-config.md"));
        string[] names =
        [
            .. Enum.GetValues<LoopKind>().Select(v => LoopConfigJson.Name(v)),
            .. Enum.GetValues<LoopMode>().Select(v => LoopConfigJson.Name(v)),
            .. Enum.GetValues<SignalKind>().Select(v => LoopConfigJson.Name(v)),
            .. Enum.GetValues<RewardAggregate>().Select(v => LoopConfigJson.Name(v)),
            .. Enum.GetValues<ExplorationAlgorithm>().Select(v => LoopConfigJson.Name(v)),
            .. Enum.GetValues<Reduction>().Select(v => LoopConfigJson.Name(v)),
            .. Enum.GetValues<PromotionPolicy>().Select(v => LoopConfigJson.Name(v)),
        ];

        var missing = names.Where(n => !doc.Contains($"`{n}`", StringComparison.Ordinal)).ToList();
        Assert.Empty(missing);
    }
}

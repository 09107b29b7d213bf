using System.Text.Json;
using System.Text.RegularExpressions;
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

    // Build and test output (.gitignore), not the repository's own files.
    private static readonly string[] SkippedFolders = [".git", "bin", "obj", "node_modules", "TestResults", "generated", "artifacts", "BenchmarkDotNet.Artifacts", "flywheel-data", "flywheel-demo"];

    /// <summary>The repository's text files: sources, docs, scripts and settings (build output left out).</summary>
    private static IEnumerable<string> TextFiles()
    {
        string[] extensions = [".cs", ".md", ".sh", ".json", ".csproj", ".props", ".targets", ".slnx", ".yml", ".yaml", ".ts", ".js", ".html", ".css", ".txt"];
        var pending = new Stack<string>([Repository.Root]);
        while (pending.Count > 0)
        {
            var folder = pending.Pop();
            foreach (var sub in Directory.GetDirectories(folder).Where(d => !SkippedFolders.Contains(Path.GetFileName(d))))
            {
                pending.Push(sub);
            }
            foreach (var file in Directory.GetFiles(folder))
            {
                var name = Path.GetFileName(file);
                if (extensions.Contains(Path.GetExtension(file)) || name is "Dockerfile" or "run" or ".gitignore" or ".dockerignore")
                {
                    yield return file;
                }
            }
        }
    }

    [Fact]
    public void NoFile_PointsOutsideTheRepository()
    {
        // Built from parts, so that this file does not name what it looks for.
        string[] outside = [".." + "/shared", "DESIGN" + ".md", "ALGORITHMS" + ".md", "DESIGN" + " §", "ALGORITHMS" + " §"];
        var offenders = TextFiles()
            .SelectMany(f => outside.Where(o => File.ReadAllText(f).Contains(o, StringComparison.Ordinal)).Select(o => $"{Path.GetRelativePath(Repository.Root, f)}: {o}"))
            .ToList();
        Assert.Empty(offenders);
    }

    [Fact]
    public void MarkdownLinks_ResolveToFilesAndHeadings()
    {
        var link = new Regex(@"\]\(([^)\s]+)\)");
        var broken = new List<string>();
        var markdown = TextFiles().Where(f => f.EndsWith(".md", StringComparison.Ordinal)).ToList();
        Assert.Contains(markdown, f => f.EndsWith(Path.Combine("docs", "README.md"), StringComparison.Ordinal));
        foreach (var file in markdown)
        {
            foreach (Match m in link.Matches(File.ReadAllText(file)))
            {
                var target = m.Groups[1].Value;
                if (target.StartsWith("http://", StringComparison.Ordinal) || target.StartsWith("https://", StringComparison.Ordinal) || target.StartsWith("mailto:", StringComparison.Ordinal))
                {
                    continue;
                }
                var hash = target.IndexOf('#', StringComparison.Ordinal);
                var path = hash >= 0 ? target[..hash] : target;
                var anchor = hash >= 0 ? target[(hash + 1)..] : null;
                var resolved = path.Length == 0 ? file : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, path));
                var where = $"{Path.GetRelativePath(Repository.Root, file)}: {target}";
                if (!File.Exists(resolved) && !Directory.Exists(resolved))
                {
                    broken.Add($"{where} (no such file)");
                }
                else if (anchor is not null && resolved.EndsWith(".md", StringComparison.Ordinal) && !Headings(resolved).Contains(anchor))
                {
                    broken.Add($"{where} (no such heading)");
                }
            }
        }
        Assert.Empty(broken);
    }

    /// <summary>The anchors GitHub gives a Markdown file's headings: lower case, punctuation dropped, spaces as hyphens.</summary>
    private static HashSet<string> Headings(string file)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        var inCode = false;
        foreach (var line in File.ReadLines(file))
        {
            if (line.StartsWith("```", StringComparison.Ordinal))
            {
                inCode = !inCode;
            }
            if (inCode || !line.StartsWith('#'))
            {
                continue;
            }
            var text = line.TrimStart('#').Trim().ToLowerInvariant();
            var slug = new string([.. text.Where(c => char.IsLetterOrDigit(c) || c is ' ' or '-' or '_')]).Replace(' ', '-');
            var unique = slug;
            for (var n = 1; !anchors.Add(unique); n++)
            {
                unique = $"{slug}-{n}";
            }
        }
        return anchors;
    }
}

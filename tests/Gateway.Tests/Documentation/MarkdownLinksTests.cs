using System.Text;
using System.Text.RegularExpressions;

namespace Gateway.Tests.Documentation;

/// <summary>
/// The documentation is read on every clone, so a link that points at a file that moved, or outside the
/// repository (a sibling folder on one developer's machine), is broken for everyone else.
/// </summary>
public sealed partial class MarkdownLinksTests
{
    private const long ReadmeMaxBytes = 10 * 1024;

    // Build output and tool folders hold copies or third-party pages that are not the repository's documentation.
    private static readonly HashSet<string> SkippedFolders = new(StringComparer.Ordinal) { "bin", "obj", ".git", "node_modules" };

    [Fact]
    public void EveryRelativeLink_InEveryMarkdownFile_ResolvesInsideTheRepository()
    {
        var root = RepositoryRoot();
        var headings = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        var failures = new List<string>();
        var links = 0;
        foreach (var file in MarkdownFiles(root))
        {
            foreach (var target in LinkTargets(File.ReadAllText(file)))
            {
                links++;
                if (Problem(root, file, target, headings) is { } problem)
                {
                    failures.Add($"{Path.GetRelativePath(root, file)}: {target} ({problem})");
                }
            }
        }

        // Finding no link at all means the extraction broke, not that every link is fine.
        Assert.True(links > 0, $"no link found in any *.md under {root}");
        Assert.True(failures.Count == 0, $"{failures.Count} broken link(s):{Environment.NewLine}{string.Join(Environment.NewLine, failures)}");
    }

    [Fact]
    public void Readme_IsAtMost10KB()
    {
        var length = new FileInfo(Path.Combine(RepositoryRoot(), "README.md")).Length;

        Assert.True(length <= ReadmeMaxBytes, $"README.md is {length} bytes, more than {ReadmeMaxBytes}: move reference material to docs/");
    }

    [Fact]
    public void LinkTargets_LinksInCodeAndReferences_TakesOnlyLinksOutsideCode()
    {
        var markdown = """
            See [a](docs/a.md "title") and ![img](<my%20image.png>) and [b](b.md#part).
            Not `[code](code.md)`, nor:

            ```sh
            echo [x](fenced.md)
            ```

            [ref]: ref.md
            """;

        Assert.Equal(["docs/a.md", "my%20image.png", "b.md#part", "ref.md"], LinkTargets(markdown));
    }

    [Theory]
    [InlineData("Running on Kubernetes", "running-on-kubernetes")]
    [InlineData("Discovery and `/readyz`", "discovery-and-readyz")]
    [InlineData("The demo under the seed's drill", "the-demo-under-the-seeds-drill")]
    [InlineData("Providers: where replicas come from", "providers-where-replicas-come-from")]
    [InlineData("See [the docs](docs/a.md) now", "see-the-docs-now")]
    public void Slug_Heading_IsGitHubsAnchor(string heading, string expected)
    {
        Assert.Equal(expected, Slug(heading));
    }

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Gateway.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"no folder above {AppContext.BaseDirectory} holds Gateway.sln");
    }

    private static IEnumerable<string> MarkdownFiles(string folder)
    {
        foreach (var file in Directory.EnumerateFiles(folder, "*.md"))
        {
            yield return file;
        }

        foreach (var child in Directory.EnumerateDirectories(folder))
        {
            if (SkippedFolders.Contains(Path.GetFileName(child)))
            {
                continue;
            }

            foreach (var file in MarkdownFiles(child))
            {
                yield return file;
            }
        }
    }

    /// <summary>Targets of inline links, images and reference definitions, as written.</summary>
    private static List<string> LinkTargets(string markdown)
    {
        // A link shown as code (a fenced block, an inline span) is an example, not a link GitHub renders.
        var prose = InlineCode().Replace(WithoutFences(markdown), string.Empty);
        var targets = new List<string>();
        foreach (Match match in InlineLink().Matches(prose))
        {
            targets.Add(WithoutAngleBrackets(match.Groups["target"].Value));
        }

        foreach (Match match in ReferenceDefinition().Matches(prose))
        {
            targets.Add(WithoutAngleBrackets(match.Groups["target"].Value));
        }

        return targets;
    }

    // <...> lets a target hold spaces; the brackets are not part of it.
    private static string WithoutAngleBrackets(string target) =>
        target.Length >= 2 && target.StartsWith('<') && target.EndsWith('>') ? target[1..^1] : target;

    /// <summary>Why <paramref name="target"/>, linked from <paramref name="file"/>, is broken, or null when it resolves.</summary>
    private static string? Problem(string root, string file, string target, Dictionary<string, HashSet<string>> headings)
    {
        if (target.StartsWith("http:", StringComparison.OrdinalIgnoreCase)
            || target.StartsWith("https:", StringComparison.OrdinalIgnoreCase)
            || target.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var hash = target.IndexOf('#', StringComparison.Ordinal);
        var path = Uri.UnescapeDataString(hash < 0 ? target : target[..hash]);
        var anchor = hash < 0 ? string.Empty : Uri.UnescapeDataString(target[(hash + 1)..]);
        if (path.Length == 0 && anchor.Length == 0)
        {
            return "empty target";
        }

        // A rooted path may exist on this machine and on no other clone.
        if (Path.IsPathRooted(path))
        {
            return "absolute path";
        }

        var resolved = path.Length == 0 ? file : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, path));
        if (!resolved.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal) && resolved != root)
        {
            return "outside the repository";
        }

        if (!File.Exists(resolved) && !Directory.Exists(resolved))
        {
            return "no such file or folder";
        }

        if (anchor.Length > 0 && File.Exists(resolved) && resolved.EndsWith(".md", StringComparison.OrdinalIgnoreCase))
        {
            if (!headings.TryGetValue(resolved, out var anchors))
            {
                anchors = HeadingAnchors(File.ReadAllText(resolved));
                headings[resolved] = anchors;
            }

            if (!anchors.Contains(anchor))
            {
                return $"no heading #{anchor}";
            }
        }

        return null;
    }

    private static HashSet<string> HeadingAnchors(string markdown)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (Match match in Heading().Matches(WithoutFences(markdown)))
        {
            var slug = Slug(match.Groups["text"].Value);

            // GitHub numbers repeated headings: the second "Tests" is #tests-1.
            var count = seen.GetValueOrDefault(slug);
            seen[slug] = count + 1;
            anchors.Add(count == 0 ? slug : $"{slug}-{count}");
        }

        return anchors;
    }

    /// <summary>GitHub's anchor for a heading: its text lower-cased, punctuation but '-' and '_' dropped, spaces to '-'.</summary>
    private static string Slug(string heading)
    {
        // A link in a heading shows only its text; its '[' and ']' go with the rest of the punctuation.
        var text = InlineLink().Replace(heading, string.Empty).Trim().ToLowerInvariant();
        var slug = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (char.IsLetterOrDigit(c) || c is '-' or '_')
            {
                slug.Append(c);
            }
            else if (c == ' ')
            {
                slug.Append('-');
            }
        }

        return slug.ToString();
    }

    private static string WithoutFences(string markdown)
    {
        var kept = new StringBuilder(markdown.Length);
        string? fence = null;
        foreach (var line in markdown.Split('\n'))
        {
            var trimmed = line.TrimStart();
            var marker = trimmed.StartsWith("```", StringComparison.Ordinal) ? "```"
                : trimmed.StartsWith("~~~", StringComparison.Ordinal) ? "~~~"
                : null;
            if (fence is null && marker is not null)
            {
                fence = marker;
            }
            else if (fence is not null && marker == fence)
            {
                fence = null;
            }
            else if (fence is null)
            {
                kept.Append(line).Append('\n');
            }
        }

        return kept.ToString();
    }

    // Only the "](target)" part: it catches both links of a nested one such as [![badge](img.svg)](page.md).
    [GeneratedRegex("""\]\(\s*(?<target><[^>\n]*>|[^\s()<>]*(?:\([^\s()]*\)[^\s()]*)*)(?:\s+(?:"[^"\n]*"|'[^'\n]*'|\([^)\n]*\)))?\s*\)""")]
    private static partial Regex InlineLink();

    [GeneratedRegex("""^ {0,3}\[[^\]\n]+\]:\s*(?<target><[^>\n]*>|\S+)""", RegexOptions.Multiline)]
    private static partial Regex ReferenceDefinition();

    [GeneratedRegex("(`+).*?\\1")]
    private static partial Regex InlineCode();

    [GeneratedRegex("""^ {0,3}#{1,6}[ \t]+(?<text>.*?)(?:[ \t]+#+)?[ \t]*\r?$""", RegexOptions.Multiline)]
    private static partial Regex Heading();
}

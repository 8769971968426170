using System.Text.RegularExpressions;

namespace Gateway.Tests.Architecture;

/// <summary>
/// The folders of Gateway.Core depend one way: each may use only folders of a lower layer. Read from the source (its
/// <c>using Gateway.X;</c> lines and any <c>Gateway.X.</c> or <c>X.Type</c> written out in code and doc comments), so a
/// wrong-way dependency fails here before it becomes a cycle.
/// </summary>
public sealed partial class FolderDependencyTests
{
    /// <summary>The layers, bottom first. A folder uses folders of lower layers only; folders of one layer are independent.</summary>
    private static readonly string[][] Layers =
    [
        ["Configuration"],
        ["Model"],
        ["Telemetry"],
        ["Load", "Health", "Balancing", "Tenancy"],
        ["Providers", "Admission"],
        ["Scaling", "Forwarding"],
        ["Requests", "Admin"],
        ["Hosting"],
    ];

    [Fact]
    public void EveryFolder_UsesOnlyFoldersOfLowerLayers()
    {
        var layerOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < Layers.Length; i++)
        {
            foreach (var folder in Layers[i])
            {
                layerOf[folder] = i;
            }
        }

        var wrong = new List<string>();
        foreach (var (folder, file, used) in Dependencies())
        {
            if (!layerOf.TryGetValue(folder, out var layer))
            {
                wrong.Add($"{file}: folder {folder} has no layer; add it to {nameof(Layers)}");
                continue;
            }

            if (used != folder && layerOf.TryGetValue(used, out var usedLayer) && usedLayer >= layer)
            {
                wrong.Add($"{file}: {folder} (layer {layer}) uses {used} (layer {usedLayer})");
            }
        }

        Assert.True(wrong.Count == 0, "Wrong-way dependencies between the folders of Gateway.Core:\n" + string.Join('\n', wrong));
    }

    [Fact]
    public void Dependencies_ReadFromSource_FindsTheKnownOnes()
    {
        // The check above passes on an empty result too; these are dependencies the design has, so the reading must see them.
        var found = new HashSet<(string, string)>();
        foreach (var (folder, _, used) in Dependencies())
        {
            found.Add((folder, used));
        }

        Assert.Contains(("Model", "Configuration"), found);
        Assert.Contains(("Admission", "Balancing"), found);
        Assert.Contains(("Forwarding", "Admission"), found);
        Assert.Contains(("Requests", "Forwarding"), found);
        Assert.Contains(("Scaling", "Providers"), found);
        Assert.Contains(("Hosting", "Requests"), found);
    }

    [Fact]
    public void Model_DependsOnNothingButTheOptionsItCarries()
    {
        var used = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (folder, _, dependency) in Dependencies())
        {
            if (folder == "Model" && dependency != "Model")
            {
                used.Add(dependency);
            }
        }

        Assert.Equal(["Configuration"], used);
    }

    /// <summary>Each (folder, file, used folder) of Gateway.Core's source.</summary>
    private static IEnumerable<(string Folder, string File, string Used)> Dependencies()
    {
        var core = Path.Combine(RepositoryRoot(), "src", "Gateway.Core");
        var folders = new HashSet<string>(StringComparer.Ordinal);
        foreach (var directory in Directory.GetDirectories(core))
        {
            var name = Path.GetFileName(directory);
            if (name is not ("bin" or "obj"))
            {
                folders.Add(name);
            }
        }

        foreach (var folder in folders)
        {
            foreach (var file in Directory.EnumerateFiles(Path.Combine(core, folder), "*.cs", SearchOption.AllDirectories))
            {
                var text = File.ReadAllText(file);
                var relative = Path.GetRelativePath(core, file);
                foreach (Match match in Reference().Matches(text))
                {
                    var used = match.Groups["qualified"].Success ? match.Groups["qualified"].Value : match.Groups["short"].Value;
                    if (folders.Contains(used))
                    {
                        yield return (folder, relative, used);
                    }
                }
            }
        }
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Gateway.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Gateway.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>
    /// <c>Gateway.X</c> anywhere (usings, qualified names), or a cref that names a type through its folder's namespace
    /// (<c>cref="X.Type"</c>), as code inside <c>namespace Gateway.Y</c> may.
    /// </summary>
    [GeneratedRegex(@"\bGateway\.(?<qualified>[A-Z][A-Za-z]+)\b|cref=""(?<short>[A-Z][A-Za-z]+)\.[A-Z]")]
    private static partial Regex Reference();
}

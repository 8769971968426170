using System.Text.Json.Nodes;
using k8s;
using YamlDotNet.RepresentationModel;

namespace Gateway.Kubernetes.Tests.Deploy;

/// <summary>One object of a rendered kustomization: its YAML tree as kubectl printed it, and handy reads of it.</summary>
internal sealed record RenderedObject(string Overlay, YamlMappingNode Yaml)
{
    public string ApiVersion => Scalar(Yaml, "apiVersion");

    public string Kind => Scalar(Yaml, "kind");

    public string Name => Scalar(Metadata, "name");

    public string Namespace => Metadata.Children.ContainsKey("namespace") ? Scalar(Metadata, "namespace") : "";

    /// <summary>The API group, "core" for the core group.</summary>
    public string Group => ApiVersion.Contains('/', StringComparison.Ordinal) ? ApiVersion[..ApiVersion.IndexOf('/', StringComparison.Ordinal)] : "core";

    public override string ToString() => $"{Overlay}: {Kind} {Name}";

    private YamlMappingNode Metadata => (YamlMappingNode)Yaml.Children["metadata"];

    /// <summary>The object as a built-in kind's model, strictly: an unknown field throws.</summary>
    public T As<T>() => (T)Assert.Single(KubernetesYaml.LoadAllFromString(Text(Yaml), strict: true));

    /// <summary>The object as JSON, for reading custom resources (every scalar a string, as YAML wrote it).</summary>
    public JsonNode Json => ToJson(Yaml)!;

    /// <summary>Every object of the multi-document YAML that <c>kubectl kustomize</c> printed.</summary>
    public static IReadOnlyList<RenderedObject> Parse(string overlay, string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return [.. stream.Documents.Where(d => d.RootNode is YamlMappingNode { Children.Count: > 0 }).Select(d => new RenderedObject(overlay, (YamlMappingNode)d.RootNode))];
    }

    /// <summary>A YAML node written out again on its own, its scalars as they were (plain, quoted or literal).</summary>
    public static string Text(YamlNode node)
    {
        var writer = new StringWriter();
        new YamlStream(new YamlDocument(node)).Save(writer, assignAnchors: false);
        return writer.ToString();
    }

    public static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode mapping => new JsonObject(mapping.Children.Select(c => KeyValuePair.Create(((YamlScalarNode)c.Key).Value!, ToJson(c.Value)))),
        YamlSequenceNode sequence => new JsonArray([.. sequence.Children.Select(ToJson)]),
        YamlScalarNode scalar => scalar.Value is null ? null : JsonValue.Create(scalar.Value),
        _ => throw new InvalidOperationException($"unexpected YAML node {node.NodeType} at {node.Start}"),
    };

    private static string Scalar(YamlMappingNode mapping, string key) =>
        mapping.Children.TryGetValue(key, out var value) && value is YamlScalarNode { Value: { } text } ? text : throw new InvalidOperationException($"no {key} in {Text(mapping)}");
}

using System.Reflection;
using k8s;
using k8s.Models;
using YamlDotNet.RepresentationModel;

namespace Gateway.Kubernetes.Tests.Deploy;

/// <summary>
/// The fields a custom resource may have, kept here because no CRD is installed to check against: every field path the
/// manifests may use (<c>spec.units[].nodeSelector</c>; a path ending in <c>.*</c> is a free map of labels or
/// selectors), the values some of them may take, and where a CRD embeds a built-in type (a pod spec in a KServe
/// predictor, an HPA behavior in a KEDA ScaledObject) that type, checked strictly by KubernetesClient's model.
/// </summary>
internal sealed class CustomResourceSchema
{
    private static readonly MethodInfo StrictDeserialize = typeof(KubernetesYaml).GetMethods()
        .Single(m => m.Name == nameof(KubernetesYaml.Deserialize) && m.IsGenericMethod && m.GetParameters() is [{ ParameterType.Name: "String" }, { ParameterType.Name: "Boolean" }]);

    private readonly HashSet<string> _fields;
    private readonly Dictionary<string, Type> _typed;
    private readonly Dictionary<string, Type> _typedRest;
    private readonly Dictionary<string, string[]> _values;

    public CustomResourceSchema(
        string apiVersion,
        string kind,
        string[] fields,
        Dictionary<string, Type>? typed = null,
        Dictionary<string, Type>? typedRest = null,
        Dictionary<string, string[]>? values = null)
    {
        ApiVersion = apiVersion;
        Kind = kind;
        _fields = new HashSet<string>(fields, StringComparer.Ordinal);
        _typed = typed ?? [];
        _typedRest = typedRest ?? [];
        _values = values ?? [];
    }

    public string ApiVersion { get; }

    public string Kind { get; }

    /// <summary>What is wrong with <paramref name="root"/>, one message per field, each naming its path.</summary>
    public List<string> Check(YamlMappingNode root)
    {
        var errors = new List<string>();
        foreach (var (key, value) in root.Children)
        {
            switch (((YamlScalarNode)key).Value)
            {
                case "apiVersion" or "kind":
                    break;
                case "metadata":
                    Typed(value, typeof(V1ObjectMeta), "metadata", errors);
                    break;
                case "spec":
                    Walk(value, "spec", errors);
                    break;
                case var other:
                    errors.Add($"{other}: unknown field of {Kind}");
                    break;
            }
        }

        return errors;
    }

    private void Walk(YamlNode node, string path, List<string> errors)
    {
        if (_typed.TryGetValue(path, out var type))
        {
            Typed(node, type, path, errors);
            return;
        }

        switch (node)
        {
            case YamlMappingNode mapping:
                var rest = new YamlMappingNode();
                foreach (var (key, value) in mapping.Children)
                {
                    var child = $"{path}.{((YamlScalarNode)key).Value}";
                    if (_fields.Contains(child))
                    {
                        Walk(value, child, errors);
                    }
                    else if (_fields.Contains(path + ".*"))
                    {
                        // A free map (labels, a node selector): any key, scalar values.
                        if (value is not YamlScalarNode)
                        {
                            errors.Add($"{child}: must be a string");
                        }
                    }
                    else if (_typedRest.ContainsKey(path))
                    {
                        rest.Add(key, value);
                    }
                    else
                    {
                        errors.Add($"{child}: unknown field of {Kind}");
                    }
                }

                if (_typedRest.TryGetValue(path, out var restType) && rest.Children.Count > 0)
                {
                    Typed(rest, restType, path, errors);
                }

                break;
            case YamlSequenceNode sequence:
                foreach (var item in sequence.Children)
                {
                    Walk(item, path + "[]", errors);
                }

                break;
            case YamlScalarNode scalar when _values.TryGetValue(path, out var allowed) && !allowed.Contains(scalar.Value, StringComparer.Ordinal):
                errors.Add($"{path}: must be one of {string.Join(", ", allowed)}, got {scalar.Value}");
                break;
        }
    }

    private static void Typed(YamlNode node, Type type, string path, List<string> errors)
    {
        try
        {
            StrictDeserialize.MakeGenericMethod(type).Invoke(null, [RenderedObject.Text(node), true]);
        }
        catch (TargetInvocationException e)
        {
            errors.Add($"{path}: not a valid {type.Name}: {Messages(e.InnerException!)}");
        }
    }

    /// <summary>An exception's message and its causes' (YamlDotNet names the line, the cause names the property).</summary>
    public static string Messages(Exception e) => e.InnerException is { } inner ? $"{e.Message} ({Messages(inner)})" : e.Message;
}

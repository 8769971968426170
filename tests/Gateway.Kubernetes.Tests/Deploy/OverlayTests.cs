using Gateway.Configuration;
using k8s.Models;

namespace Gateway.Kubernetes.Tests.Deploy;

/// <summary>
/// Every kustomization under <c>deploy/</c> renders with <c>kubectl kustomize</c> (offline), every object it renders is
/// valid (built-in kinds strictly by KubernetesClient's models, custom resources by <see cref="CustomResources"/>), the
/// gateway configuration it carries starts a gateway, and its RBAC is exactly what that configuration needs.
/// </summary>
public sealed class OverlayTests
{
    public static TheoryData<string> All => [.. Overlays.All];

    public static TheoryData<string> Gateways => [.. Overlays.Gateways];

    [Theory]
    [MemberData(nameof(All))]
    public void EveryRenderedObject_HasOnlyKnownFields(string overlay)
    {
        var objects = Overlays.Objects(overlay);

        var errors = new List<string>();
        foreach (var o in objects)
        {
            if (CustomResources.Find(o.ApiVersion, o.Kind) is { } schema)
            {
                errors.AddRange(schema.Check(o.Yaml).Select(e => $"{o}: {e}"));
            }
            else if (CustomResources.IsCustomGroup(o.ApiVersion))
            {
                errors.Add($"{o}: {o.ApiVersion} {o.Kind} is no custom resource the tests know the fields of");
            }
            else
            {
                try
                {
                    o.As<object>();
                }
                catch (Exception e) when (e is YamlDotNet.Core.YamlException or InvalidOperationException or ArgumentException)
                {
                    errors.Add($"{o}: {CustomResourceSchema.Messages(e)}");
                }
            }
        }

        Assert.NotEmpty(objects);
        Assert.True(errors.Count == 0, string.Join(Environment.NewLine, errors));
    }

    [Theory]
    [MemberData(nameof(Gateways))]
    public void GatewayConfiguration_PassesTheGatewaysOwnValidation_AndIsTheOneTheDeploymentMounts(string overlay)
    {
        var options = Overlays.Configuration(overlay);

        Assert.Equal(["qwen-chat"], options.Services.Select(s => s.Name));
        Assert.All(options.Services[0].Pools, pool => Assert.NotNull(pool.Kubernetes));
        // Every overlay names the same pools, so the dashboard, the alerts and KEDA's query read the same series.
        Assert.Equal(["on-prem", "cloud-elastic"], options.Services[0].Pools.Select(p => p.Name));
    }

    [Theory]
    [MemberData(nameof(Gateways))]
    public void Rbac_IsExactlyWhatTheOverlaysConfigurationNeeds(string overlay)
    {
        var options = Overlays.Configuration(overlay);
        var objects = Overlays.Objects(overlay);
        var gatewayNamespace = Overlays.Single(overlay, "Deployment", "inference-gateway").Namespace;

        var (namespaced, cluster) = Needed(options);

        var roles = objects.Where(o => o.Kind == "Role").Select(o => o.As<V1Role>()).ToList();
        var clusterRoles = objects.Where(o => o.Kind == "ClusterRole").Select(o => o.As<V1ClusterRole>()).ToList();
        Assert.Equal(namespaced, Grants(roles.SelectMany(r => r.Rules)));
        Assert.Equal(cluster, Grants(clusterRoles.SelectMany(r => r.Rules)));

        // Each role sits where the models are and is bound to the gateway's ServiceAccount, in the gateway's namespace.
        var modelNamespaces = options.Services.SelectMany(s => s.Pools).Select(p => p.Kubernetes!.Namespace).Distinct().ToArray();
        Assert.All(roles, role => Assert.Equal(modelNamespaces, new[] { role.Metadata.NamespaceProperty }));
        var bindings = objects.Where(o => o.Kind == "RoleBinding").Select(o => o.As<V1RoleBinding>()).ToList();
        var clusterBindings = objects.Where(o => o.Kind == "ClusterRoleBinding").Select(o => o.As<V1ClusterRoleBinding>()).ToList();
        Assert.Equal(roles.Select(r => r.Metadata.Name).Order(StringComparer.Ordinal), bindings.Select(b => b.RoleRef.Name).Order(StringComparer.Ordinal));
        Assert.Equal(clusterRoles.Select(r => r.Metadata.Name).Order(StringComparer.Ordinal), clusterBindings.Select(b => b.RoleRef.Name).Order(StringComparer.Ordinal));
        var serviceAccount = Overlays.Gateway(overlay).Spec.Template.Spec.ServiceAccountName;
        Assert.All(
            bindings.SelectMany(b => b.Subjects).Concat(clusterBindings.SelectMany(b => b.Subjects)),
            subject => Assert.Equal(("ServiceAccount", serviceAccount, gatewayNamespace), (subject.Kind, subject.Name, subject.NamespaceProperty)));
    }

    /// <summary>What the gateway calls with this configuration (each call is exercised against the fake API server in this project's other tests).</summary>
    private static (string[] Namespaced, string[] Cluster) Needed(GatewayOptions options)
    {
        var namespaced = new SortedSet<string>(StringComparer.Ordinal);
        var cluster = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var pool in options.Services.SelectMany(s => s.Pools))
        {
            if (pool.Kubernetes is not { } source)
            {
                continue;
            }

            namespaced.UnionWith(["discovery.k8s.io endpointslices list *", "discovery.k8s.io endpointslices watch *"]);
            (source.LabelOn == KubernetesLabelTarget.Node ? cluster : namespaced).Add(source.LabelOn == KubernetesLabelTarget.Node ? "core nodes get *" : "core pods get *");
            if (pool.Scaling?.Kubernetes is { } target)
            {
                namespaced.UnionWith(target.Kind == KubernetesScaleTargetKind.Deployment
                    ? [$"apps deployments/scale patch {target.Name}"]
                    : [$"serving.kserve.io inferenceservices get {target.Name}", $"serving.kserve.io inferenceservices patch {target.Name}"]);
                if (target.SetPodDeletionCost)
                {
                    namespaced.Add("core pods patch *");
                }
            }
        }

        if (options.Kubernetes.LeaderElection.Enabled)
        {
            var lease = options.Kubernetes.LeaderElection.LeaseName;
            namespaced.UnionWith([$"coordination.k8s.io leases get {lease}", $"coordination.k8s.io leases update {lease}", "coordination.k8s.io leases create *"]);
        }

        return ([.. namespaced], [.. cluster]);
    }

    /// <summary>Every (group, resource, verb, name) a set of rules grants, sorted, repeats kept: a grant given twice is a mistake too.</summary>
    private static string[] Grants(IEnumerable<V1PolicyRule> rules) =>
        [.. (from rule in rules
             from apiGroup in rule.ApiGroups
             from resource in rule.Resources
             from verb in rule.Verbs
             from name in rule.ResourceNames is { Count: > 0 } names ? names : ["*"]
             select $"{(apiGroup.Length == 0 ? "core" : apiGroup)} {resource} {verb} {name}").Order(StringComparer.Ordinal)];
}

using Gateway.Configuration;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Configuration;

namespace Gateway.Kubernetes.Tests;

/// <summary>
/// The manifests in <c>deploy/kubernetes</c> agree with the code: the ConfigMap's configuration starts a gateway, the
/// RBAC grants exactly the calls the gateway makes (each one is exercised against the fake API server in the other
/// tests of this project), and the probes hit the admin listener.
/// </summary>
public sealed class DeployManifestsTests
{
    private static readonly string Folder = Path.Combine(RepositoryRoot(), "deploy", "kubernetes");

    [Fact]
    public void GatewayJson_OfTheConfigMap_IsAValidConfigurationOfKubernetesPools()
    {
        var configuration = new ConfigurationBuilder().AddJsonFile(Path.Combine(Folder, "gateway.json")).Build();

        var options = GatewayConfiguration.Load(configuration);

        Assert.True(options.Kubernetes.LeaderElection.Enabled);
        var pools = options.Services[0].Pools;
        Assert.All(pools, pool => Assert.NotNull(pool.Kubernetes));
        Assert.Equal((KubernetesScaleTargetKind.Deployment, "qwen-vllm-cloud"), (pools[1].Scaling!.Kubernetes!.Kind, pools[1].Scaling!.Kubernetes!.Name));
    }

    [Fact]
    public void AdminToken_IsReadFromTheSecretTheDeploymentMounts()
    {
        var options = GatewayConfiguration.Load(new ConfigurationBuilder().AddJsonFile(Path.Combine(Folder, "gateway.json")).Build());
        var pod = KubernetesYaml.Deserialize<V1Deployment>(File.ReadAllText(Path.Combine(Folder, "deployment.yaml"))).Spec.Template.Spec;

        // The admin listener binds every address of the pod, so it must have a token, and not by AllowAnonymous.
        Assert.Equal(("http://0.0.0.0:9090", "/etc/gateway-admin/token", null, false), (options.AdminUrl, options.Admin.TokenFile, options.Admin.TokenEnv, options.Admin.AllowAnonymous));
        var mount = Assert.Single(Assert.Single(pod.Containers).VolumeMounts, m => m.MountPath == Path.GetDirectoryName(options.Admin.TokenFile));
        Assert.True(mount.ReadOnlyProperty);
        var secret = Assert.Single(pod.Volumes, v => v.Name == mount.Name).Secret;
        Assert.Equal("inference-gateway-admin", secret.SecretName);
        var item = Assert.Single(secret.Items);
        Assert.Equal(("token", Path.GetFileName(options.Admin.TokenFile)), (item.Key, item.Path));
    }

    [Fact]
    public void Rbac_GrantsExactlyTheCallsTheGatewayMakes_OnTheObjectsItsConfigurationNames()
    {
        var objects = KubernetesYaml.LoadAllFromString(File.ReadAllText(Path.Combine(Folder, "rbac.yaml")));
        var options = GatewayConfiguration.Load(new ConfigurationBuilder().AddJsonFile(Path.Combine(Folder, "gateway.json")).Build());

        // What the configuration asks the gateway to touch by name: its scale targets and its Lease.
        var named = new List<string>();
        foreach (var pool in options.Services.SelectMany(s => s.Pools))
        {
            if (pool.Scaling?.Kubernetes is { } target)
            {
                named.AddRange(target.Kind == KubernetesScaleTargetKind.Deployment
                    ? [$"apps deployments/scale patch {target.Name}"]
                    : [$"serving.kserve.io inferenceservices get {target.Name}", $"serving.kserve.io inferenceservices patch {target.Name}"]);
            }
        }

        var lease = options.Kubernetes.LeaderElection.LeaseName;
        named.AddRange([$"coordination.k8s.io leases get {lease}", $"coordination.k8s.io leases update {lease}"]);

        string[] unnamed =
        [
            "coordination.k8s.io leases create *",
            "core pods get *",
            "core pods patch *",
            "discovery.k8s.io endpointslices list *",
            "discovery.k8s.io endpointslices watch *",
        ];
        var role = Assert.Single(objects.OfType<V1Role>());
        Assert.Equal([.. named.Concat(unnamed).Order(StringComparer.Ordinal)], Grants(role.Rules));
        Assert.Equal(["core nodes get *"], Grants(Assert.Single(objects.OfType<V1ClusterRole>()).Rules));
        Assert.All(objects.OfType<V1RoleBinding>(), binding => Assert.Equal("inference-gateway", Assert.Single(binding.Subjects).Name));
        Assert.All(objects.OfType<V1ClusterRoleBinding>(), binding => Assert.Equal("inference-gateway", Assert.Single(binding.Subjects).Name));
    }

    [Fact]
    public void Deployment_ProbesTheAdminListenerAndNamesThePodForTheLease()
    {
        var deployment = KubernetesYaml.Deserialize<V1Deployment>(File.ReadAllText(Path.Combine(Folder, "deployment.yaml")));

        var container = Assert.Single(deployment.Spec.Template.Spec.Containers);
        Assert.Equal(("/readyz", "admin"), (container.ReadinessProbe.HttpGet.Path, container.ReadinessProbe.HttpGet.Port.Value));
        Assert.Equal(("/healthz", "admin"), (container.LivenessProbe.HttpGet.Path, container.LivenessProbe.HttpGet.Port.Value));
        Assert.Equal(9090, container.Ports.Single(p => p.Name == "admin").ContainerPort);
        Assert.Equal("metadata.name", container.Env.Single(e => e.Name == "POD_NAME").ValueFrom.FieldRef.FieldPath);
        Assert.Equal("inference-gateway", deployment.Spec.Template.Spec.ServiceAccountName);
        Assert.Equal(2, deployment.Spec.Replicas);
    }

    [Fact]
    public void Deployment_GracePeriod_OutlastsThePreStopWaitTheDrainAndTheStop()
    {
        var deployment = KubernetesYaml.Deserialize<V1Deployment>(File.ReadAllText(Path.Combine(Folder, "deployment.yaml")));
        var options = GatewayConfiguration.Load(new ConfigurationBuilder().AddJsonFile(Path.Combine(Folder, "gateway.json")).Build());

        var pod = deployment.Spec.Template.Spec;
        var preStop = Assert.Single(pod.Containers).Lifecycle.PreStop.Sleep.Seconds;
        Assert.Equal(5, preStop);

        // What the gateway itself takes after SIGTERM: the drain, then the host's stop of the rest (10 s, no Process pools here).
        var gatewayStop = options.DrainTimeoutSeconds + 10;
        Assert.True(pod.TerminationGracePeriodSeconds >= preStop + gatewayStop + 10,
            $"terminationGracePeriodSeconds {pod.TerminationGracePeriodSeconds} leaves no margin over {preStop} s preStop + {gatewayStop} s stop");
    }

    [Fact]
    public void DisruptionBudgetAndNetworkPolicy_KeepAReplicaUp_AndOpenTheAdminPortOnlyToMonitoring()
    {
        var kustomization = File.ReadAllText(Path.Combine(Folder, "kustomization.yaml"));
        Assert.Contains("  - pdb.yaml\n", kustomization, StringComparison.Ordinal);
        Assert.Contains("  - networkpolicy.yaml\n", kustomization, StringComparison.Ordinal);

        var budget = KubernetesYaml.Deserialize<V1PodDisruptionBudget>(File.ReadAllText(Path.Combine(Folder, "pdb.yaml")));
        Assert.Equal("1", budget.Spec.MaxUnavailable.Value);
        Assert.Equal("inference-gateway", budget.Spec.Selector.MatchLabels["app.kubernetes.io/name"]);

        var policy = KubernetesYaml.Deserialize<V1NetworkPolicy>(File.ReadAllText(Path.Combine(Folder, "networkpolicy.yaml")));
        var rules = policy.Spec.Ingress;
        Assert.Equal(2, rules.Count);
        Assert.Null(rules[0].FromProperty);
        Assert.Equal("http", Assert.Single(rules[0].Ports).Port.Value);
        Assert.Equal("admin", Assert.Single(rules[1].Ports).Port.Value);
        Assert.Equal("monitoring", Assert.Single(rules[1].FromProperty).NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"]);
    }

    private static string[] Grants(IEnumerable<V1PolicyRule> rules) =>
        [.. (from rule in rules
             from apiGroup in rule.ApiGroups
             from resource in rule.Resources
             from verb in rule.Verbs
             from name in rule.ResourceNames is { Count: > 0 } names ? names : ["*"]
             select $"{(apiGroup.Length == 0 ? "core" : apiGroup)} {resource} {verb} {name}").Order(StringComparer.Ordinal)];

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Gateway.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException("Gateway.sln not found above " + AppContext.BaseDirectory);
    }
}

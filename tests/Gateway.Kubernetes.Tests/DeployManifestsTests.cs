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
    public void Rbac_GrantsExactlyTheCallsTheGatewayMakes()
    {
        var objects = KubernetesYaml.LoadAllFromString(File.ReadAllText(Path.Combine(Folder, "rbac.yaml")));

        var role = Assert.Single(objects.OfType<V1Role>());
        Assert.Equal(
            [
                "apps deployments/scale patch",
                "coordination.k8s.io leases create",
                "coordination.k8s.io leases get",
                "coordination.k8s.io leases update",
                "core pods get",
                "core pods patch",
                "discovery.k8s.io endpointslices list",
                "discovery.k8s.io endpointslices watch",
                "serving.kserve.io inferenceservices get",
                "serving.kserve.io inferenceservices patch",
            ],
            Grants(role.Rules));
        Assert.Equal(["core nodes get"], Grants(Assert.Single(objects.OfType<V1ClusterRole>()).Rules));
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

    private static string[] Grants(IEnumerable<V1PolicyRule> rules) =>
        [.. (from rule in rules
             from apiGroup in rule.ApiGroups
             from resource in rule.Resources
             from verb in rule.Verbs
             select $"{(apiGroup.Length == 0 ? "core" : apiGroup)} {resource} {verb}").Order(StringComparer.Ordinal)];

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

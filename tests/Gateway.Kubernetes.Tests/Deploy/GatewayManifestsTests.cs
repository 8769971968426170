using k8s.Models;

namespace Gateway.Kubernetes.Tests.Deploy;

/// <summary>
/// The gateway's own objects (<c>deploy/kubernetes/base</c>, as every overlay renders them) agree with its code: the
/// admin token comes from the Secret the Deployment mounts, the probes hit the admin listener, the grace period covers
/// the drain, and disruptions and the network leave the front door open. (Each overlay's configuration and RBAC:
/// <see cref="OverlayTests"/>.)
/// </summary>
public sealed class GatewayManifestsTests
{
    public static TheoryData<string> Gateways => [.. Overlays.Gateways];

    [Theory]
    [MemberData(nameof(Gateways))]
    public void AdminToken_IsReadFromTheSecretTheDeploymentMounts(string overlay)
    {
        var options = Overlays.Configuration(overlay);
        var pod = Overlays.Gateway(overlay).Spec.Template.Spec;

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
    public void Deployment_ProbesTheAdminListenerAndNamesThePodForTheLease()
    {
        var deployment = Overlays.Gateway(Overlays.Base);

        var container = Assert.Single(deployment.Spec.Template.Spec.Containers);
        Assert.Equal(("/readyz", "admin"), (container.ReadinessProbe.HttpGet.Path, container.ReadinessProbe.HttpGet.Port.Value));
        Assert.Equal(("/healthz", "admin"), (container.LivenessProbe.HttpGet.Path, container.LivenessProbe.HttpGet.Port.Value));
        Assert.Equal(9090, container.Ports.Single(p => p.Name == "admin").ContainerPort);
        Assert.Equal("metadata.name", container.Env.Single(e => e.Name == "POD_NAME").ValueFrom.FieldRef.FieldPath);
        Assert.Equal("inference-gateway", deployment.Spec.Template.Spec.ServiceAccountName);
        Assert.Equal(2, deployment.Spec.Replicas);
    }

    [Theory]
    [MemberData(nameof(Gateways))]
    public void Deployment_GracePeriod_OutlastsThePreStopWaitTheDrainAndTheStop(string overlay)
    {
        var deployment = Overlays.Gateway(overlay);
        var options = Overlays.Configuration(overlay);

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
        var budget = Overlays.Single(Overlays.Base, "PodDisruptionBudget").As<V1PodDisruptionBudget>();
        Assert.Equal("1", budget.Spec.MaxUnavailable.Value);
        Assert.Equal("inference-gateway", budget.Spec.Selector.MatchLabels["app.kubernetes.io/name"]);

        var policy = Overlays.Single(Overlays.Base, "NetworkPolicy").As<V1NetworkPolicy>();
        var rules = policy.Spec.Ingress;
        Assert.Equal(2, rules.Count);
        Assert.Null(rules[0].FromProperty);
        Assert.Equal("http", Assert.Single(rules[0].Ports).Port.Value);
        Assert.Equal("admin", Assert.Single(rules[1].Ports).Port.Value);
        Assert.Equal("monitoring", Assert.Single(rules[1].FromProperty).NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"]);
    }
}

using System.Globalization;
using System.Text.Json.Nodes;
using Gateway.Configuration;
using k8s.Models;
using YamlDotNet.RepresentationModel;

namespace Gateway.Kubernetes.Tests.Deploy;

/// <summary>What each overlay is for: the seed's own objects (ack-edge), plain Deployments, KEDA, and the monitoring.</summary>
public sealed class VariantTests
{
    // The seed's objects, as its guide writes them (arena serve kserve, the ResourcePolicy, the curl and hey Host).
    private const string SeedName = "qwen-chat";
    private const string SeedNamespace = "default";
    private const string SeedHost = "qwen-chat-default.example.com";
    private const string SeedImage = "kube-ai-registry.cn-shanghai.cr.aliyuncs.com/kube-ai/vllm:0.4.1";
    private const string SeedCommand =
        "python3 -m vllm.entrypoints.openai.api_server --port 8080 --trust-remote-code --served-model-name qwen --model /mnt/models/Qwen " +
        "--gpu-memory-utilization 0.95 --quantization gptq --max-model-len=6144";

    [Fact]
    public void AckEdge_SideBySideWithTheSeed_SameNamesNamespaceHostAndModelFlags()
    {
        var options = Overlays.Configuration(Overlays.AckEdge);
        var service = options.Services[0];
        var isvc = Overlays.Single(Overlays.AckEdge, "InferenceService");
        var predictor = isvc.Json["spec"]!["predictor"]!;
        var container = Assert.Single(predictor["containers"]!.AsArray())!;

        Assert.Equal((SeedName, SeedNamespace), (isvc.Name, isvc.Namespace));
        Assert.Equal(SeedHost, $"{service.Name}-{service.Namespace}.{options.Domain}");
        Assert.Equal(("1", "3"), ((string?)predictor["minReplicas"], (string?)predictor["maxReplicas"]));
        Assert.Equal(SeedImage, (string?)container["image"]);
        Assert.Equal(("1", "4", "12Gi"), ((string?)container["resources"]!["requests"]!["nvidia.com/gpu"], (string?)container["resources"]!["requests"]!["cpu"], (string?)container["resources"]!["requests"]!["memory"]));
        Assert.Equal("/mnt/models/Qwen", (string?)Assert.Single(container["volumeMounts"]!.AsArray())!["mountPath"]);

        // The seed's command and flags exactly, plus the batch size the gateway plans with.
        var command = container["command"]!.AsArray().Concat(container["args"]!.AsArray()).Select(n => (string)n!).ToArray();
        var seed = SeedCommand.Split(' ');
        Assert.Equal(seed[..3], command[..3]);
        Assert.Equal(
            [.. Flags(seed[3..]), ("--max-num-seqs", service.Pools[1].CapacityPerReplica.ToString(CultureInfo.InvariantCulture))],
            Flags(command[3..]));
        Assert.Contains(Flags(command[3..]).Single(f => f.Flag == "--served-model-name").Value, service.Models);

        // The gateway finds the predictor's pods through KServe's Service and scales the InferenceService's floor, up to
        // its maximum less the on-prem replica (the floor counts that one too), without the deletion cost the ResourcePolicy forbids.
        Assert.Equal("RawDeployment", (string?)isvc.Json["metadata"]!["annotations"]!["serving.kserve.io/deploymentMode"]);
        Assert.All(service.Pools, pool => Assert.Equal((SeedNamespace, $"{SeedName}-predictor"), (pool.Kubernetes!.Namespace, pool.Kubernetes.ServiceName)));
        var target = service.Pools[1].Scaling!.Kubernetes!;
        Assert.Equal((KubernetesScaleTargetKind.InferenceService, SeedName, false), (target.Kind, target.Name, target.SetPodDeletionCost));
        Assert.Equal(2, service.Pools[1].Scaling!.MaxReplicas);

        // The ResourcePolicy: the seed's name, strategy and unit order, on the node pools the gateway's pools are told apart by.
        var policy = Overlays.Single(Overlays.AckEdge, "ResourcePolicy");
        Assert.Equal((SeedName, SeedNamespace, "prefer"), (policy.Name, policy.Namespace, (string?)policy.Json["spec"]!["strategy"]));
        Assert.Equal($"isvc.{SeedName}-predictor", (string?)policy.Json["spec"]!["selector"]!["app"]);
        Assert.Equal(
            service.Pools.OrderBy(p => p.Priority).Select(p => ($"{p.Kubernetes!.PoolLabel}={p.Kubernetes.PoolLabelValue}", p.Priority == 0 ? "ecs" : "elastic")),
            policy.Json["spec"]!["units"]!.AsArray().Select(u => (string.Join(',', u!["nodeSelector"]!.AsObject().Select(l => $"{l.Key}={l.Value}")), (string)u["resource"]!)));
    }

    [Fact]
    public void VllmDeployments_OnePerNodePoolBehindOneService_TheCloudOneFromZeroScaledByTheGateway()
    {
        var options = Overlays.Configuration(Overlays.VllmDeployments);
        var pools = options.Services[0].Pools;
        var objects = Overlays.Objects(Overlays.VllmDeployments);
        var service = Overlays.Single(Overlays.VllmDeployments, "Service", "qwen-vllm").As<V1Service>();
        var deployments = objects.Where(o => o.Kind == "Deployment" && o.Name.StartsWith("qwen-vllm", StringComparison.Ordinal)).Select(o => o.As<V1Deployment>()).ToList();

        Assert.All(pools, pool => Assert.Equal((service.Metadata.Name, "http"), (pool.Kubernetes!.ServiceName, pool.Kubernetes.Port)));
        Assert.Equal("http", Assert.Single(service.Spec.Ports).Name);
        var target = pools[1].Scaling!.Kubernetes!;
        Assert.Equal((KubernetesScaleTargetKind.Deployment, "qwen-vllm-cloud", true), (target.Kind, target.Name, target.SetPodDeletionCost));

        // One Deployment per pool, pinned to the pool's node pool; only the cloud one tolerates the elastic pool's taint.
        Assert.Equal(pools.Count, deployments.Count);
        foreach (var pool in pools)
        {
            var deployment = Assert.Single(deployments, d => d.Spec.Template.Spec.NodeSelector[pool.Kubernetes!.PoolLabel] == pool.Kubernetes.PoolLabelValue);
            var pod = deployment.Spec.Template.Spec;
            Assert.All(service.Spec.Selector, label => Assert.Equal(label.Value, pod is null ? null : deployment.Spec.Template.Metadata.Labels[label.Key]));
            var vllm = Assert.Single(pod.Containers);
            Assert.Equal("1", vllm.Resources.Requests["nvidia.com/gpu"].ToString());
            Assert.Equal(("/health", "/health"), (vllm.ReadinessProbe.HttpGet.Path, vllm.StartupProbe.HttpGet.Path));
            Assert.True(vllm.StartupProbe.PeriodSeconds * vllm.StartupProbe.FailureThreshold >= 600, "the startup probe must allow 10 minutes of model load");
            Assert.Contains("--max-model-len=6144", vllm.Args);
            Assert.Contains("--served-model-name=qwen", vllm.Args);
            Assert.Contains($"--max-num-seqs={pool.CapacityPerReplica}", vllm.Args);
            if (pool.Scaling is null)
            {
                Assert.Null(pod.Tolerations);
            }
            else
            {
                Assert.Equal((target.Name, 0), (deployment.Metadata.Name, deployment.Spec.Replicas));
                Assert.Equal(("gpu-pool", "cloud-elastic", "NoSchedule"), (Assert.Single(pod.Tolerations).Key, pod.Tolerations[0].Value, pod.Tolerations[0].Effect));
            }
        }
    }

    [Fact]
    public void Keda_ScalesTheCloudDeploymentFromZeroOnTheGatewaysMetrics_AndTheGatewayScalesNothing()
    {
        var options = Overlays.Configuration(Overlays.Keda);
        var service = options.Services[0];
        var scaled = Overlays.Single(Overlays.Keda, "ScaledObject").Json["spec"]!;
        var trigger = Assert.Single(scaled["triggers"]!.AsArray())!;

        Assert.All(service.Pools, pool => Assert.Null(pool.Scaling));
        Assert.False(options.Kubernetes.LeaderElection.Enabled);
        var target = (string)scaled["scaleTargetRef"]!["name"]!;
        Assert.Equal(0, Overlays.Single(Overlays.Keda, "Deployment", target).As<V1Deployment>().Spec.Replicas);
        Assert.Equal(("0", "0"), ((string?)scaled["minReplicaCount"], (string?)trigger["metadata"]!["activationThreshold"]));

        // Cloud demand over ready on-prem slots, per cloud replica's slots at the service's target utilisation.
        var query = (string)trigger["metadata"]!["query"]!;
        Assert.Contains($"gateway_service_demand{{service=\"{service.Name}\"}}", query, StringComparison.Ordinal);
        Assert.Contains($"gateway_pool_capacity{{service=\"{service.Name}\", pool=\"{service.Pools[0].Name}\"}}", query, StringComparison.Ordinal);
        Assert.Equal(service.Pools[1].CapacityPerReplica * service.TargetUtilization, double.Parse((string)trigger["metadata"]!["threshold"]!, CultureInfo.InvariantCulture), 6);
    }

    [Fact]
    public void Monitoring_ScrapesTheAdminPort_AndCarriesTheAlertRulesAndTheDashboardAsTheyAre()
    {
        var gateway = Overlays.Gateway(Overlays.Base);
        var monitor = Overlays.Single(Overlays.Monitoring, "PodMonitor").Json["spec"]!;
        var endpoint = Assert.Single(monitor["podMetricsEndpoints"]!.AsArray())!;

        Assert.Equal(9090, Assert.Single(gateway.Spec.Template.Spec.Containers).Ports.Single(p => p.Name == (string?)endpoint["port"]).ContainerPort);
        Assert.Equal("/metrics", (string?)endpoint["path"]);
        Assert.Equal(gateway.Spec.Selector.MatchLabels["app.kubernetes.io/name"], (string?)monitor["selector"]!["matchLabels"]!["app.kubernetes.io/name"]);
        Assert.Equal([gateway.Metadata.NamespaceProperty ?? Overlays.Single(Overlays.Base, "Deployment").Namespace], monitor["namespaceSelector"]!["matchNames"]!.AsArray().Select(n => (string?)n));

        // The rules: deploy/prometheus/gateway-alerts.yaml's groups (kustomize cannot wrap a file in an object, so the
        // PrometheusRule holds a copy, and this says when the copy is stale).
        var rules = new YamlStream();
        rules.Load(new StringReader(File.ReadAllText(Path.Combine(Overlays.RepositoryRoot, "deploy", "prometheus", "gateway-alerts.yaml"))));
        var expected = RenderedObject.ToJson(rules.Documents[0].RootNode)!["groups"]!;
        var rule = Overlays.Single(Overlays.Monitoring, "PrometheusRule");
        Assert.True(
            JsonNode.DeepEquals(expected, rule.Json["spec"]!["groups"]),
            "deploy/kubernetes/monitoring/prometheusrule.yaml differs from deploy/prometheus/gateway-alerts.yaml: copy the groups again with the command in its header");
        Assert.Equal("monitoring", rule.Namespace);

        // The dashboard: the file itself, labelled for the Grafana sidecar.
        var dashboard = Overlays.Single(Overlays.Monitoring, "ConfigMap").As<V1ConfigMap>();
        Assert.Equal("1", dashboard.Metadata.Labels["grafana_dashboard"]);
        Assert.Equal(
            File.ReadAllText(Path.Combine(Overlays.RepositoryRoot, "deploy", "grafana", "gateway-dashboard.json")).TrimEnd(),
            dashboard.Data["gateway-dashboard.json"].TrimEnd());
    }

    /// <summary>Command-line flags as (flag, value) pairs, whether written <c>--flag value</c> or <c>--flag=value</c>.</summary>
    private static (string Flag, string Value)[] Flags(string[] words)
    {
        var flags = new List<(string, string)>();
        for (var i = 0; i < words.Length; i++)
        {
            var word = words[i];
            Assert.StartsWith("--", word, StringComparison.Ordinal);
            if (word.IndexOf('=', StringComparison.Ordinal) is var equals and > 0)
            {
                flags.Add((word[..equals], word[(equals + 1)..]));
            }
            else if (i + 1 < words.Length && !words[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                flags.Add((word, words[++i]));
            }
            else
            {
                flags.Add((word, ""));
            }
        }

        return [.. flags];
    }
}

using k8s.Models;

namespace Gateway.Kubernetes.Tests.Deploy;

/// <summary>
/// The custom resources the overlays use, with the fields their vendors document (REFERENCES.md in the project's notes
/// lists the sources): a field the manifests use that is not here is a typo or belongs to another version, and fails.
/// Add a field here only with its documentation at hand.
/// </summary>
internal static class CustomResources
{
    /// <summary>ACK's priority scheduling policy (scheduling.alibabacloud.com/v1alpha1).</summary>
    public static readonly CustomResourceSchema ResourcePolicy = new(
        "scheduling.alibabacloud.com/v1alpha1",
        "ResourcePolicy",
        [
            "spec.selector", "spec.selector.*", "spec.strategy", "spec.units",
            "spec.units[].resource", "spec.units[].nodeSelector", "spec.units[].nodeSelector.*", "spec.units[].max",
            "spec.units[].podLabels", "spec.units[].podLabels.*", "spec.units[].podAnnotations", "spec.units[].podAnnotations.*",
            "spec.preemptPolicy", "spec.ignorePreviousPod", "spec.ignoreTerminatingPod", "spec.matchLabelKeys",
            "spec.whenTryNextUnits", "spec.whenTryNextUnits.policy", "spec.whenTryNextUnits.timeout",
        ],
        values: new()
        {
            ["spec.strategy"] = ["prefer"],
            ["spec.units[].resource"] = ["ecs", "elastic", "eci"],
        });

    /// <summary>
    /// KServe's InferenceService (serving.kserve.io/v1beta1): a predictor is the component extension's fields, a
    /// model, and everything else a pod spec's (containers, volumes, tolerations...), checked as <see cref="V1PodSpec"/>.
    /// </summary>
    public static readonly CustomResourceSchema InferenceService = new(
        "serving.kserve.io/v1beta1",
        "InferenceService",
        [
            "spec.predictor",
            "spec.predictor.minReplicas", "spec.predictor.maxReplicas", "spec.predictor.scaleTarget", "spec.predictor.scaleMetric",
            "spec.predictor.scaleMetricType", "spec.predictor.containerConcurrency", "spec.predictor.timeout",
            "spec.predictor.canaryTrafficPercent", "spec.predictor.labels", "spec.predictor.labels.*",
            "spec.predictor.annotations", "spec.predictor.annotations.*", "spec.predictor.deploymentStrategy",
            "spec.predictor.model", "spec.predictor.model.modelFormat", "spec.predictor.model.modelFormat.name",
            "spec.predictor.model.modelFormat.version", "spec.predictor.model.runtime", "spec.predictor.model.storageUri",
            "spec.predictor.model.protocolVersion",
        ],
        typed: new() { ["spec.predictor.deploymentStrategy"] = typeof(V1DeploymentStrategy) },
        typedRest: new() { ["spec.predictor"] = typeof(V1PodSpec), ["spec.predictor.model"] = typeof(V1Container) },
        values: new() { ["spec.predictor.scaleMetric"] = ["cpu", "memory", "concurrency", "rps"] });

    /// <summary>KEDA's ScaledObject (keda.sh/v1alpha1), with the prometheus trigger's metadata.</summary>
    public static readonly CustomResourceSchema ScaledObject = new(
        "keda.sh/v1alpha1",
        "ScaledObject",
        [
            "spec.scaleTargetRef", "spec.scaleTargetRef.name", "spec.scaleTargetRef.kind", "spec.scaleTargetRef.apiVersion",
            "spec.scaleTargetRef.envSourceContainerName", "spec.pollingInterval", "spec.cooldownPeriod", "spec.initialCooldownPeriod",
            "spec.idleReplicaCount", "spec.minReplicaCount", "spec.maxReplicaCount",
            "spec.fallback", "spec.fallback.failureThreshold", "spec.fallback.replicas",
            "spec.advanced", "spec.advanced.restoreToOriginalReplicaCount", "spec.advanced.horizontalPodAutoscalerConfig",
            "spec.advanced.horizontalPodAutoscalerConfig.name", "spec.advanced.horizontalPodAutoscalerConfig.behavior",
            "spec.triggers", "spec.triggers[].type", "spec.triggers[].name", "spec.triggers[].metricType", "spec.triggers[].useCachedMetrics",
            "spec.triggers[].authenticationRef", "spec.triggers[].authenticationRef.name", "spec.triggers[].authenticationRef.kind",
            "spec.triggers[].metadata", "spec.triggers[].metadata.serverAddress", "spec.triggers[].metadata.query",
            "spec.triggers[].metadata.threshold", "spec.triggers[].metadata.activationThreshold", "spec.triggers[].metadata.namespace",
            "spec.triggers[].metadata.customHeaders", "spec.triggers[].metadata.ignoreNullValues", "spec.triggers[].metadata.queryParameters",
            "spec.triggers[].metadata.unsafeSsl", "spec.triggers[].metadata.authModes",
        ],
        typed: new() { ["spec.advanced.horizontalPodAutoscalerConfig.behavior"] = typeof(V2HorizontalPodAutoscalerBehavior) },
        values: new()
        {
            ["spec.triggers[].type"] = ["prometheus"],
            ["spec.triggers[].metricType"] = ["AverageValue", "Value", "Utilization"],
        });

    /// <summary>The Prometheus Operator's PodMonitor (monitoring.coreos.com/v1).</summary>
    public static readonly CustomResourceSchema PodMonitor = new(
        "monitoring.coreos.com/v1",
        "PodMonitor",
        [
            "spec.selector", "spec.namespaceSelector", "spec.namespaceSelector.any", "spec.namespaceSelector.matchNames",
            "spec.jobLabel", "spec.podTargetLabels", "spec.sampleLimit",
            "spec.podMetricsEndpoints", "spec.podMetricsEndpoints[].port", "spec.podMetricsEndpoints[].path",
            "spec.podMetricsEndpoints[].interval", "spec.podMetricsEndpoints[].scrapeTimeout", "spec.podMetricsEndpoints[].scheme",
            "spec.podMetricsEndpoints[].honorLabels", "spec.podMetricsEndpoints[].honorTimestamps",
        ],
        typed: new() { ["spec.selector"] = typeof(V1LabelSelector) });

    /// <summary>The Prometheus Operator's ServiceMonitor (monitoring.coreos.com/v1).</summary>
    public static readonly CustomResourceSchema ServiceMonitor = new(
        "monitoring.coreos.com/v1",
        "ServiceMonitor",
        [
            "spec.selector", "spec.namespaceSelector", "spec.namespaceSelector.any", "spec.namespaceSelector.matchNames",
            "spec.jobLabel", "spec.targetLabels", "spec.sampleLimit",
            "spec.endpoints", "spec.endpoints[].port", "spec.endpoints[].path", "spec.endpoints[].interval",
            "spec.endpoints[].scrapeTimeout", "spec.endpoints[].scheme", "spec.endpoints[].honorLabels",
        ],
        typed: new() { ["spec.selector"] = typeof(V1LabelSelector) });

    /// <summary>The Prometheus Operator's PrometheusRule (monitoring.coreos.com/v1): a rules file's groups under spec.</summary>
    public static readonly CustomResourceSchema PrometheusRule = new(
        "monitoring.coreos.com/v1",
        "PrometheusRule",
        [
            "spec.groups", "spec.groups[].name", "spec.groups[].interval", "spec.groups[].limit", "spec.groups[].partial_response_strategy",
            "spec.groups[].rules", "spec.groups[].rules[].alert", "spec.groups[].rules[].record", "spec.groups[].rules[].expr",
            "spec.groups[].rules[].for", "spec.groups[].rules[].keep_firing_for", "spec.groups[].rules[].labels",
            "spec.groups[].rules[].labels.*", "spec.groups[].rules[].annotations", "spec.groups[].rules[].annotations.*",
        ]);

    private static readonly CustomResourceSchema[] All = [ResourcePolicy, InferenceService, ScaledObject, PodMonitor, ServiceMonitor, PrometheusRule];

    /// <summary>The schema of a custom resource the overlays may use, or null for any other kind.</summary>
    public static CustomResourceSchema? Find(string apiVersion, string kind) =>
        All.FirstOrDefault(s => s.ApiVersion == apiVersion && s.Kind == kind);

    /// <summary>Whether <paramref name="apiVersion"/> belongs to a custom resource's group (a kind there not in the list is an error, not a built-in).</summary>
    public static bool IsCustomGroup(string apiVersion) =>
        All.Any(s => s.ApiVersion[..s.ApiVersion.IndexOf('/', StringComparison.Ordinal)] == apiVersion.Split('/')[0]);
}

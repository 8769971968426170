using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Configuration;
using Gateway.Model;
using Gateway.Providers;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Gateway.Kubernetes;

/// <summary>
/// Scales an elastic pool by patching a Kubernetes object; the pods that follow reach the pool through its
/// Kubernetes source. Every call writes the absolute count the controller wants (a merge patch of one number), so
/// asking twice for the same count writes the same value twice and never adds twice.
/// </summary>
/// <remarks>
/// <para>
/// A <see cref="KubernetesScaleTargetKind.Deployment"/> is scaled through its <c>scale</c> subresource: the gateway
/// owns its replica count, so the Deployment must not also have an HPA.
/// </para>
/// <para>
/// A KServe <see cref="KubernetesScaleTargetKind.InferenceService"/> keeps its autoscaler: the gateway moves only the
/// floor, <c>spec.predictor.minReplicas</c>, which counts the InferenceService's pods in other pools too (see
/// <see cref="KubernetesReplicaProvider.PodsInOtherPools"/>). Scaling out raises the floor to the count wanted (never lowers it);
/// scaling in lowers it by the replica given back (never raises it), so replicas the HPA added above the floor for
/// its own reasons stay the HPA's to remove. The HPA can always go above the floor; the gateway never writes
/// <c>maxReplicas</c> or the replica count.
/// </para>
/// <para>
/// On scale-in the drained replica's pod gets the annotation <c>controller.kubernetes.io/pod-deletion-cost</c> =
/// <see cref="DeletionCost"/> before the count drops, so the ReplicaSet removes that idle pod rather than a busy one,
/// unless <see cref="KubernetesScaleTargetOptions.SetPodDeletionCost"/> is off (ACK's ResourcePolicy forbids the
/// annotation and picks the pod itself): the replica was drained before the scaler is called, so it takes no new
/// requests either way, and stays draining until its pod leaves the endpoints.
/// </para>
/// </remarks>
internal sealed partial class KubernetesPoolScaler : IPoolScaler
{
    /// <summary>The annotation the ReplicaSet controller reads to choose which pods go first when it scales down.</summary>
    internal const string DeletionCostAnnotation = "controller.kubernetes.io/pod-deletion-cost";

    /// <summary>Below the default cost of 0 of every other pod: the drained pod goes first.</summary>
    internal const string DeletionCost = "-1000";

    internal const string KServeGroup = "serving.kserve.io";
    internal const string KServeVersion = "v1beta1";
    internal const string KServePlural = "inferenceservices";

    private readonly KubernetesScaleTargetKind _kind;
    private readonly string _name;
    private readonly string _namespace;
    private readonly bool _setPodDeletionCost;
    private readonly KubernetesReplicaProvider? _source;
    private readonly IKubernetes _client;
    private readonly ILogger _logger;

    public KubernetesPoolScaler(
        KubernetesScaleTargetKind kind,
        string name,
        string @namespace,
        KubernetesReplicaProvider? source,
        IKubernetes client,
        ILogger<KubernetesPoolScaler> logger,
        bool setPodDeletionCost = true)
    {
        _kind = kind;
        _setPodDeletionCost = setPodDeletionCost;
        _name = name;
        _namespace = @namespace;
        _source = source;
        _client = client;
        _logger = logger;
    }

    public async Task ScaleOutAsync(ScaleRequest request, CancellationToken cancellationToken)
    {
        if (_kind == KubernetesScaleTargetKind.Deployment)
        {
            await PatchDeploymentReplicasAsync(request.DesiredReplicas, cancellationToken);
        }
        else
        {
            await PatchFloorAsync(request.DesiredReplicas, raise: true, cancellationToken);
        }
    }

    public async Task ScaleInAsync(Replica replica, ScaleRequest request, CancellationToken cancellationToken)
    {
        // The cost first: once the count drops the ReplicaSet chooses at once, and must choose this pod.
        if (!_setPodDeletionCost)
        {
            LogDeletionCostOff(_logger, replica.Id);
        }
        else if (_source?.FindPod(replica) is { } pod)
        {
            var annotation = new JsonObject
            {
                ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { [DeletionCostAnnotation] = DeletionCost } },
            };
            await _client.CoreV1.PatchNamespacedPodAsync(
                new V1Patch(annotation.ToJsonString(), V1Patch.PatchType.MergePatch), pod.Name, pod.Namespace, cancellationToken: cancellationToken);
            LogMarkedForDeletion(_logger, pod.Namespace, pod.Name, replica.Id);
        }
        else
        {
            LogNoPod(_logger, replica.Id);
        }

        if (_kind == KubernetesScaleTargetKind.Deployment)
        {
            await PatchDeploymentReplicasAsync(request.DesiredReplicas, cancellationToken);
        }
        else
        {
            await PatchFloorAsync(request.DesiredReplicas, raise: false, cancellationToken);
        }
    }

    private async Task PatchDeploymentReplicasAsync(int replicas, CancellationToken cancellationToken)
    {
        var patch = new JsonObject { ["spec"] = new JsonObject { ["replicas"] = replicas } };
        await _client.AppsV1.PatchNamespacedDeploymentScaleAsync(
            new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), _name, _namespace, cancellationToken: cancellationToken);
        LogPatched(_logger, "Deployment", _namespace, _name, "spec.replicas", replicas);
    }

    /// <summary>
    /// Moves <c>spec.predictor.minReplicas</c> toward the pool's <paramref name="wanted"/> count plus the pods of the
    /// InferenceService that serve other pools (ACK's ResourcePolicy places one InferenceService's pods on-prem and in
    /// the cloud, and its floor counts both): up only when raising, down only when lowering.
    /// </summary>
    private async Task PatchFloorAsync(int wanted, bool raise, CancellationToken cancellationToken)
    {
        var current = await ReadFloorAsync(cancellationToken);
        var total = wanted + (_source?.PodsInOtherPools ?? 0);
        var floor = current is not { } known ? total : raise ? Math.Max(known, total) : Math.Min(known, total);
        var patch = new JsonObject { ["spec"] = new JsonObject { ["predictor"] = new JsonObject { ["minReplicas"] = floor } } };
        await _client.CustomObjects.PatchNamespacedCustomObjectAsync(
            new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), KServeGroup, KServeVersion, _namespace, KServePlural, _name,
            cancellationToken: cancellationToken);
        LogPatched(_logger, "InferenceService", _namespace, _name, "spec.predictor.minReplicas", floor);
    }

    private async Task<int?> ReadFloorAsync(CancellationToken cancellationToken)
    {
        var service = await _client.CustomObjects.GetNamespacedCustomObjectAsync(
            KServeGroup, KServeVersion, _namespace, KServePlural, _name, cancellationToken);
        var json = service is JsonElement element ? element : JsonSerializer.SerializeToElement(service);
        return json.TryGetProperty("spec", out var spec) && spec.TryGetProperty("predictor", out var predictor)
            && predictor.TryGetProperty("minReplicas", out var min) && min.ValueKind == JsonValueKind.Number
            ? min.GetInt32()
            : null;
    }

    [LoggerMessage(EventId = 5100, Level = LogLevel.Information, Message = "Patched {Kind} {Namespace}/{Name}: {Field} = {Value}")]
    private static partial void LogPatched(ILogger logger, string kind, string @namespace, string name, string field, int value);

    [LoggerMessage(EventId = 5101, Level = LogLevel.Information, Message = "Pod {Namespace}/{Pod} of drained replica {ReplicaId} marked to be deleted first")]
    private static partial void LogMarkedForDeletion(ILogger logger, string @namespace, string pod, string replicaId);

    [LoggerMessage(EventId = 5102, Level = LogLevel.Warning,
        Message = "Replica {ReplicaId} has no known pod; the scale target's controller chooses which pod to remove")]
    private static partial void LogNoPod(ILogger logger, string replicaId);

    [LoggerMessage(EventId = 5103, Level = LogLevel.Information,
        Message = "Replica {ReplicaId} is drained; SetPodDeletionCost is off, so the scale target's controller (or a ResourcePolicy) chooses which pod to remove")]
    private static partial void LogDeletionCostOff(ILogger logger, string replicaId);
}

namespace Gateway.Configuration;

/// <summary>
/// Replicas discovered as the pods behind a Kubernetes service, read from its EndpointSlices. Every pod of the
/// service whose node (or the pod itself) carries <see cref="PoolLabel"/> = <see cref="PoolLabelValue"/> belongs
/// to this pool, so an on-prem pool and a cloud pool can share one service.
/// </summary>
public sealed class KubernetesSourceOptions
{
    /// <summary>Namespace of the service, e.g. <c>default</c>.</summary>
    public string Namespace { get; set; } = "default";

    /// <summary>The service whose EndpointSlices (label <c>kubernetes.io/service-name</c>) list the pods.</summary>
    public string ServiceName { get; set; } = "";

    /// <summary>The endpoint port the replicas serve on: its name (<c>http</c>) or its number (<c>8000</c>).</summary>
    public string Port { get; set; } = "";

    /// <summary>The label that tells pools apart, e.g. Alibaba Cloud ACK's node pool id.</summary>
    public string PoolLabel { get; set; } = "alibabacloud.com/nodepool-id";

    /// <summary>The value of <see cref="PoolLabel"/> that puts a pod in this pool.</summary>
    public string PoolLabelValue { get; set; } = "";

    /// <summary>Whether <see cref="PoolLabel"/> is read from the pod's node (the default) or from the pod.</summary>
    public KubernetesLabelTarget LabelOn { get; set; } = KubernetesLabelTarget.Node;

    /// <summary>Seconds between full re-lists of the EndpointSlices, in case a watch event was missed.</summary>
    public double ResyncSeconds { get; set; } = 300;
}

/// <summary>Which object carries the label that assigns a pod to a pool.</summary>
public enum KubernetesLabelTarget
{
    /// <summary>The node the pod runs on (a node pool label).</summary>
    Node,

    /// <summary>The pod itself.</summary>
    Pod,
}

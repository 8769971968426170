namespace Gateway.Configuration;

/// <summary>
/// Makes a pool elastic: the scale controller adds replicas while demand exceeds what the service's pools carry
/// at its target utilisation, and gives them back, drained, when the peak is over. A pool without it keeps the
/// replicas its source gives it.
/// </summary>
public sealed class ScalingOptions
{
    /// <summary>Replicas the pool keeps however low demand is; 0 lets a cloud pool cost nothing between peaks.</summary>
    public int MinReplicas { get; set; }

    /// <summary>Replicas the pool never goes beyond, however high demand is: the budget's ceiling.</summary>
    public int MaxReplicas { get; set; } = 1;

    /// <summary>
    /// Seconds the wish for more replicas must hold before they are asked for, so a single spike does not start a
    /// node; then the pool is scaled out to the whole count at once.
    /// </summary>
    public double ScaleOutWindowSeconds { get; set; } = 2;

    /// <summary>
    /// Seconds the wish for fewer replicas must hold before one is given back, so load that comes and goes does
    /// not make the pool flap; then replicas leave one at a time, newest first.
    /// </summary>
    public double ScaleInStabilizationSeconds { get; set; } = 120;

    /// <summary>Seconds a leaving replica gets to finish its requests in flight (it takes no new ones) before it is stopped anyway.</summary>
    public double DrainTimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// Seconds replicas asked for may take to join the pool (a cloud node booting, the model loading) before the
    /// controller stops counting them and, if they are still wanted, asks again. Until then they count as the
    /// pool's own, so one peak is asked for once.
    /// </summary>
    public double ProvisioningTimeoutSeconds { get; set; } = 600;

    /// <summary>
    /// Scales the pool by POSTing the replica count it wants to a URL (a cloud's own scaling API behind a small
    /// adapter); its replicas are then found by the pool's source: a Static pool's addresses become candidates that
    /// join once their <c>/health</c> answers 200. Use at most one of Webhook and <see cref="Kubernetes"/>; a Process
    /// pool takes neither.
    /// </summary>
    public WebhookScalerOptions? Webhook { get; set; }

    /// <summary>
    /// Scales the pool by patching a Kubernetes object (a Deployment's scale, or a KServe InferenceService's
    /// <c>minReplicas</c>); its pods are found by the pool's Kubernetes source.
    /// </summary>
    public KubernetesScaleTargetOptions? Kubernetes { get; set; }
}

/// <summary>Where and how a webhook-scaled pool asks for replicas.</summary>
public sealed class WebhookScalerOptions
{
    /// <summary>
    /// Absolute http(s) URL the gateway POSTs <c>{service, namespace, pool, desiredReplicas, currentReplicas, reason}</c>
    /// to, and on scale-in also <c>replica</c>, the address of the drained replica to stop. It is never logged whole:
    /// its path or query may carry a token.
    /// </summary>
    public string Url { get; set; } = "";

    /// <summary>Seconds one attempt may take before it is abandoned and retried.</summary>
    public double TimeoutSeconds { get; set; } = 10;

    /// <summary>Attempts after the first when the receiver fails (5xx, 408, 429, no connection, timeout).</summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>Seconds the gateway stops calling a receiver that keeps failing before it tries again (the circuit breaker's break).</summary>
    public double BreakSeconds { get; set; } = 30;
}

/// <summary>The Kubernetes object a pool's scale is patched on.</summary>
public sealed class KubernetesScaleTargetOptions
{
    /// <summary>What is patched: a Deployment's scale subresource, or a KServe InferenceService's <c>spec.predictor.minReplicas</c>.</summary>
    public KubernetesScaleTargetKind Kind { get; set; } = KubernetesScaleTargetKind.Deployment;

    /// <summary>Name of the Deployment or InferenceService.</summary>
    public string Name { get; set; } = "";

    /// <summary>Its namespace; empty means the namespace of the pool's Kubernetes source.</summary>
    public string Namespace { get; set; } = "";

    /// <summary>
    /// Whether scale-in sets <c>controller.kubernetes.io/pod-deletion-cost</c> on the drained replica's pod before the
    /// count drops, so the ReplicaSet removes that idle pod rather than a busy one (default true). Turn it off where
    /// something else chooses the pod to remove and the annotation is not allowed: Alibaba Cloud ACK documents its
    /// <c>ResourcePolicy</c> as mutually exclusive with it (the policy removes pods in the reverse order of its units).
    /// The replica is drained either way; off, the gateway needs no <c>patch</c> on pods.
    /// </summary>
    public bool SetPodDeletionCost { get; set; } = true;
}

/// <summary>Kinds of Kubernetes scale target.</summary>
public enum KubernetesScaleTargetKind
{
    /// <summary>A Deployment, through its <c>scale</c> subresource.</summary>
    Deployment,

    /// <summary>A KServe InferenceService: its floor <c>spec.predictor.minReplicas</c> rises, and the HPA keeps working above it.</summary>
    InferenceService,
}

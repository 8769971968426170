namespace Gateway.Configuration;

/// <summary>
/// How the gateway reaches its Kubernetes cluster (for discovery, scaling and leader election alike), and whether
/// its replicas elect one leader to scale. Unused by a gateway with no Kubernetes pool and no leader election.
/// </summary>
public sealed class KubernetesClusterOptions
{
    /// <summary>
    /// Path of a kubeconfig file. Empty: in a pod, the pod's service account; elsewhere the files in
    /// <c>KUBECONFIG</c>, else <c>~/.kube/config</c>.
    /// </summary>
    public string Kubeconfig { get; set; } = "";

    /// <summary>The kubeconfig context to use; empty means the file's current context.</summary>
    public string Context { get; set; } = "";

    /// <summary>
    /// Seconds one attempt of an API call may wait for the API server's answer before it is abandoned (and retried
    /// when the call may be). Watches are exempt: they stay open for minutes by design.
    /// </summary>
    public double TimeoutSeconds { get; set; } = 10;

    /// <summary>
    /// Attempts after the first when an API call fails in a way worth retrying: a read (and a merge patch) on 429,
    /// 5xx, 408, no connection or a timeout; a create or replace only on 429, which the API server answers without
    /// having processed the call. A <c>Retry-After</c> from the server is obeyed.
    /// </summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>One gateway replica, the holder of a Lease, scales the elastic pools; the others only serve.</summary>
    public LeaderElectionOptions LeaderElection { get; set; } = new();
}

/// <summary>
/// Leader election on a <c>coordination.k8s.io/v1</c> Lease, for a gateway running as several replicas: every replica
/// serves traffic and exports metrics, but only the Lease's holder makes scaling calls.
/// </summary>
public sealed class LeaderElectionOptions
{
    /// <summary>Elect a leader; off, every gateway scales (right for a gateway that runs alone).</summary>
    public bool Enabled { get; set; }

    /// <summary>Namespace of the Lease; empty means <c>POD_NAMESPACE</c>, else the namespace of the client's context, else <c>default</c>.</summary>
    public string Namespace { get; set; } = "";

    /// <summary>Name of the Lease the gateway replicas compete for; replicas that share it share one leader.</summary>
    public string LeaseName { get; set; } = "inference-gateway";

    /// <summary>This replica's name in the Lease; empty means <c>POD_NAME</c>, else the host name and process id.</summary>
    public string Identity { get; set; } = "";

    /// <summary>Whole seconds a Lease holds without renewal: how long the others wait before taking over from a leader that vanished.</summary>
    public int LeaseDurationSeconds { get; set; } = 15;

    /// <summary>Seconds the leader keeps trying to renew before it stops scaling; shorter than the lease, so it stops before another starts.</summary>
    public double RenewDeadlineSeconds { get; set; } = 10;

    /// <summary>Seconds between two attempts to take or renew the Lease.</summary>
    public double RetryPeriodSeconds { get; set; } = 2;
}

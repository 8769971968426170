using Gateway.Model;

namespace Gateway.Providers;

/// <summary>
/// What a <see cref="ProcessSupervisor"/> runs: how the process is launched, what answers once it is ready, and what
/// the log says at each step (each kind of process keeps its own event ids and words).
/// </summary>
internal interface ISupervisedProcess
{
    /// <summary>
    /// Starts the process and adds its replica to the pool as provisioning; null when the launch failed (logged here,
    /// retried after the back-off like a crash).
    /// </summary>
    Task<ReplicaProcess?> LaunchAsync(CancellationToken stopping);

    /// <summary>The address that answers 200 once the process behind <paramref name="replica"/> is ready.</summary>
    Uri ReadinessAddress(Replica replica);

    /// <summary>The process answered <paramref name="address"/> <paramref name="elapsed"/> after its launch.</summary>
    void Ready(ReplicaProcess child, Uri address, TimeSpan elapsed);

    /// <summary>The process did not answer <paramref name="address"/> within <paramref name="readyTimeout"/>.</summary>
    void NotReadyInTime(ReplicaProcess child, Uri address, TimeSpan readyTimeout);

    /// <summary>The process exited before it answered.</summary>
    void ExitedBeforeReady(ReplicaProcess child);

    /// <summary>The process exited after it had become ready.</summary>
    void Exited(ReplicaProcess child);

    /// <summary>Supervising the process threw; it is stopped and started again.</summary>
    void SupervisionFailed(ReplicaProcess child, Exception exception);

    /// <summary>The process is out of the pool and stopped.</summary>
    void Retired(ReplicaProcess child);

    /// <summary>The next launch comes after <paramref name="delay"/>, following <paramref name="failures"/> failures in a row.</summary>
    void RestartScheduled(TimeSpan delay, int failures);
}

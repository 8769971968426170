using Gateway.Model;

namespace Gateway.Admission;

/// <summary>Why a request did not get a replica.</summary>
internal enum AdmissionFailure
{
    None,

    /// <summary>The queue already holds its maximum: 429 <c>queue_full</c>.</summary>
    QueueFull,

    /// <summary>
    /// A <see cref="Configuration.PriorityClass.Sheddable"/> request waiting in a full queue gave its place to a more
    /// important arrival: 503 <c>shed</c>.
    /// </summary>
    Shed,

    /// <summary>The request waited its maximum: 503 <c>queue_timeout</c>.</summary>
    QueueTimeout,

    /// <summary>The client went away while waiting; no backend ever saw the request.</summary>
    ClientGone,

    /// <summary>The gateway is shutting down and takes no new work: 503 <c>shutting_down</c>.</summary>
    Draining,
}

/// <summary>A replica with a reserved slot, or why there is none.</summary>
internal readonly record struct AdmissionOutcome(Replica? Replica, AdmissionFailure Failure, TimeSpan Waited)
{
    public static AdmissionOutcome Placed(Replica replica, TimeSpan waited) => new(replica, AdmissionFailure.None, waited);

    public static AdmissionOutcome Failed(AdmissionFailure failure, TimeSpan waited) => new(null, failure, waited);
}

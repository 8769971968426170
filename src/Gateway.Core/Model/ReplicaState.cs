namespace Gateway.Model;

/// <summary>Where a replica is in its life.</summary>
public enum ReplicaState
{
    /// <summary>Starting (a node booting, weights loading); takes no requests yet.</summary>
    Provisioning,

    /// <summary>Serving; takes requests while it has a free slot.</summary>
    Ready,

    /// <summary>Leaving: takes no new requests, finishes the ones it has.</summary>
    Draining,

    /// <summary>Gone.</summary>
    Stopped,
}

namespace Gateway.Model;

/// <summary>
/// Told when a pool may have room for one more request: a slot was given back, a replica joined ready, became ready
/// again, recovered its health, or reported less load. The model calls it and knows nothing of who listens; the
/// service's queue registers itself on each of its pools (as YARP's <c>IClusterChangeListener</c> hears of cluster
/// changes), so a waiting request takes the room at once.
/// </summary>
public interface ICapacityListener
{
    /// <summary>Room may have freed in <paramref name="pool"/>; called on the thread that freed it, so it must be quick.</summary>
    void OnCapacityFreed(Pool pool);
}

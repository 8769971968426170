using Gateway.Model;

namespace Gateway.Providers;

/// <summary>
/// A source whose replicas are stopped by someone else after a scale-in: a pod the ReplicaSet deletes later, a server
/// a webhook's receiver stops. Told which replica the scale controller gave back, it keeps it out of rotation (and
/// out of the controller's count) until it is really gone, however ready it still looks meanwhile.
/// </summary>
internal interface IRetiringReplicaSource : IReplicaSource
{
    /// <summary>Keeps <paramref name="replica"/>, which the controller has drained and gives back, from serving again.</summary>
    void Retire(Replica replica);
}

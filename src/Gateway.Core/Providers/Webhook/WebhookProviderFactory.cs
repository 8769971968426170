using Gateway.Model;
using Microsoft.Extensions.Logging;

namespace Gateway.Providers;

/// <summary>
/// Makes <see cref="CandidateReplicaProvider"/>s for pools scaled through a webhook: the receiver starts servers
/// somewhere, and the pool's <c>Static</c> addresses say where they may appear.
/// </summary>
internal sealed class WebhookProviderFactory(
    WebhookScalers scalers, IHttpClientFactory clients, TimeProvider time, ILogger<CandidateReplicaProvider> logger) : IReplicaProviderFactory
{
    public string Kind => ReplicaProviders.WebhookKind;

    public IReplicaProvider Create(Pool pool) => new CandidateReplicaProvider(
        pool,
        pool.Options.Static,
        HealthPolicy.From(pool.Options.Health),
        clients.CreateClient(ReplicaProviders.ProbeClientName),
        time,
        logger,
        scalers.CreateScaler(pool));
}

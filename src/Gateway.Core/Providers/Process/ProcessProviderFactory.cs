using Gateway.Model;
using Microsoft.Extensions.Logging;

namespace Gateway.Providers;

/// <summary>Makes <see cref="ProcessReplicaProvider"/>s: one local process per replica, from the pool's <c>Process</c> command.</summary>
internal sealed class ProcessProviderFactory(
    ChildProcessLauncher launcher, IHttpClientFactory clients, TimeProvider time, ILogger<ProcessReplicaProvider> logger) : IReplicaProviderFactory
{
    public string Kind => ReplicaProviders.ProcessKind;

    public IReplicaProvider Create(Pool pool) =>
        new ProcessReplicaProvider(pool, pool.Options.Process!, launcher, clients.CreateClient(ReplicaProviders.ProbeClientName), time, logger);
}

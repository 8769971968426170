namespace Gateway.Providers;

/// <summary>Wires the replica providers into the gateway.</summary>
internal static class ProvidersServiceCollectionExtensions
{
    /// <summary>
    /// Registers the built-in provider kinds (<c>Static</c>, <c>Process</c>, <c>Webhook</c>) and the hosted
    /// <see cref="ReplicaProviders"/> that makes and starts one provider per pool. Hosts add other kinds by registering
    /// an <see cref="IReplicaProviderFactory"/>.
    /// </summary>
    public static IServiceCollection AddReplicaProviders(this IServiceCollection services)
    {
        services.AddSingleton<ChildProcessLauncher>();
        services.AddHttpClient(ReplicaProviders.ProbeClientName);
        services.AddSingleton<WebhookScalers>();
        services.AddSingleton<IReplicaProviderFactory, StaticProviderFactory>();
        services.AddSingleton<IReplicaProviderFactory, ProcessProviderFactory>();
        services.AddSingleton<IReplicaProviderFactory, WebhookProviderFactory>();
        services.AddSingleton<ReplicaProviders>();
        return services.AddHostedService(sp => sp.GetRequiredService<ReplicaProviders>());
    }
}

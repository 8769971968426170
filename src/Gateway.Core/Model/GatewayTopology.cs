using System.Collections.Frozen;
using Gateway.Configuration;

namespace Gateway.Model;

/// <summary>
/// The services built from configuration, and how a request finds its service: by the Host header
/// (<c>{name}-{namespace}.{domain}</c> or a listed host, port and case ignored) or else by the body's
/// <c>model</c>. Destinations come only from here, never from the request.
/// </summary>
public sealed class GatewayTopology
{
    private readonly FrozenDictionary<string, InferenceService> _byHost;
    private readonly FrozenDictionary<string, InferenceService> _byModel;

    /// <summary>The services, pools and (as yet empty) replica lists <paramref name="options"/> describe.</summary>
    public GatewayTopology(GatewayOptions options)
    {
        var services = new List<InferenceService>();
        var byHost = new Dictionary<string, InferenceService>(StringComparer.OrdinalIgnoreCase);
        var byModel = new Dictionary<string, InferenceService>(StringComparer.Ordinal);
        foreach (var serviceOptions in options.Services)
        {
            var service = new InferenceService(serviceOptions, services.Count);
            services.Add(service);
            byHost[$"{service.Name}-{service.Namespace}.{options.Domain}"] = service;
            foreach (var host in serviceOptions.Hosts)
            {
                byHost[host] = service;
            }

            foreach (var model in serviceOptions.Models)
            {
                byModel[model] = service;
            }
        }

        Services = services;
        _byHost = byHost.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        _byModel = byModel.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>Every service, in configuration order.</summary>
    public IReadOnlyList<InferenceService> Services { get; }

    /// <summary>The service a Host header names (without its port), or null.</summary>
    public InferenceService? FindByHost(string host) =>
        host.Length > 0 && _byHost.TryGetValue(host, out var service) ? service : null;

    /// <summary>The service that serves <paramref name="model"/>, or null.</summary>
    public InferenceService? FindByModel(string model) =>
        _byModel.TryGetValue(model, out var service) ? service : null;

    /// <summary>Finds a service by name and namespace.</summary>
    public InferenceService? Find(string name, string @namespace)
    {
        foreach (var service in Services)
        {
            if (service.Name == name && service.Namespace == @namespace)
            {
                return service;
            }
        }

        return null;
    }
}

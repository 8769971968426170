using Gateway.Configuration;
using k8s.Models;
using Microsoft.Extensions.Configuration;

namespace Gateway.Kubernetes.Tests.Deploy;

/// <summary>The kustomizations under <c>deploy/</c>, rendered with <see cref="Kubectl"/>, and the gateway configuration each one carries.</summary>
internal static class Overlays
{
    public const string Base = "base";
    public const string VllmDeployments = "vllm-deployments";
    public const string AckEdge = "ack-edge";
    public const string Keda = "keda";
    public const string Monitoring = "monitoring";

    /// <summary>The kustomizations that run a gateway.</summary>
    public static readonly string[] Gateways = [Base, VllmDeployments, AckEdge, Keda];

    public static readonly string[] All = [.. Gateways, Monitoring];

    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static string Folder(string overlay) => overlay switch
    {
        Base => Path.Combine(RepositoryRoot, "deploy", "kubernetes", "base"),
        // Kustomize reads files only at or below its kustomization, and the monitoring's are deploy/grafana and deploy/prometheus.
        Monitoring => Path.Combine(RepositoryRoot, "deploy"),
        _ => Path.Combine(RepositoryRoot, "deploy", "kubernetes", "overlays", overlay),
    };

    public static IReadOnlyList<RenderedObject> Objects(string overlay) => RenderedObject.Parse(overlay, Kubectl.Kustomize(Folder(overlay)));

    public static RenderedObject Single(string overlay, string kind, string? name = null) =>
        Assert.Single(Objects(overlay), o => o.Kind == kind && (name is null || o.Name == name));

    /// <summary>The gateway's Deployment of the overlay.</summary>
    public static V1Deployment Gateway(string overlay) => Single(overlay, "Deployment", "inference-gateway").As<V1Deployment>();

    /// <summary>The configuration in the ConfigMap the gateway's Deployment mounts, loaded and validated as the gateway does at start.</summary>
    public static GatewayOptions Configuration(string overlay)
    {
        var mounted = Assert.Single(Gateway(overlay).Spec.Template.Spec.Volumes, v => v.Name == "config").ConfigMap.Name;
        var map = Single(overlay, "ConfigMap", mounted).As<V1ConfigMap>();
        using var json = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(map.Data["gateway.json"]));
        return GatewayConfiguration.Load(new ConfigurationBuilder().AddJsonStream(json).Build());
    }

    private static string FindRepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Gateway.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException("Gateway.sln not found above " + AppContext.BaseDirectory);
    }
}

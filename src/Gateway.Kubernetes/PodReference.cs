namespace Gateway.Kubernetes;

/// <summary>The pod behind a replica, as its endpoint names it.</summary>
internal sealed record PodReference(string Namespace, string Name);

using Gateway.Hosting;
using Gateway.Kubernetes;

namespace Gateway.Host;

/// <summary>The gateway's entry point: everything else lives in Gateway.Core, and Kubernetes discovery, scaling and leader election in Gateway.Kubernetes.</summary>
internal static class Program
{
    public static Task<int> Main(string[] args) => GatewayProgram.RunAsync(args, services => services.AddKubernetes());
}

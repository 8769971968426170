using Gateway.Hosting;
using Gateway.Kubernetes;
using Gateway.Planning;

namespace Gateway.Host;

/// <summary>
/// The gateway's entry point: everything else lives in Gateway.Core, Kubernetes discovery, scaling and leader election
/// in Gateway.Kubernetes, and the <c>plan</c> command (the what-if planner) in Gateway.Planning.
/// </summary>
internal static class Program
{
    public static Task<int> Main(string[] args) => args is ["plan", ..]
        ? Task.FromResult(PlanCommand.Run(args[1..], Console.Out, Console.Error))
        : GatewayProgram.RunAsync(args, services => services.AddKubernetes());
}

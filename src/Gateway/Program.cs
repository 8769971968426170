using Gateway.Hosting;

namespace Gateway.Host;

/// <summary>The gateway's entry point: everything else lives in Gateway.Core.</summary>
internal static class Program
{
    public static Task<int> Main(string[] args) => GatewayProgram.RunAsync(args);
}
